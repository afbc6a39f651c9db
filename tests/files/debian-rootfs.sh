#!/usr/bin/env bash
# What the scripts that make Debian test images share (sourced, not run):
#
#   start_image FOLDER STAMP
#
# exits (0) when STAMP exists: the image is built already, once per machine. Otherwise sets
# $work to a new folder next to FOLDER, removed when the script exits.
#
#   debian_rootfs FOLDER PACKAGES [SUITE] [MIRROR]
#
# makes a minimal Debian (debootstrap --variant=minbase) with PACKAGES (comma separated) in
# FOLDER, without the package cache and lists. SUITE defaults to the machine's own Debian release,
# else bookworm (an Ubuntu codename is not a suite of the Debian mirror).

debian_rootfs() {
  local folder=$1 packages=$2 suite=${3:-} mirror=${4:-http://deb.debian.org/debian}
  if [[ -z $suite ]]; then
    suite=$(. /etc/os-release && if [[ ${ID:-} == debian && -n ${VERSION_CODENAME:-} ]]; then
      echo "$VERSION_CODENAME"; else echo bookworm; fi)
  fi
  debootstrap --variant=minbase --include="$packages" "$suite" "$folder" "$mirror" > "$folder.debootstrap.log" 2>&1 \
    || { tail -20 "$folder.debootstrap.log" >&2; return 1; }
  rm -f "$folder.debootstrap.log"
  # What a container needs no copy of: the package cache and lists.
  rm -rf "$folder/var/cache/apt/archives/"*.deb "$folder/var/lib/apt/lists/"*
  echo "$suite"
}

start_image() {
  if [[ -f $2 ]]; then
    exit 0
  fi
  work=$(mktemp -d "${1%/}.work.XXXXXX")
  trap 'rm -rf "$work"' EXIT
}
