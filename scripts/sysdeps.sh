#!/usr/bin/env bash
# Install the Debian packages the cloud and its tests need, if any is missing.
# libvirt-dev + pkg-config build libvirt-python; qemu-utils makes qcow2 volumes;
# man-db/groff render the man pages; tmux drives the TUI test; postgresql runs the
# PostgreSQL test pass.  libvirtd + QEMU, busybox-static, cpio, genisoimage and
# e2fsprogs run real guests (scripts/libvirtd.sh, scripts/build-test-image.sh; the NC
# makes config drives with genisoimage).  chromium + chromium-driver run the web
# console's browser test; slapd is the directory of the LDAP sync test; dnsmasq-base
# and nftables give guests DHCP and enforced security groups (network = "edge" zones);
# haproxy is the data plane of Elastic Load Balancing.
set -euo pipefail
PKGS=(pkg-config libvirt-dev qemu-utils man-db groff-base tmux postgresql haproxy
      libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86
      busybox-static cpio genisoimage e2fsprogs chromium chromium-driver
      slapd dnsmasq-base nftables)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "sysdeps: please install: ${missing[*]}" >&2; exit 1; fi
fi
echo "sysdeps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
$SUDO apt-get install -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}" >/dev/null
