# shellcheck shell=bash
# Shared settings of the project's scripts; sourced, never run.
# Everything built or installed for the checkout lives under .build/.
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD="$TOP/.build"
VENV="$BUILD/venv"
# OCI_RUNC_COLLECTIONS lets a developer test in a copy of their own, beside
# another test run that uses the default one.
COLLECTIONS="${OCI_RUNC_COLLECTIONS:-$BUILD/collections}"
COLLECTION="$COLLECTIONS/ansible_collections/oci_runtime/runc"

# A fixed PATH: the venv first, then the system; no pyenv shims or other
# per-user set-up, whose interpreters ansible-test would otherwise pick up.
export PATH="$VENV/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
export ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS"
# The managed host is this machine: use the venv's Python there too, never
# an interpreter found by discovery (pyenv shims may point at a broken one).
export ANSIBLE_PYTHON_INTERPRETER="$VENV/bin/python"
export PYTHON_VERSION
PYTHON_VERSION=$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)
# Plain logs for the gates that parse them; the molecule gate unsets both
# to run the scenarios as a user does, colour on.
export ANSIBLE_NOCOLOR=1
export ANSIBLE_FORCE_COLOR=0

# The other ansible-core versions meta/runtime.yml claims: one pinned
# requirements/ansible-core-X.Y.txt each, installed by setup.sh --tests into
# .build/venv-ansible-core-X.Y, where the versions gate runs units and smoke_core.
# shellcheck disable=SC2034  # read by setup.sh and test.sh
CORE_REQUIREMENTS=("$TOP"/requirements/ansible-core-*.txt)
core_venv() { echo "$BUILD/venv-$(basename "$1" .txt)"; }
# The documentation site's tools (antsibull-docs, Sphinx, selenium, ansible-builder): setup.sh --docs.
# shellcheck disable=SC2034  # read by setup.sh, test.sh and docs_site.sh
DOCS_VENV="$BUILD/venv-docs"

say() { printf '\n==> %s\n' "$*"; }

# Copy the checkout's files (tracked and new, not ignored) to the path
# ansible-test and ansible-playbook need: ansible_collections/oci_runtime/runc.
sync_collection() {
  rm -rf "$COLLECTION"
  mkdir -p "$COLLECTION"
  if git -C "$TOP" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$TOP" && git ls-files -z --cached --others --exclude-standard \
      | while IFS= read -r -d '' path; do [[ -e $path ]] && printf '%s\0' "$path"; done \
      | tar --null -T - -cf -) | tar -xf - -C "$COLLECTION"
  else
    (cd "$TOP" && tar --exclude=./.build --exclude=./.git -cf - .) | tar -xf - -C "$COLLECTION"
  fi
  # ansible-test lists a collection's files with git when it finds a .git
  # above it, and would then find the checkout's, which ignores .build/.
  git -C "$COLLECTION" init -q
}
