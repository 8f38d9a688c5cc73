"""euca-tui: a live terminal dashboard for Eucalyptus and AWS, over the euca2ools client library.

Start it like any euca-* command; it reads the same configuration::

    EUCA_CONFIG_PATH=DATA_DIR/euca2ools.ini euca-tui
    euca-tui --region admin@localhost          # a user and region from euca2ools.ini
    euca-tui --region aws:us-east-1            # AWS, credentials from AWS_ACCESS_KEY_ID...

Views (keys 1-9, 0): instances (with a detail pane: d or Enter), capacity (zones, VM types
free/max, nodes for the cloud admin), images, key pairs, security groups, addresses, volumes,
snapshots, buckets, and the event log of state changes seen since start; w alarms, g Auto
Scaling groups, e load balancers (listeners and instance health).  Every table
refreshes live (``--interval``, 2 s), filters with ``/`` and sorts with ``s``/``S``.
Actions: l launch, t/p/u/b terminate/stop/start/reboot (space marks several), n tag,
c/x create/delete a key pair, a/i/u/x allocate/associate/disassociate/release an address,
c/a/u/s/x create/attach/detach/snapshot/delete a volume (``s`` sorts elsewhere), c/x create a
volume from/delete a snapshot, a/x register/deregister an instance of a load balancer.
``?`` lists every key, ctrl+p opens the command palette, q quits.

Modules: ``cloud`` (calls, thread-safe), ``model`` (responses to rows, pure), ``refresh``
(the worker loop), ``table`` (the live table widget), ``views``, ``screens`` (forms and
dialogs), ``actions``, ``app`` (the app and ``main``).
"""
