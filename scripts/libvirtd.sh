#!/usr/bin/env bash
# Start or stop a libvirtd (+ virtlogd) for real QEMU guests on a machine without systemd.
#
#   scripts/libvirtd.sh start [STATE_DIR]   # prints nothing on success; exits 1 if it cannot
#   scripts/libvirtd.sh stop  [STATE_DIR]   # stops only the daemons this script started
#
# STATE_DIR (default /run/euca-libvirtd) holds the pid files.  A libvirtd that already
# answers on qemu:///system is reused and left alone by `stop`.  The set-up steps are the
# ones this machine kind needs (see the README's "Real instances" section): a libvirt-qemu
# user, QEMU running as root (/dev/kvm is root-only and unusable here; with the default
# user libvirt re-probes QEMU on every call, ~48 s per define), and /var/log/libvirt.
set -euo pipefail
cmd=${1:-}
STATE=${2:-/run/euca-libvirtd}
URI=qemu:///system

say() { echo "libvirtd.sh: $*" >&2; }

up() { virsh -q -c "$URI" version >/dev/null 2>&1; }

start() {
  if ! command -v libvirtd >/dev/null && [ ! -x /usr/sbin/libvirtd ]; then
    say "libvirtd is not installed (apt-get install libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86)"
    exit 1
  fi
  if [ "$(id -u)" -ne 0 ]; then say "must run as root"; exit 1; fi
  mkdir -p "$STATE"
  if up; then
    say "reusing the libvirtd already running"
    return 0
  fi
  # libvirtd looks this user up before it reads qemu.conf, and refuses to start without it.
  getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
  getent passwd libvirt-qemu >/dev/null || \
    useradd -r -g libvirt-qemu -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
  mkdir -p /etc/libvirt /var/log/libvirt /var/lib/libvirt /var/cache/libvirt
  grep -qs '^user = "root"' /etc/libvirt/qemu.conf || \
    printf 'user = "root"\ngroup = "root"\n' >> /etc/libvirt/qemu.conf
  /usr/sbin/virtlogd -d -p "$STATE/virtlogd.pid"
  /usr/sbin/libvirtd -d -p "$STATE/libvirtd.pid"
  # The first connection probes QEMU's capabilities (~8 s here); wait up to 60 s.
  for _ in $(seq 1 300); do up && break; sleep 0.2; done
  if ! up; then say "libvirtd did not answer on $URI"; stop; exit 1; fi
  touch "$STATE/started-here"
}

stop() {
  [ -f "$STATE/started-here" ] || [ -f "$STATE/libvirtd.pid" ] || return 0
  # Guests first, so no qemu-system process outlives the daemon.
  for d in $(virsh -q -c "$URI" list --name 2>/dev/null); do
    virsh -q -c "$URI" destroy "$d" >/dev/null 2>&1 || true
  done
  for name in libvirtd virtlogd; do
    pidfile="$STATE/$name.pid"
    if [ -f "$pidfile" ]; then
      pid=$(cat "$pidfile")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      rm -f "$pidfile"
    fi
  done
  rm -f "$STATE/started-here"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop [STATE_DIR]" >&2; exit 2 ;;
esac
