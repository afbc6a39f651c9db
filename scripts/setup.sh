#!/usr/bin/env bash
# Install everything the demo and the tests need on a Debian/Ubuntu machine,
# as root. Idempotent: a second run changes nothing and takes seconds.
#
#   1. the few packages needed to make a Python venv (python3-venv, git)
#   2. the venv in .build/venv with the pinned requirements/dev.txt
#   3. a copy of the collection at .build/collections/ansible_collections/oci_runtime/runc
#   4. the collection's own runtime role on localhost: runc, busybox-static, CNI plugins,
#      iptables and a CRIU that passes `criu check`
#   5. with --tests, what the test suite alone needs (see tests/setup.yml) and a
#      venv per other ansible-core version it tests (requirements/ansible-core-*.txt)
#   6. with --tests or --docs, what the documentation site needs: pandoc, Debian's
#      chromium and its driver, and the venv .build/venv-docs (requirements/docs.txt)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if [[ $(id -u) -ne 0 ]]; then
  echo "setup.sh: run as root (it installs packages and runs containers)" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "setup.sh: needs a Debian or Ubuntu machine (apt-get)" >&2
  exit 1
fi

# apt-get install what of the packages is missing (an update first, once).
ensure_packages() {
  local package missing=()
  for package in "$@"; do
    dpkg-query -W -f '${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  if ((${#missing[@]})); then
    say "apt: installing ${missing[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
  fi
}
ensure_packages python3 python3-venv git ca-certificates

# The system Python, never a pyenv shim: the venv must not depend on a
# user's shell set-up.
python=/usr/bin/python3
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "setup.sh: ansible-core 2.19 needs Python 3.11 or later; /usr/bin/python3 is $("$python" -V)" >&2
  exit 1
fi

# A venv with exactly one pinned requirements file, made again only when the
# file or the Python changed (the stamp holds the digest of both).
ensure_venv() {
  local dir=$1 requirements=$2 stamp="$1/.requirements.sha256" wanted
  wanted=$(cat "$requirements" <("$python" -V) | sha256sum | cut -d' ' -f1)
  if [[ ! -x $dir/bin/python || $(cat "$stamp" 2>/dev/null) != "$wanted" ]]; then
    say "venv: $dir"
    rm -rf "$dir"
    "$python" -m venv "$dir"
    "$dir/bin/pip" install -q --disable-pip-version-check -r "$requirements"
    echo "$wanted" > "$stamp"
  fi
}
ensure_venv "$VENV" "$TOP/requirements/dev.txt"

say "collection copy: $COLLECTION"
sync_collection

# ansible-test sanity bootstraps pip in its venvs with a get-pip script it
# downloads from a host outside the package registries; give it one that
# installs pip from the registry instead (see scripts/get_pip_offline.py).
pip_version=$(sed -n "s/^ *pip='\([0-9.]*\)',\$/\1/p" \
  "$("$VENV/bin/python" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal/python_requirements.py")
if [[ -n $pip_version ]]; then
  cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
  mkdir -p "$(dirname "$cache")"
  cmp -s "$TOP/scripts/get_pip_offline.py" "$cache" || cp "$TOP/scripts/get_pip_offline.py" "$cache"
fi

if [[ ${1:-} == --tests || ${1:-} == --docs ]]; then
  # The site's build (pandoc turns docs/*.md into the RST antsibull-docs takes) and its browser test.
  ensure_packages pandoc chromium chromium-driver
  ensure_venv "$DOCS_VENV" "$TOP/requirements/docs.txt"
  # The site needs no runtime on this machine.
  if [[ ${1:-} == --docs ]]; then
    exit 0
  fi
fi

say "runtime role on localhost (runc, busybox-static, iptables, CNI plugins, CRIU)"
ansible-playbook -i localhost, -c local oci_runtime.runc.runtime

if [[ ${1:-} == --tests ]]; then
  say "test prerequisites on localhost"
  ansible-playbook -i localhost, -c local "$TOP/tests/setup.yml"
  # The versions gate's venvs: the other ansible-core versions requires_ansible claims.
  for requirements in "${CORE_REQUIREMENTS[@]}"; do
    ensure_venv "$(core_venv "$requirements")" "$requirements"
  done
fi
