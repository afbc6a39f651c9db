# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Print the config.json of a test host that boots systemd (testhosts.sh up NAME:N:systemd).

A privileged container, as a machine would be: every capability this
machine's bounding set has, every device, no seccomp, its own cgroup
namespace with cgroup2 mounted writable (systemd manages its subtree, and the
runc inside nests its containers there), a tmpfs /run that a reboot empties.

    systemd-host-config.py BUNDLE NETNS HOSTNAME CGROUPS_PATH
"""

from __future__ import annotations

import json
import sys

# Capability numbers 0-40, in order (linux/capability.h).
CAPABILITIES = [
    'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
    'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
    'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
    'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
    'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
    'CHECKPOINT_RESTORE',
]


def bounding_set():
    """The capabilities this process may pass on (a container cannot get more)."""
    mask = 0
    with open('/proc/self/status') as stream:
        for line in stream:
            if line.startswith('CapBnd:'):
                mask = int(line.split()[1], 16)
    return ['CAP_' + name for number, name in enumerate(CAPABILITIES) if mask & (1 << number)]


def main(bundle, netns, hostname, cgroups_path):
    capabilities = bounding_set()
    tmpfs_options = ['nosuid', 'nodev', 'mode=755']
    config = {
        'ociVersion': '1.0.2',
        'root': {'path': bundle + '/rootfs', 'readonly': False},
        'hostname': hostname,
        'process': {
            'terminal': False,
            'user': {'uid': 0, 'gid': 0},
            'args': ['/sbin/init'],
            'env': ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'container=oci'],
            'cwd': '/',
            'capabilities': {key: capabilities for key in ('bounding', 'effective', 'permitted')},
            'noNewPrivileges': False,
        },
        'mounts': [
            {'destination': '/proc', 'type': 'proc', 'source': 'proc'},
            {'destination': '/dev', 'type': 'tmpfs', 'source': 'tmpfs',
             'options': ['nosuid', 'strictatime', 'mode=755', 'size=65536k']},
            {'destination': '/dev/pts', 'type': 'devpts', 'source': 'devpts',
             'options': ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']},
            {'destination': '/dev/shm', 'type': 'tmpfs', 'source': 'shm',
             'options': ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k']},
            {'destination': '/dev/mqueue', 'type': 'mqueue', 'source': 'mqueue', 'options': ['nosuid', 'noexec', 'nodev']},
            {'destination': '/sys', 'type': 'sysfs', 'source': 'sysfs', 'options': ['nosuid', 'noexec', 'nodev']},
            {'destination': '/sys/fs/cgroup', 'type': 'cgroup2', 'source': 'cgroup2',
             'options': ['nosuid', 'noexec', 'nodev', 'rw']},
            {'destination': '/run', 'type': 'tmpfs', 'source': 'tmpfs', 'options': tmpfs_options},
            {'destination': '/run/lock', 'type': 'tmpfs', 'source': 'tmpfs', 'options': tmpfs_options},
            {'destination': '/tmp', 'type': 'tmpfs', 'source': 'tmpfs', 'options': ['nosuid', 'nodev', 'mode=1777']},
        ],
        'linux': {
            'namespaces': [{'type': 'pid'}, {'type': 'ipc'}, {'type': 'uts'}, {'type': 'mount'}, {'type': 'cgroup'},
                           {'type': 'network', 'path': netns}],
            'cgroupsPath': cgroups_path,
            'resources': {'devices': [{'allow': True, 'access': 'rwm'}]},
        },
    }
    json.dump(config, sys.stdout, indent=2)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main(*sys.argv[1:5])
