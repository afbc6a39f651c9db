# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rows of the option table about the container's Linux setup: namespaces, volumes, tmpfs, devices.

Their apply functions ask the host (a volume's source, a device's numbers)
only when the config is composed on the managed host (the context has a bundle);
the controller composes the same config for the schema check, with stand-ins
for what only the host knows.
"""

from __future__ import annotations

import fcntl
import os
import stat
import types

from ansible_collections.oci_runtime.runc.plugins.module_utils._config_merge import (
    ConfigError,
    merge_mounts,
    place,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils._linux_config import (
    HOST,
    HOST_NETWORK_FILES,
    PRIVATE,
    device_entry,
    device_requests,
    host_network_mounts,
    merge_device_rules,
    merge_devices,
    merge_namespaces,
    namespace_modes,
    tmpfs_mounts,
    volume_mounts,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils._network import (
    ANNOTATION_NETWORK,
    DEFAULT_CONFIG_DIR,
    DEFAULT_PLUGIN_DIRS,
    MODES,
    PROTOCOLS,
    Plan,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils._option import CONTAINER, Option
from ansible_collections.oci_runtime.runc.plugins.module_utils._runtime_options import effective_root

# What the controller puts where a host device's stat goes: enough for the schema check.
_STAND_IN_DEVICE = types.SimpleNamespace(st_mode=stat.S_IFCHR | 0o600, st_rdev=0, st_uid=0, st_gid=0)


def _on_host(context):
    # compose_config is given the bundle on the managed host only.
    return context.get('bundle') is not None


def _host_stat(where, path):
    """os.stat of a path on the host; a ConfigError starting with where when it cannot be read."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        raise ConfigError('%s: %s does not exist on the host' % (where, path))
    except OSError as error:
        raise ConfigError('%s: cannot read %s: %s' % (where, path, error.strerror or error))


# ioctl(2) NS_GET_NSTYPE (linux/nsfs.h) and the CLONE_NEW* flag it answers for each type.
_NS_GET_NSTYPE = 0xb703
_CLONE_FLAGS = {'mount': 0x00020000, 'cgroup': 0x02000000, 'uts': 0x04000000, 'ipc': 0x08000000,
                'user': 0x10000000, 'pid': 0x20000000, 'network': 0x40000000}


def _check_namespace_file(kind, path):
    """Refuse a path that is not a namespace of that type, before anything stops: runc would fail at create."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        raise ConfigError('namespaces: %s: cannot open %s: %s' % (kind, path, error.strerror or error))
    try:
        found = fcntl.ioctl(descriptor, _NS_GET_NSTYPE)
    except OSError:
        raise ConfigError('namespaces: %s: %s is not a namespace (such as /run/netns/NAME or /proc/PID/ns/net)'
                          % (kind, path))
    finally:
        os.close(descriptor)
    if found != _CLONE_FLAGS[kind]:
        names = {flag: name for name, flag in _CLONE_FLAGS.items()}
        raise ConfigError('namespaces: %s: %s is a %s namespace' % (kind, path, names.get(found, 'different')))


def _mounted_destinations(config, params):
    """Destinations the task mounts something on: in the config so far, and by the rows still to come."""
    taken = {mount.get('destination') for mount in config.get('mounts') or [] if isinstance(mount, dict)}
    if params.get('volumes') is not None:
        taken.update(mount['destination'] for mount in volume_mounts(params['volumes']))
    if params.get('tmpfs') is not None:
        taken.update(mount['destination'] for mount in tmpfs_mounts(params['tmpfs']))
    return taken


def apply_namespaces(config, value, context):
    """linux.namespaces merged by type; the host's network brings its resolv.conf and hosts along."""
    params = context['params']
    modes = namespace_modes(value)
    linux = place(config, ('linux', 'namespaces'))
    if modes.get('user') == HOST and (linux.get('uidMappings') or linux.get('gidMappings')):
        # runc would refuse them at create, once the container they replace is gone.
        raise ConfigError('namespaces: user: host leaves no user namespace for the uid and gid mappings of the '
                          'config; remove linux.uidMappings and linux.gidMappings (spec) or keep the namespace')
    if modes.get('user') == PRIVATE and not (linux.get('uidMappings') and linux.get('gidMappings')):
        raise ConfigError('namespaces: user: private needs uid and gid mappings: give linux.uidMappings and '
                          'linux.gidMappings in spec')
    if 'uts' in modes and modes['uts'] != PRIVATE:
        # Without a UTS namespace of its own the container may not set a host name: runc refuses,
        # and on a joined one it would rename every process there.
        explicit = params.get('hostname') is not None or (params.get('spec') or {}).get('hostname') is not None
        if explicit and modes['uts'] == HOST:
            raise ConfigError('namespaces: uts: host keeps the host\'s host name; do not set hostname '
                              '(or spec.hostname) with it')
        if not explicit:
            config.pop('hostname', None)
            config.pop('domainname', None)
    if _on_host(context):
        for kind in sorted(modes):
            if modes[kind] not in (PRIVATE, HOST):
                _host_stat('namespaces: %s' % kind, modes[kind])
                _check_namespace_file(kind, modes[kind])
    linux['namespaces'] = merge_namespaces(linux.get('namespaces'), modes)
    if modes.get('network') == HOST:
        sources = HOST_NETWORK_FILES
        if _on_host(context):
            sources = [path for path in sources if os.path.exists(path)]
        config['mounts'] = merge_mounts(config.get('mounts'),
                                        host_network_mounts(_mounted_destinations(config, params), sources))


def apply_network(config, value, context):
    """The network namespace of a mode; cni's is the named one the module makes, its digest an annotation."""
    params = context['params']
    if (params.get('namespaces') or {}).get('network') is not None:
        raise ConfigError('network: give either network or namespaces.network, not both')
    plan = context['built'].get('network_plan')
    if plan is None:
        plan = context['built']['network_plan'] = Plan(value, effective_root(params), params['name'],
                                                       _on_host(context))
    if plan.mode != 'cni':
        apply_namespaces(config, {'network': plan.namespace_mode()}, context)
        return
    linux = place(config, ('linux', 'namespaces'))
    linux['namespaces'] = merge_namespaces(linux.get('namespaces'), {'network': plan.namespace})
    # Set after the check that the task's own annotations leave the collection's alone.
    context['own_annotations'][ANNOTATION_NETWORK] = plan.digest()


def apply_volumes(config, value, context):
    """Bind mounts, merged with the mounts by destination (in a base mount's place)."""
    mounts = volume_mounts(value)
    if _on_host(context):
        for text, mount in zip(value, mounts):
            _host_stat('volumes: %s: source' % text, mount['source'])
    config['mounts'] = merge_mounts(config.get('mounts'), mounts)


def apply_tmpfs(config, value, context):
    config['mounts'] = merge_mounts(config.get('mounts'), tmpfs_mounts(value))


def apply_devices(config, value, context):
    """linux.devices (by container path) and an allow rule in linux.resources.devices for each."""
    devices = []
    rules = []
    for request in device_requests(value):
        if _on_host(context):
            found = _host_stat('devices', request['path'])
        else:
            found = _STAND_IN_DEVICE
        device, rule = device_entry(request, found.st_mode, found.st_rdev, found.st_uid, found.st_gid)
        devices.append(device)
        rules.append(rule)
    linux = place(config, ('linux', 'devices'))
    linux['devices'] = merge_devices(linux.get('devices'), devices)
    resources = place(config, ('linux', 'resources', 'devices'))
    resources['devices'] = merge_device_rules(resources.get('devices'), rules)


# Order matters: namespaces leaves /etc/resolv.conf and /etc/hosts to the task's volumes and tmpfs.
LINUX_ROWS = [
    Option('namespaces', dict(type='dict'), (CONTAINER,), path=('linux', 'namespaces'), apply=apply_namespaces,
           rule='merge by type, in the base\'s order; host removes the entry'),
    Option('network', dict(type='dict', options=dict(
        mode=dict(type='str', default='none', choices=list(MODES)),
        path=dict(type='path'),
        name=dict(type='str'),
        config=dict(type='dict'),
        config_dir=dict(type='path', default=DEFAULT_CONFIG_DIR),
        plugin_dirs=dict(type='list', elements='path', default=list(DEFAULT_PLUGIN_DIRS)),
        interface=dict(type='str', default='eth0'),
        ports=dict(type='list', elements='dict', options=dict(
            host_port=dict(type='int', required=True),
            container_port=dict(type='int', required=True),
            protocol=dict(type='str', default='tcp', choices=list(PROTOCOLS)),
            host_ip=dict(type='str', default=''))),
        timeout=dict(type='float', default=60.0))),
        (CONTAINER,), path=('linux', 'namespaces'), apply=apply_network,
        rule='the network entry of linux.namespaces; cni: a namespace the module makes and configures with '
             'CNI plugins'),
    Option('volumes', dict(type='list', elements='str'), (CONTAINER,), path=('mounts',), apply=apply_volumes,
           rule='merge with the mounts by destination, in the base\'s place'),
    Option('tmpfs', dict(type='dict'), (CONTAINER,), path=('mounts',), apply=apply_tmpfs,
           rule='merge with the mounts by destination, in the base\'s place'),
    Option('devices', dict(type='list', elements='raw'), (CONTAINER,), path=('linux', 'devices'),
           apply=apply_devices,
           rule='merge by container path; an allow rule appended to linux.resources.devices'),
]
