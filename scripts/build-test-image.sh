#!/usr/bin/env bash
# Build the tiny test guest from Debian packages (nothing binary is checked in):
#
#   scripts/build-test-image.sh OUTDIR
#
# OUTDIR/vmlinuz     the kernel (eki): Debian's cloud kernel, extracted from its .deb
# OUTDIR/initrd.gz   the ramdisk (eri): busybox-static + the virtio/isofs modules + /init
# OUTDIR/disk.img    the machine image (emi): a 4 MiB ext2 file system with a marker file
#
# The guest's /init mounts its root disk and prints its marker, finds the NoCloud config
# drive (an ISO 9660 disk labelled "cidata"), prints its meta-data and user-data, then
# looks at its block devices once a second, printing them when they change (so
# hot-plugged volumes show up) and every minute, and stays up.  Every line it prints starts with "EUCA-" so tests can find it in the console.
#
# Networking (only when the instance has a NIC, i.e. its zone has guest networking on):
# the guest loads virtio_net, asks for its address by DHCP (busybox udhcpc), prints
# "EUCA-NET: eth0 IP/MASK ..." and reads its instance-id, public key and user-data from
# http://169.254.169.254/latest/ ("EUCA-MD-INSTANCE-ID:", "EUCA-MD-PUBLIC-KEY:",
# "EUCA-MD-USER-DATA:" lines).  User-data then says what else to run:
#   - a script starting with "#!" is run by sh in the background once the network is up
#     (it may use "http-get HOST[:PORT] PATH", which prints the body of a 200 answer);
#   - otherwise each "port=N" line starts busybox httpd on TCP port N, answering
#     GET / with the instance id (a tiny service for tests and load balancers).
# Needs: apt-get (download only), dpkg-deb, busybox-static, cpio, gzip, e2fsprogs.
# Re-running does nothing when OUTDIR holds a build by this version of the script.
set -euo pipefail
OUT=${1:?usage: $0 OUTDIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
STAMP=$(sha256sum "$0" | cut -c1-16)
if [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initrd.gz" ] && [ -s "$OUT/disk.img" ] &&
   [ "$(cat "$OUT/.built-by" 2>/dev/null)" = "$STAMP" ]; then
  exit 0
fi
for tool in dpkg-deb cpio gzip mkfs.ext2; do
  command -v "$tool" >/dev/null || { echo "build-test-image: $tool is missing" >&2; exit 1; }
done
# The guest has no libc: busybox must be the static build.
if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
  echo "build-test-image: need a static /bin/busybox (apt-get install busybox-static)" >&2; exit 1
fi
WORK=$(mktemp -d /tmp/euca-image.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# apt-get download drops privileges to _apt: it needs a directory it can write.
chmod 777 "$WORK"

# -- kernel: the newest linux-image-*-cloud-amd64 the cloud meta-package depends on -------
KPKG=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
if [ -z "$KPKG" ]; then
  echo "build-test-image: no linux-image-cloud-amd64 in the apt index (run apt-get update)" >&2
  exit 1
fi
(cd "$WORK" && apt-get download -q "$KPKG" >/dev/null)
mkdir -p "$WORK/k"
dpkg-deb --fsys-tarfile "$WORK/${KPKG}"_*.deb | tar -x -C "$WORK/k" --wildcards \
  './boot/vmlinuz-*' './lib/modules/*/kernel/drivers/virtio/*.ko' \
  './lib/modules/*/kernel/drivers/block/virtio_blk.ko' './lib/modules/*/kernel/fs/isofs/isofs.ko' \
  './lib/modules/*/kernel/drivers/cdrom/cdrom.ko' './lib/modules/*/kernel/drivers/net/virtio_net.ko' \
  './lib/modules/*/kernel/drivers/net/net_failover.ko' './lib/modules/*/kernel/net/core/failover.ko'
KMOD=$(ls -d "$WORK"/k/lib/modules/*/kernel)

# -- ramdisk: busybox + modules + /init --------------------------------------------------
R="$WORK/root"
mkdir -p "$R"/{bin,sbin,proc,sys,dev,mnt/root,mnt/seed,mod,tmp,www}
cp /bin/busybox "$R/bin/busybox"
# In the Debian cloud kernel virtio-pci, virtio-blk and isofs (which needs cdrom) are
# modules: load them in dependency order.
MODS="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk cdrom isofs"
# virtio_net (and the failover modules it needs) for the NIC of a networked zone.
MODS="$MODS failover net_failover virtio_net"
for m in $MODS; do
  cp "$(find "$KMOD" -name "$m.ko" | head -1)" "$R/mod/$m.ko"
done
for app in sh mount umount cat ls tr sleep echo insmod uname grep head sed poweroff \
           ip ifconfig route udhcpc hostname ping httpd nc timeout seq date kill rm; do
  ln -s busybox "$R/bin/$app"
done
cat > "$R/init" <<EOF
#!/bin/sh
# The Eucalyptus test guest's init: report what the cloud gave this instance.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "EUCA-GUEST-UP: \$(uname -r)"
for m in $MODS; do insmod /mod/\$m.ko 2>/dev/null; done
sleep 0.3
# Root disk: the machine image (emi), on the first virtio disk.
if mount -t ext2 -o ro /dev/vda /mnt/root 2>/dev/null; then
  echo "EUCA-ROOT: \$(cat /mnt/root/euca-image-marker 2>/dev/null || echo no-marker)"
else
  echo "EUCA-ROOT: cannot mount /dev/vda"
fi
# NoCloud config drive: the ISO 9660 disk holding meta-data (volume id cidata).
for dev in /sys/block/vd*; do
  name=\${dev##*/}
  [ "\$name" = vda ] && continue
  if mount -t iso9660 -o ro /dev/\$name /mnt/seed 2>/dev/null; then
    if [ -f /mnt/seed/meta-data ]; then
      echo "EUCA-SEED: /dev/\$name"
      sed 's/^/EUCA-META: /' /mnt/seed/meta-data
      # \$(...) drops trailing newlines and echo ends the last line, whatever the data.
      [ -s /mnt/seed/user-data ] && echo "\$(head -c 2048 /mnt/seed/user-data)" | sed 's/^/EUCA-USER-DATA: /'
      cp /mnt/seed/user-data /tmp/user-data 2>/dev/null
      break
    fi
    umount /mnt/seed
  fi
done
echo "EUCA-READY"
[ -e /sys/class/net/eth0 ] && /bin/guest-net &
# Look once a second; print when the set changes (a hot-plug) and every minute anyway,
# so the console (of which GetConsoleOutput returns the last 64 KiB) keeps the lines above.
last=""; n=0
while true; do
  now="\$(ls /sys/block | grep -v '^loop' | tr '\n' ' ')"
  if [ "\$now" != "\$last" ] || [ \$n -ge 60 ]; then
    echo "EUCA-BLOCK: \$now"; last="\$now"; n=0
  fi
  n=\$((n + 1))
  sleep 1
done
EOF
chmod 755 "$R/init"
# udhcpc's script: configure eth0 from the lease (address, default route, host name).
cat > "$R/bin/udhcpc.script" <<'EOF'
#!/bin/sh
case "$1" in
  deconfig) ifconfig "$interface" 0.0.0.0 up ;;
  bound|renew)
    ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up
    for gw in $router; do route add default gw "$gw" dev "$interface"; break; done
    [ -n "$hostname" ] && hostname "$hostname"
    echo "EUCA-NET: $interface $ip/${mask:-24} router ${router:-none} hostname ${hostname:-none}" > /dev/console ;;
esac
exit 0
EOF
chmod 755 "$R/bin/udhcpc.script"
# http-get HOST[:PORT] PATH: print the body of a 200 answer (exit 1 otherwise).  Over
# nc: busybox-static's wget crashes in these guests.
cat > "$R/bin/http-get" <<'EOF'
#!/bin/sh
host=${1%%:*}; port=${1#*:}; [ "$port" = "$1" ] && port=80
printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$2" "$host" | nc -w 2 "$host" "$port" 2>/dev/null | tr -d '\r' > /tmp/http-get.$$
head -1 /tmp/http-get.$$ | grep -q ' 200 ' || { rm -f /tmp/http-get.$$; exit 1; }
sed '1,/^$/d' /tmp/http-get.$$
rm -f /tmp/http-get.$$
EOF
chmod 755 "$R/bin/http-get"
# The network part of init, run in the background so the block device loop goes on.
cat > "$R/bin/guest-net" <<'EOF'
#!/bin/sh
export PATH=/bin
ip link set lo up
ip link set eth0 up
udhcpc -i eth0 -s /bin/udhcpc.script -t 60 -T 1 -A 1 -f -q >/dev/null 2>&1 || { echo "EUCA-NET: no lease"; exit 0; }
for _ in $(seq 1 30); do
  iid=$(http-get 169.254.169.254 /latest/meta-data/instance-id) && [ -n "$iid" ] && break
  sleep 1
done
echo "EUCA-MD-INSTANCE-ID: ${iid:-none}"
echo "EUCA-MD-PUBLIC-KEY: $(http-get 169.254.169.254 /latest/meta-data/public-keys/0/openssh-key | head -1)"
http-get 169.254.169.254 /latest/user-data > /tmp/md-user-data || : > /tmp/md-user-data
[ -s /tmp/md-user-data ] && echo "$(head -c 2048 /tmp/md-user-data)" | sed 's/^/EUCA-MD-USER-DATA: /'
[ -f /tmp/user-data ] || exit 0
echo "${iid:-unknown}" > /www/index.html
if head -c 2 /tmp/user-data | grep -q '^#!'; then
  sh /tmp/user-data </dev/null >/dev/console 2>&1 &
else
  for port in $(sed -n 's/^port=\([0-9][0-9]*\).*/\1/p' /tmp/user-data); do
    httpd -p "$port" -h /www && echo "EUCA-HTTPD: $port"
  done
fi
EOF
chmod 755 "$R/bin/guest-net"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1 > "$WORK/initrd.gz")

# -- machine image: ext2 with a marker file (mkfs.ext2 -d fills it without mounting) ---
mkdir -p "$WORK/img"
echo "euca-test-image v1" > "$WORK/img/euca-image-marker"
truncate -s 4M "$WORK/disk.img"
mkfs.ext2 -q -F -L euca-root -d "$WORK/img" "$WORK/disk.img"

# Move into place last, so a half-built OUTDIR is never mistaken for a finished one.
cp "$(ls "$WORK"/k/boot/vmlinuz-* | head -1)" "$OUT/vmlinuz.tmp" && mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"
mv "$WORK/initrd.gz" "$OUT/initrd.gz.tmp" && mv "$OUT/initrd.gz.tmp" "$OUT/initrd.gz"
mv "$WORK/disk.img" "$OUT/disk.img.tmp" && mv "$OUT/disk.img.tmp" "$OUT/disk.img"
echo "$STAMP" > "$OUT/.built-by"
