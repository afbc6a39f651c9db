#!/usr/bin/env bash
# Make the root filesystem of the test host that boots systemd (the Molecule scenario supervised):
# a minimal Debian with systemd as init, openssh-server, python3, runc and busybox-static (for the
# busybox rootfs of the containers it supervises). Built once per machine: a second run finds the
# stamp and does nothing.
#
#   systemd-host-image.sh FOLDER [SUITE] [MIRROR]     the rootfs goes to FOLDER/rootfs
set -euo pipefail
folder=${1:?usage: systemd-host-image.sh FOLDER [SUITE] [MIRROR]}
stamp="$folder/.oci_runtime_runc.systemd-host"
# shellcheck source=tests/files/debian-rootfs.sh
. "$(dirname "$0")/debian-rootfs.sh"
start_image "$folder" "$stamp"
suite=$(debian_rootfs "$work/rootfs" systemd,systemd-sysv,dbus,openssh-server,python3,runc,busybox-static,procps \
  "${2:-}" "${3:-}")
# What a container has no use for and would wait on at boot: consoles, time sync, udev's triggers.
for unit in getty.target console-getty.service systemd-timesyncd.service systemd-udevd.service \
    systemd-udev-trigger.service systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer; do
  ln -sf /dev/null "$work/rootfs/etc/systemd/system/$unit"
done
# sshd: keys only, for root; host keys are made per host at boot (testhosts.sh).
rm -f "$work/rootfs/etc/ssh/ssh_host_"*
cat > "$work/rootfs/etc/ssh/sshd_config.d/oci-runtime-runc-tests.conf" <<'CONF'
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
MaxSessions 50
MaxStartups 50
CONF
rm -rf "$folder"
mkdir -p "$folder"
mv "$work/rootfs" "$folder/rootfs"
echo "$suite $(date -u +%FT%TZ)" > "$stamp"
