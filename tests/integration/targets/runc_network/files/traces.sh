#!/bin/sh
# What a container's network leaves on the host: namespaces, links, addresses,
# iptables rules (without counters) and the collection's network state files.
set -e
echo "## netns"; ip netns list | sed 's/ (id: [0-9]*)//' | sort
echo "## links"; ip -o link show | sed -e 's/^[0-9]*: //' -e 's/[@:].*//' | sort
echo "## addresses"; ip -o addr show | awk '{print $2, $4}' | sort
echo "## iptables"; iptables-save | grep -v '^[#:]' | sort
echo "## ip6tables"; ip6tables-save | grep -v '^[#:]' | sort
echo "## state"; find /var/lib/oci-runtime-runc/networks -mindepth 1 2>/dev/null | sort
