#!/usr/bin/env bash
# Make the OCI image with Python that the connection tests and the Molecule instances scenario run:
# a minimal Debian (debootstrap --variant=minbase, with python3) in an OCI layout, tag "python".
# Built once per machine: a second run finds the layout complete and does nothing.
#
#   python-image.sh LAYOUT [SUITE] [MIRROR]
set -euo pipefail
layout=${1:?usage: python-image.sh LAYOUT [SUITE] [MIRROR]}
stamp="$layout/.oci_runtime_runc.python-image"
# shellcheck source=tests/files/debian-rootfs.sh
. "$(dirname "$0")/debian-rootfs.sh"
start_image "$layout" "$stamp"
suite=$(debian_rootfs "$work/rootfs" python3 "${2:-}" "${3:-}")
umoci init --layout "$work/layout"
umoci new --image "$work/layout:python"
umoci insert --image "$work/layout:python" "$work/rootfs" /
umoci config --image "$work/layout:python" --config.cmd /bin/sh --config.workingdir /
rm -rf "$layout"
mkdir -p "$(dirname "$layout")"
mv "$work/layout" "$layout"
echo "$suite $(date -u +%FT%TZ)" > "$stamp"
