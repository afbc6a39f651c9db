#!/usr/bin/env bash
# Run the collection's demo playbook on this machine (after setup.sh).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
sync_collection
ansible-playbook -i localhost, -c local oci_runtime.runc.demo "$@"
