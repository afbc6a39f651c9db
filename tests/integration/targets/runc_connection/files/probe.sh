#!/bin/sh
# Run by ansible.builtin.script inside the busybox container: what it sees of itself.
echo "args=$*"
echo "uid=$(id -u)"
echo "hostname=$(hostname)"
