# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""namespaces, volumes, tmpfs and devices as OCI config: pure functions, no host access.

What needs the host (does a volume's source exist, which device numbers has
/dev/fuse) is asked by the rows in _options_linux and handed in here.
"""

from __future__ import annotations

import copy
import os
import posixpath
import re
import stat

from ansible_collections.oci_runtime.runc.plugins.module_utils._config_merge import ConfigError

# In the order new entries are added to linux.namespaces.
NAMESPACE_TYPES = ('pid', 'network', 'ipc', 'uts', 'mount', 'user', 'cgroup')
PRIVATE = 'private'
HOST = 'host'

# With the host's network, the host's name resolution, read-only.
HOST_NETWORK_FILES = ('/etc/resolv.conf', '/etc/hosts')

VOLUME_DEFAULT_OPTIONS = ('rbind', 'rw')
_VOLUME_BIND = frozenset(('bind', 'rbind'))
_VOLUME_ACCESS = frozenset(('ro', 'rw'))
_VOLUME_PROPAGATION = frozenset(('private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'))
_VOLUME_FLAGS = frozenset(('nosuid', 'nodev', 'noexec'))
VOLUME_OPTIONS = _VOLUME_BIND | _VOLUME_ACCESS | _VOLUME_PROPAGATION | _VOLUME_FLAGS

TMPFS_DEFAULT_OPTIONS = ('nosuid', 'nodev')
# Flags and their opposites: the task's word wins over a default, two opposite words are refused.
_TMPFS_OPPOSITES = {
    'ro': 'rw', 'suid': 'nosuid', 'dev': 'nodev', 'exec': 'noexec', 'atime': 'noatime',
    'diratime': 'nodiratime', 'relatime': 'norelatime', 'strictatime': 'nostrictatime',
    'sync': 'async', 'lazytime': 'nolazytime', 'mand': 'nomand',
}
_TMPFS_OPPOSITES.update({value: key for key, value in list(_TMPFS_OPPOSITES.items())})
_TMPFS_FLAGS = frozenset(_TMPFS_OPPOSITES) | frozenset(('dirsync', 'noswap'))
_TMPFS_SIZES = ('size', 'nr_blocks', 'nr_inodes')
_TMPFS_IDS = ('uid', 'gid')
_TMPFS_HUGE = ('never', 'always', 'within_size', 'advise', 'deny', 'force')
_TMPFS_DATA = frozenset(_TMPFS_SIZES + _TMPFS_IDS + ('mode', 'huge', 'mpol'))
# The kernel's memparse suffixes, either case.
_SIZE = re.compile(r'^([0-9]+)([kmgtpe]?)$', re.IGNORECASE)
_SUFFIX_POWER = {'': 0, 'k': 1, 'm': 2, 'g': 3, 't': 4, 'p': 5, 'e': 6}
_PERCENT = re.compile(r'^([0-9]+)%$')
_OCTAL = re.compile(r'^(0o?)?([0-7]+)$', re.IGNORECASE)

DEVICE_PERMISSIONS = 'rwm'
_DEVICE_KEYS = frozenset(('path', 'container_path', 'permissions'))


# -- shared ---------------------------------------------------------------------------------------

def absolute_path(option, what, path):
    """path normalised (no '//', '/./', trailing '/'); refused unless absolute."""
    if not isinstance(path, str) or not path.startswith('/') or '\0' in path:
        raise ConfigError('%s: %s %r is not an absolute path' % (option, what, path))
    return posixpath.normpath(path).replace('//', '/')


def _container_destination(option, what, path):
    destination = absolute_path(option, what, path)
    if destination == '/':
        raise ConfigError('%s: %s / would hide the whole rootfs' % (option, what))
    return destination


# -- namespaces -----------------------------------------------------------------------------------

def namespace_modes(value):
    """{type: 'private' | 'host' | absolute path}, checked; paths normalised."""
    if not isinstance(value, dict):
        raise ConfigError('namespaces: expected a dict of namespace type to private, host or a path, got %r'
                          % (value,))
    modes = {}
    for kind, mode in value.items():
        if kind not in NAMESPACE_TYPES:
            raise ConfigError('namespaces: unknown namespace type %r; known: %s'
                              % (kind, ', '.join(sorted(NAMESPACE_TYPES))))
        if mode is None:
            continue
        if isinstance(mode, str) and '/' in mode and not mode.startswith('/'):
            raise ConfigError('namespaces: %s: %r is a relative path; give the absolute path of the namespace '
                              'to join' % (kind, mode))
        if not isinstance(mode, str) or not (mode in (PRIVATE, HOST) or mode.startswith('/')):
            raise ConfigError('namespaces: %s: %r is neither private, host nor an absolute path to join'
                              % (kind, mode))
        if mode.startswith('/'):
            mode = absolute_path('namespaces', '%s: path' % kind, mode)
        modes[kind] = mode
    if modes.get('mount') == HOST:
        raise ConfigError('namespaces: mount: host is not supported; runc needs a mount namespace of the '
                          'container\'s own (private) or one to join (a path)')
    return modes


def merge_namespaces(current, modes):
    """linux.namespaces with modes laid over, keeping the order of those already there.

    private: an entry without path; host: no entry, the host's is shared; a
    path: an entry joining it. New entries follow, in NAMESPACE_TYPES order.
    """
    merged = [copy.deepcopy(entry) for entry in current or []]
    for kind in NAMESPACE_TYPES:
        if kind not in modes:
            continue
        mode = modes[kind]
        places = [index for index, entry in enumerate(merged) if isinstance(entry, dict) and entry.get('type') == kind]
        wanted = None if mode == HOST else {'type': kind} if mode == PRIVATE else {'type': kind, 'path': mode}
        for index in reversed(places[1:] if wanted is not None else places):
            del merged[index]
        if wanted is None:
            continue
        if places:
            merged[places[0]] = wanted
        else:
            merged.append(wanted)
    return merged


def host_network_mounts(taken_destinations, sources=HOST_NETWORK_FILES):
    """Read-only binds of the host's name resolution files, except where the task mounts its own."""
    return [{'destination': path, 'type': 'bind', 'source': path, 'options': ['rbind', 'ro']}
            for path in sources if path not in taken_destinations]


# -- volumes --------------------------------------------------------------------------------------

def parse_volume(text):
    """The OCI bind mount of 'SRC:DEST[:OPTIONS]', options in a canonical order."""
    if not isinstance(text, str):
        raise ConfigError('volumes: %r is not a SRC:DEST[:OPTIONS] string' % (text,))
    parts = text.split(':')
    if len(parts) not in (2, 3):
        raise ConfigError('volumes: %r is not SRC:DEST[:OPTIONS]' % text)
    source = absolute_path('volumes', '%s: source' % text, parts[0])
    destination = _container_destination('volumes', '%s: destination' % text, parts[1])
    words = [word.strip() for word in (parts[2] if len(parts) == 3 else '').split(',') if word.strip()]
    unknown = sorted(set(words) - VOLUME_OPTIONS)
    if unknown:
        raise ConfigError('volumes: %s: unknown option %s; known: %s'
                          % (text, ', '.join(unknown), ', '.join(sorted(VOLUME_OPTIONS))))
    chosen = set(words)
    for group, default in ((_VOLUME_BIND, 'rbind'), (_VOLUME_ACCESS, 'rw'), (_VOLUME_PROPAGATION, None)):
        given = sorted(chosen & group)
        if len(given) > 1:
            raise ConfigError('volumes: %s: %s contradict each other' % (text, ' and '.join(given)))
        if not given and default:
            chosen.add(default)
    options = ([word for word in ('rbind', 'bind') if word in chosen] + [word for word in ('rw', 'ro') if word in chosen]
               + sorted(chosen - _VOLUME_BIND - _VOLUME_ACCESS))
    return {'destination': destination, 'type': 'bind', 'source': source, 'options': options}


def volume_mounts(volumes):
    """The mounts of a volumes list, refusing two on one destination."""
    if not isinstance(volumes, list):
        raise ConfigError('volumes: expected a list of SRC:DEST[:OPTIONS] strings, got %r' % (volumes,))
    mounts = []
    seen = {}
    for text in volumes:
        mount = parse_volume(text)
        if mount['destination'] in seen:
            raise ConfigError('volumes: %s and %s have the same destination' % (seen[mount['destination']], text))
        seen[mount['destination']] = text
        mounts.append(mount)
    return mounts


# -- tmpfs ----------------------------------------------------------------------------------------

def _tmpfs_value(where, key, value):
    if key in _TMPFS_SIZES:
        percent = _PERCENT.match(value)
        if percent and key == 'size':
            return '%d%%' % int(percent.group(1))
        size = _SIZE.match(value)
        if not size:
            raise ConfigError('tmpfs: %s: %s=%s is not a size (a number with an optional k, m, g suffix%s)'
                              % (where, key, value, ', or a percentage' if key == 'size' else ''))
        return str(int(size.group(1)) * 1024 ** _SUFFIX_POWER[size.group(2).lower()])
    if key == 'mode':
        octal = _OCTAL.match(value)
        if not octal or int(octal.group(2), 8) > 0o7777:
            raise ConfigError('tmpfs: %s: mode=%s is not an octal file mode' % (where, value))
        return '%o' % int(octal.group(2), 8)
    if key in _TMPFS_IDS:
        if not value.isdigit():
            raise ConfigError('tmpfs: %s: %s=%s is not a number' % (where, key, value))
        return str(int(value))
    if key == 'huge' and value not in _TMPFS_HUGE:
        raise ConfigError('tmpfs: %s: huge=%s is not one of %s' % (where, value, ', '.join(_TMPFS_HUGE)))
    return value


def tmpfs_mount(destination, text):
    """The OCI tmpfs mount of one tmpfs entry: nosuid, nodev unless told otherwise, then the
    task's flags (sorted) and its key=value options (sorted by key, sizes in bytes, mode octal)."""
    where = _container_destination('tmpfs', 'destination', destination)
    if text is None:
        text = ''
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    if not isinstance(text, str):
        raise ConfigError('tmpfs: %s: the options must be a string like "size=64m,mode=1777", got %r'
                          % (where, text))
    flags = set()
    data = {}
    for word in (word.strip() for word in text.split(',')):
        if not word:
            continue
        key, equals, value = word.partition('=')
        key = key.strip()
        if equals:
            if key not in _TMPFS_DATA:
                raise ConfigError('tmpfs: %s: unknown option %s; known: %s'
                                  % (where, key, ', '.join(sorted(_TMPFS_DATA))))
            if key in data:
                raise ConfigError('tmpfs: %s: %s is given twice' % (where, key))
            data[key] = _tmpfs_value(where, key, value.strip())
        elif key in _TMPFS_FLAGS:
            if _TMPFS_OPPOSITES.get(key) in flags:
                raise ConfigError('tmpfs: %s: %s and %s contradict each other' % (where, _TMPFS_OPPOSITES[key], key))
            flags.add(key)
        else:
            raise ConfigError('tmpfs: %s: unknown option %s' % (where, key))
    defaults = [flag for flag in TMPFS_DEFAULT_OPTIONS if _TMPFS_OPPOSITES[flag] not in flags]
    options = defaults + sorted(flags - set(defaults)) + ['%s=%s' % (key, data[key]) for key in sorted(data)]
    return {'destination': where, 'type': 'tmpfs', 'source': 'tmpfs', 'options': options}


def tmpfs_mounts(tmpfs):
    if not isinstance(tmpfs, dict):
        raise ConfigError('tmpfs: expected a dict of destination to mount options, got %r' % (tmpfs,))
    mounts = []
    seen = {}
    for destination in sorted(tmpfs, key=str):
        mount = tmpfs_mount(destination, tmpfs[destination])
        if mount['destination'] in seen:
            raise ConfigError('tmpfs: %s and %s are the same destination' % (seen[mount['destination']], destination))
        seen[mount['destination']] = destination
        mounts.append(mount)
    return mounts


# -- devices --------------------------------------------------------------------------------------

def device_request(item):
    """{path, container_path, permissions} of one devices item (a host path or a dict), normalised."""
    if isinstance(item, str):
        item = {'path': item}
    if not isinstance(item, dict):
        raise ConfigError('devices: %r is neither a device path nor a dict with path' % (item,))
    unknown = sorted(set(item) - _DEVICE_KEYS, key=str)
    if unknown:
        raise ConfigError('devices: unknown key %s in %r; known: %s'
                          % (', '.join(map(str, unknown)), item, ', '.join(sorted(_DEVICE_KEYS))))
    if item.get('path') is None:
        raise ConfigError('devices: %r has no path' % (item,))
    path = absolute_path('devices', 'path', item['path'])
    container_path = path
    if item.get('container_path') is not None:
        container_path = _container_destination('devices', '%s: container_path' % path, item['container_path'])
    permissions = item.get('permissions')
    permissions = DEVICE_PERMISSIONS if permissions is None else permissions
    if not isinstance(permissions, str) or not permissions or set(permissions) - set(DEVICE_PERMISSIONS):
        raise ConfigError('devices: %s: permissions %r must be made of r, w and m' % (path, permissions))
    permissions = ''.join(letter for letter in DEVICE_PERMISSIONS if letter in permissions)
    return {'path': path, 'container_path': container_path, 'permissions': permissions}


def device_requests(devices):
    """The requests of a devices list, by container path; one container path once."""
    if not isinstance(devices, list):
        raise ConfigError('devices: expected a list of device paths or dicts, got %r' % (devices,))
    requests = {}
    for item in devices:
        request = device_request(item)
        if request['container_path'] in requests:
            raise ConfigError('devices: %s is given twice' % request['container_path'])
        requests[request['container_path']] = request
    return [requests[path] for path in sorted(requests)]


def device_entry(request, mode, rdev, uid, gid):
    """(linux.devices entry, linux.resources.devices rule) of a request, from the host device's stat."""
    if stat.S_ISCHR(mode):
        kind = 'c'
    elif stat.S_ISBLK(mode):
        kind = 'b'
    else:
        raise ConfigError('devices: %s is not a character or block device' % request['path'])
    major, minor = os.major(rdev), os.minor(rdev)
    device = {'path': request['container_path'], 'type': kind, 'major': major, 'minor': minor,
              'fileMode': stat.S_IMODE(mode), 'uid': uid, 'gid': gid}
    rule = {'allow': True, 'type': kind, 'major': major, 'minor': minor, 'access': request['permissions']}
    return device, rule


def merge_devices(current, devices):
    """linux.devices with devices added; one on the path of an existing one takes its place."""
    merged = [copy.deepcopy(device) for device in current or []]
    for device in devices:
        places = [index for index, existing in enumerate(merged)
                  if isinstance(existing, dict) and existing.get('path') == device['path']]
        for index in reversed(places[1:]):
            del merged[index]
        if places:
            merged[places[0]] = copy.deepcopy(device)
        else:
            merged.append(copy.deepcopy(device))
    return merged


def merge_device_rules(current, rules):
    """linux.resources.devices with the rules appended: later rules win, so an equal earlier one goes."""
    merged = [copy.deepcopy(rule) for rule in current or []]
    for rule in rules:
        merged = [existing for existing in merged if existing != rule]
        merged.append(copy.deepcopy(rule))
    return merged
