#!/usr/bin/env bash
# A network namespace standing in for a node's network, for tests of guest networking:
#
#   scripts/netns-node.sh up NAME     # creates namespace euca-test-NAME; prints its name
#   scripts/netns-node.sh down NAME   # stops what runs in it and deletes it (and all in it)
#
# Inside it: loopback up, IPv4 forwarding on, and an interface "eucapub0" that
# holds the public /32s of elastic IPs (a zone's network_public_interface).  The cloud
# puts the zone's bridge, the guests' taps, dnsmasq and the nftables rules in it
# (zone setting network_namespace = "euca-test-NAME"); nothing touches the host's own
# interfaces, routes or firewall.  Needs root, iproute2, nftables and dnsmasq.
set -euo pipefail
cmd=${1:-}
name=${2:?usage: $0 up|down NAME}
NS="euca-test-$name"

case "$cmd" in
  up)
    [ "$(id -u)" -eq 0 ] || { echo "netns-node.sh: must run as root" >&2; exit 1; }
    ip netns list | grep -qw "$NS" || ip netns add "$NS"
    ip -n "$NS" link set lo up
    ip netns exec "$NS" sysctl -q -w net.ipv4.ip_forward=1
    ip -n "$NS" link show eucapub0 >/dev/null 2>&1 || ip -n "$NS" link add eucapub0 type bridge  # a port-less bridge: no dummy module here
    ip -n "$NS" link set eucapub0 up
    echo "$NS"
    ;;
  down)
    ip netns list | grep -qw "$NS" || exit 0
    # dnsmasq and anything else the tests started in there, by pid.
    for pid in $(ip netns pids "$NS"); do kill "$pid" 2>/dev/null || true; done
    for _ in $(seq 1 50); do [ -z "$(ip netns pids "$NS")" ] && break; sleep 0.1; done
    ip netns del "$NS"
    ;;
  *) echo "usage: $0 up|down NAME" >&2; exit 2 ;;
esac
