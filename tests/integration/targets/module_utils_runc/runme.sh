#!/usr/bin/env bash
# Runs the client tests with pytest: they drive the real runtime directly,
# without a playbook in between.
set -euo pipefail
cd "$(dirname "$0")"
collections_root=${ANSIBLE_COLLECTIONS_PATH%%:*}
export PYTHONPATH="$collections_root${PYTHONPATH:+:$PYTHONPATH}"
exec "${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}" -m pytest -p no:cacheprovider -v -rA \
  --junit-xml "${OUTPUT_DIR:-/tmp}/module_utils_runc.xml" test_client.py "$@"
