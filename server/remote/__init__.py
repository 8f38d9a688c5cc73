"""Remote ports: components in separate processes and on separate hosts.

The Cluster and Node ports (``server/ports``) each have an HTTP implementation here:
a server side run by the component's own process and a client proxy that satisfies
the same Protocol.  Messages are CBOR over HTTP; every request is signed with the
sending component's key (:mod:`server.remote.signing`), the role WS-Security played
between Eucalyptus' components.
"""
