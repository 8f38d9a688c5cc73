"""Guest networking (Eucalyptus EDGE mode): the zone's network view and its appliers.

:mod:`server.net.view` computes, from the CLC's records, what each node must program
(its instances' addresses, MACs, public addresses, groups, and the groups' rules);
:mod:`server.net.applier` is the one interface that applies such a view to a node, with
a recording implementation; :mod:`server.net.nftables` renders a view as an nftables
ruleset; :mod:`server.nc.edge` is the real implementation for libvirt zones;
:mod:`server.net.service` pushes views to nodes when the records change.
"""
