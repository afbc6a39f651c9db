# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rows of the option table about the container's process and its confinement.

user, capabilities, no_new_privileges, rlimits, oom_score_adj, the AppArmor
and SELinux labels, seccomp, sysctls, and the masked and read-only paths.
"""

from __future__ import annotations

import json
import os
import re

from ansible_collections.oci_runtime.runc.plugins.module_utils._config_merge import ConfigError, replace, rootfs_of
from ansible_collections.oci_runtime.runc.plugins.module_utils._option import CONTAINER, EXEC, Option

CAPABILITY_SETS = ('bounding', 'effective', 'permitted', 'inheritable', 'ambient')
_CAPABILITY = re.compile(r'^CAP_[A-Z0-9_]+$')
# getrlimit(2) resources, without the RLIMIT_ prefix.
RLIMITS = ('AS', 'CORE', 'CPU', 'DATA', 'FSIZE', 'LOCKS', 'MEMLOCK', 'MSGQUEUE', 'NICE', 'NOFILE', 'NPROC',
           'RSS', 'RTPRIO', 'RTTIME', 'SIGPENDING', 'STACK')
_SYSCTL = re.compile(r'^[a-z0-9_]+(\.[A-Za-z0-9_*-]+)+$')
# Where the controller-side schema check composes without a rootfs to read names from.
UNRESOLVED_ID = 0


# -- user ------------------------------------------------------------------------------------------

def _id(value, option):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2 ** 32 - 2:
        raise ConfigError('%s: %r is not a user or group id (0 to %d)' % (option, value, 2 ** 32 - 2))
    return value


def _umask(value):
    if value is None:
        return None
    text = str(value).strip()
    if not re.match(r'^0?[0-7]{1,4}$', text):
        raise ConfigError('user.umask: %r is not an octal mode such as 0022' % (value,))
    return int(text, 8)


def _read_table(path, option):
    """Lines of /etc/passwd or /etc/group, split on colons; without following a symlink out of the rootfs."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(descriptor, errors='replace') as stream:
            return [line.rstrip('\n').split(':') for line in stream if line.strip() and not line.startswith('#')]
    except OSError as error:
        raise ConfigError('%s: cannot read %s to resolve names: %s' % (option, path, error.strerror))


def resolve_user(rootfs, name):
    """(uid, gid, additional gids) of ``user`` or ``user:group`` from the rootfs's passwd and group files."""
    user, _sep, group = name.partition(':')
    passwd = _read_table(os.path.join(rootfs, 'etc', 'passwd'), 'user.name')
    entry = next((fields for fields in passwd if len(fields) >= 4 and fields[0] == user), None)
    if entry is None:
        raise ConfigError('user.name: no user %r in %s/etc/passwd' % (user, rootfs))
    uid, gid = int(entry[2]), int(entry[3])
    groups = _read_table(os.path.join(rootfs, 'etc', 'group'), 'user.name')
    if group:
        found = next((fields for fields in groups if len(fields) >= 3 and fields[0] == group), None)
        if found is None:
            raise ConfigError('user.name: no group %r in %s/etc/group' % (group, rootfs))
        gid = int(found[2])
    additional = sorted({int(fields[2]) for fields in groups
                         if len(fields) >= 4 and user in fields[3].split(',') and int(fields[2]) != gid})
    return uid, gid, additional


def apply_user(config, user, context):
    """process.user from uid/gid or a name of the rootfs; the fields given replace the base's."""
    if user.get('name') and user.get('uid') is not None:
        raise ConfigError('user: give name or uid, not both')
    process = config.setdefault('process', {})
    current = dict(process.get('user') or {})
    if user.get('name'):
        # runc_exec gives the running container's rootfs, as runc state reports it.
        rootfs = context.get('rootfs')
        if rootfs is None and context.get('bundle') is not None:
            rootfs = rootfs_of(context['bundle'], config)
        if rootfs is None:
            uid, gid, additional = UNRESOLVED_ID, UNRESOLVED_ID, []
        else:
            uid, gid, additional = resolve_user(rootfs, user['name'])
        current.update(uid=uid, gid=gid)
        if additional:
            current['additionalGids'] = additional
        else:
            current.pop('additionalGids', None)
    if user.get('uid') is not None:
        current['uid'] = _id(user['uid'], 'user.uid')
    if user.get('gid') is not None:
        current['gid'] = _id(user['gid'], 'user.gid')
    if user.get('additional_gids') is not None:
        current['additionalGids'] = sorted({_id(gid, 'user.additional_gids') for gid in user['additional_gids']})
        if not current['additionalGids']:
            current.pop('additionalGids')
    if user.get('umask') is not None:
        current['umask'] = _umask(user['umask'])
    process['user'] = current


# -- capabilities -----------------------------------------------------------------------------------

def capability_name(name, option='capabilities'):
    text = str(name).strip().upper()
    capability = text if text.startswith('CAP_') else 'CAP_' + text
    if not _CAPABILITY.match(capability):
        raise ConfigError('%s: %r is not a capability name (CAP_NET_ADMIN or NET_ADMIN)' % (option, name))
    return capability


def apply_capabilities(config, capabilities, context):
    """drop, then add, in every capability set of the base process; drop: [ALL] empties them."""
    process = config.setdefault('process', {})
    sets = dict(process.get('capabilities') or {})
    drop = [str(name).strip().upper() for name in capabilities.get('drop') or []]
    add = [capability_name(name, 'capabilities.add') for name in capabilities.get('add') or []]
    dropped = set() if 'ALL' in drop else {capability_name(name, 'capabilities.drop') for name in drop}
    if 'ALL' in drop and len(drop) > 1:
        raise ConfigError('capabilities.drop: ALL drops every capability; name no other')
    present = [name for name in CAPABILITY_SETS if name in sets] or ['bounding', 'effective', 'permitted']
    for set_name in present:
        kept = [] if 'ALL' in drop else [cap for cap in sets.get(set_name) or [] if cap not in dropped]
        sets[set_name] = sorted(set(kept) | set(add))
    if 'ambient' in sets:
        # The kernel raises an ambient capability (what a process of a user other than root keeps)
        # only when it is inheritable too; without that, the ambient set asks for nothing.
        sets['inheritable'] = sorted(set(sets.get('inheritable') or []) | set(sets['ambient']))
    process['capabilities'] = sets


# -- limits and labels --------------------------------------------------------------------------------

def rlimit_type(name):
    text = str(name).strip().upper()
    short = text[len('RLIMIT_'):] if text.startswith('RLIMIT_') else text
    if short not in RLIMITS:
        raise ConfigError('rlimits: %r is not a resource limit (one of %s, with or without RLIMIT_)'
                          % (name, ', '.join(name.lower() for name in RLIMITS)))
    return 'RLIMIT_' + short


def _limit(value, name):
    if isinstance(value, bool):
        raise ConfigError('rlimits: %s: %r is not a number' % (name, value))
    if isinstance(value, str) and value.strip().lower() in ('unlimited', '-1'):
        return 2 ** 64 - 1
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError('rlimits: %s: %r is not a number (or unlimited)' % (name, value))
    if number == -1:
        return 2 ** 64 - 1
    if number < 0:
        raise ConfigError('rlimits: %s: %r is negative' % (name, value))
    return number


def merge_rlimits(current, rlimits):
    """process.rlimits merged by type: a number sets soft and hard, a dict {soft, hard} each."""
    merged = {entry.get('type'): dict(entry) for entry in current or [] if isinstance(entry, dict)}
    order = [entry.get('type') for entry in current or [] if isinstance(entry, dict)]
    for name, value in sorted(rlimits.items()):
        kind = rlimit_type(name)
        if isinstance(value, dict):
            unknown = set(value) - {'soft', 'hard'}
            if unknown or not value:
                raise ConfigError('rlimits: %s takes soft and hard, not %s' % (name, ', '.join(sorted(unknown))))
            hard = _limit(value.get('hard', value.get('soft')), name)
            soft = _limit(value.get('soft', hard), name)
        else:
            soft = hard = _limit(value, name)
        if soft > hard:
            raise ConfigError('rlimits: %s: the soft limit %d is above the hard limit %d' % (name, soft, hard))
        if kind not in merged:
            order.append(kind)
        merged[kind] = {'type': kind, 'soft': soft, 'hard': hard}
    return [merged[kind] for kind in order]


def oom_score_adj(current, value):
    if not -1000 <= value <= 1000:
        raise ConfigError('oom_score_adj: %d is outside -1000..1000' % value)
    return value


def merge_sysctls(current, sysctls):
    merged = dict(current or {})
    for key, value in sysctls.items():
        if not _SYSCTL.match(str(key)):
            raise ConfigError('sysctls: %r is not a kernel parameter name such as net.ipv4.ip_forward' % (key,))
        if isinstance(value, (bool, dict, list)) or value is None:
            raise ConfigError('sysctls: the value of %s must be a string or a number (quote it)' % key)
        merged[key] = str(value)
    return merged


def _path_list(option):
    def merge(current, value):
        paths = value.get('paths') or []
        for path in paths:
            if not str(path).startswith('/'):
                raise ConfigError('%s: %r is not an absolute path inside the container' % (option, path))
        if value.get('mode', 'add') == 'replace':
            return list(dict.fromkeys(paths))
        return list(dict.fromkeys(list(current or []) + list(paths)))
    return merge


def apply_seccomp(config, value, context):
    """unconfined removes linux.seccomp; anything else is a JSON profile file on the managed host."""
    linux = config.setdefault('linux', {})
    if value == 'unconfined':
        linux.pop('seccomp', None)
        return
    if context.get('bundle') is None:
        # On the controller: the file is the managed host's; its content is checked there.
        linux['seccomp'] = {'defaultAction': 'SCMP_ACT_ALLOW'}
        return
    if not os.path.isabs(value):
        raise ConfigError('seccomp: %r is neither unconfined nor an absolute path of a profile' % value)
    try:
        with open(value) as stream:
            profile = json.load(stream)
    except (OSError, ValueError) as error:
        raise ConfigError('seccomp: cannot read the profile %s: %s' % (value, error))
    if not isinstance(profile, dict) or 'defaultAction' not in profile:
        raise ConfigError('seccomp: %s is not an OCI seccomp profile (no defaultAction)' % value)
    linux['seccomp'] = profile


PATH_LIST_SPEC = dict(type='dict', options=dict(paths=dict(type='list', elements='str', required=True),
                                                mode=dict(type='str', choices=['add', 'replace'], default='add')))

PROCESS_ROWS = [
    Option('user', dict(type='dict', options=dict(
        name=dict(type='str'), uid=dict(type='int'), gid=dict(type='int'),
        additional_gids=dict(type='list', elements='int'), umask=dict(type='str'))),
        (CONTAINER, EXEC), path=('process', 'user'), apply=apply_user,
        rule='the fields given replace the base\'s; a name is resolved from the rootfs'),
    Option('capabilities', dict(type='dict', options=dict(add=dict(type='list', elements='str'),
                                                          drop=dict(type='list', elements='str'))),
           (CONTAINER, EXEC), path=('process', 'capabilities'), apply=apply_capabilities,
           rule='drop, then add, in every set of the base'),
    Option('no_new_privileges', dict(type='bool'), (CONTAINER, EXEC), path=('process', 'noNewPrivileges'),
           merge=replace, rule='replace'),
    Option('rlimits', dict(type='dict'), (CONTAINER,), path=('process', 'rlimits'),
           merge=merge_rlimits, rule='merge by type'),
    Option('oom_score_adj', dict(type='int'), (CONTAINER,), path=('process', 'oomScoreAdj'),
           merge=oom_score_adj, rule='replace'),
    Option('apparmor_profile', dict(type='str'), (CONTAINER,), path=('process', 'apparmorProfile'),
           merge=replace, rule='replace'),
    Option('selinux_label', dict(type='str'), (CONTAINER,), path=('process', 'selinuxLabel'),
           merge=replace, rule='replace'),
    Option('seccomp', dict(type='str'), (CONTAINER,), path=('linux', 'seccomp'), apply=apply_seccomp,
           rule='replace (unconfined: none)'),
    Option('sysctls', dict(type='dict'), (CONTAINER,), path=('linux', 'sysctl'), merge=merge_sysctls,
           rule='merge by name'),
    Option('masked_paths', PATH_LIST_SPEC, (CONTAINER,), path=('linux', 'maskedPaths'),
           merge=_path_list('masked_paths'), rule='add to the base\'s, or replace them'),
    Option('readonly_paths', PATH_LIST_SPEC, (CONTAINER,), path=('linux', 'readonlyPaths'),
           merge=_path_list('readonly_paths'), rule='add to the base\'s, or replace them'),
]
