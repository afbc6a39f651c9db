#!/usr/bin/env bash
# Make the OCI image with Python that the connection tests and the Molecule instances scenario run:
# a minimal Debian (debootstrap --variant=minbase, with python3) in an OCI layout, tag "python".
# Built once per machine: a second run finds the layout complete and does nothing.
#
#   python-image.sh LAYOUT [SUITE] [MIRROR]
set -euo pipefail
layout=${1:?usage: python-image.sh LAYOUT [SUITE] [MIRROR]}
# The machine's own Debian release, else bookworm (an Ubuntu codename is not a suite of the Debian mirror).
suite=${2:-$(. /etc/os-release && if [[ ${ID:-} == debian && -n ${VERSION_CODENAME:-} ]]; then
  echo "$VERSION_CODENAME"; else echo bookworm; fi)}
mirror=${3:-http://deb.debian.org/debian}
stamp="$layout/.oci_runtime_runc.python-image"

if [[ -f $stamp ]]; then
  exit 0
fi
work=$(mktemp -d "${layout%/}.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
debootstrap --variant=minbase --include=python3 "$suite" "$work/rootfs" "$mirror" > "$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
# What a container needs no copy of: the package cache and lists.
rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
umoci init --layout "$work/layout"
umoci new --image "$work/layout:python"
umoci insert --image "$work/layout:python" "$work/rootfs" /
umoci config --image "$work/layout:python" --config.cmd /bin/sh --config.workingdir /
rm -rf "$layout"
mkdir -p "$(dirname "$layout")"
mv "$work/layout" "$layout"
echo "$suite $(date -u +%FT%TZ)" > "$stamp"
