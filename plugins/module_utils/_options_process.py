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
import posixpath
import re
import stat

from ansible_collections.oci_runtime.runc.plugins.module_utils._config_merge import ConfigError, replace, rootfs_of
from ansible_collections.oci_runtime.runc.plugins.module_utils._option import CONTAINER, EXEC, Option

CAPABILITY_SETS = ('bounding', 'effective', 'permitted', 'inheritable', 'ambient')
# Linux's capabilities (capability.h, up to CAP_CHECKPOINT_RESTORE): a misspelt name must not be
# passed on for runc to ignore, leaving the process with what the task meant to drop.
CAPABILITIES = frozenset('CAP_' + name for name in (
    'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
    'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
    'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
    'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
    'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
    'CHECKPOINT_RESTORE'))
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
    """A mode: an integer is one YAML already read (0027 unquoted is octal there), text is octal digits."""
    if value is None:
        return None
    if isinstance(value, bool):
        mode = -1
    elif isinstance(value, int):
        mode = value
    elif re.match(r'^0?[0-7]{1,3}$', str(value).strip()):
        mode = int(str(value).strip(), 8)
    else:
        mode = -1
    if not 0 <= mode <= 0o777:
        raise ConfigError('user.umask: %r is not a mode such as "0022"' % (value,))
    return mode


# /etc/passwd and /etc/group are small; a larger file is not one.
_MAX_TABLE_BYTES = 4 * 1024 * 1024


def _read_table(rootfs, name, option):
    """Lines of the rootfs's etc/<name>, split on colons.

    Every component is opened inside the rootfs without following a symlink
    (one could point at the host's own files), and only a regular file is
    read (a FIFO would block the task forever).
    """
    shown = os.path.join(rootfs, 'etc', name)
    descriptors = []
    try:
        descriptors.append(os.open(rootfs, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
        descriptors.append(os.open('etc', os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                                   dir_fd=descriptors[-1]))
        descriptor = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=descriptors[-1])
        with os.fdopen(descriptor, 'rb') as stream:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise ConfigError('%s: %s is not a regular file' % (option, shown))
            content = stream.read(_MAX_TABLE_BYTES + 1)
    except OSError as error:
        raise ConfigError('%s: cannot read %s to resolve names (a symlink there is not followed): %s'
                          % (option, shown, error.strerror))
    finally:
        for opened in descriptors:
            os.close(opened)
    if len(content) > _MAX_TABLE_BYTES:
        raise ConfigError('%s: %s is larger than %d bytes' % (option, shown, _MAX_TABLE_BYTES))
    return [line.split(':') for line in content.decode('utf-8', 'replace').splitlines()
            if line.strip() and not line.startswith('#')]


def _table_id(fields, rootfs, name):
    try:
        return _id(int(fields[2]), 'user.name')
    except (ValueError, ConfigError):
        raise ConfigError('user.name: %s/etc/%s has no valid id for %r' % (rootfs, name, fields[0]))


def resolve_user(rootfs, name):
    """(uid, gid, additional gids) of ``user`` or ``user:group`` from the rootfs's passwd and group files."""
    user, _sep, group = name.partition(':')
    passwd = _read_table(rootfs, 'passwd', 'user.name')
    entry = next((fields for fields in passwd if len(fields) >= 4 and fields[0] == user), None)
    if entry is None:
        raise ConfigError('user.name: no user %r in %s/etc/passwd' % (user, rootfs))
    uid = _table_id(entry, rootfs, 'passwd')
    gid = _table_id([entry[0], None, entry[3]], rootfs, 'passwd')
    groups = _read_table(rootfs, 'group', 'user.name')
    if group:
        found = next((fields for fields in groups if len(fields) >= 3 and fields[0] == group), None)
        if found is None:
            raise ConfigError('user.name: no group %r in %s/etc/group' % (group, rootfs))
        gid = _table_id(found, rootfs, 'group')
    additional = sorted({_table_id(fields, rootfs, 'group') for fields in groups
                         if len(fields) >= 4 and user in fields[3].split(',')} - {gid})
    return uid, gid, additional


def _groups_of_uid(rootfs, uid, context):
    """(gid, additional gids) of the rootfs's passwd entry of uid, or None when it has none."""
    key = '#%d' % uid
    resolved = context.setdefault('resolved_users', {})
    if key not in resolved:
        try:
            passwd = _read_table(rootfs, 'passwd', 'user.uid')
        except ConfigError:
            # No passwd to read (a minimal rootfs): the base's group stays.
            passwd = []
        entry = next((fields for fields in passwd if len(fields) >= 4 and fields[2] == str(uid)), None)
        resolved[key] = list(resolve_user(rootfs, entry[0])) if entry else None
    found = resolved[key]
    return None if found is None else (found[1], found[2])


def apply_user(config, user, context):
    """process.user from uid/gid or a name of the rootfs; the fields given replace the base's."""
    if user.get('name') is not None and not re.match(r'^[^:\s]+(:[^:\s]+)?$', user['name']):
        raise ConfigError('user.name: %r is not user or user:group' % (user['name'],))
    if user.get('name') and user.get('uid') is not None:
        raise ConfigError('user: give name or uid, not both')
    process = config.setdefault('process', {})
    current = dict(process.get('user') or {})
    if user.get('name'):
        # runc_exec gives the running container's rootfs, as runc state reports it.
        rootfs = context.get('rootfs')
        if rootfs is None and context.get('bundle') is not None:
            rootfs = rootfs_of(context['bundle'], config)
        # Names resolved when the container was made keep their ids: the container may write
        # its own /etc/passwd, and must not decide what a name means on the next run.
        resolved = context.setdefault('resolved_users', {})
        if user['name'] in resolved:
            uid, gid, additional = resolved[user['name']]
        elif rootfs is None:
            uid, gid, additional = UNRESOLVED_ID, UNRESOLVED_ID, []
        else:
            uid, gid, additional = resolve_user(rootfs, user['name'])
            resolved[user['name']] = [uid, gid, additional]
        current.update(uid=uid, gid=gid)
        if additional:
            current['additionalGids'] = additional
        else:
            current.pop('additionalGids', None)
    if user.get('uid') is not None:
        current['uid'] = _id(user['uid'], 'user.uid')
        if user.get('gid') is None and context.get('bundle') is not None and context.get('rootfs') is None:
            # As docker does: a uid of the rootfs's passwd gets its group and groups there, not the
            # base's (runc's spec says gid 0, the root group).
            found = _groups_of_uid(rootfs_of(context['bundle'], config), current['uid'], context)
            if found is not None:
                current['gid'] = found[0]
                if found[1]:
                    current['additionalGids'] = found[1]
                else:
                    current.pop('additionalGids', None)
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
    if capability not in CAPABILITIES:
        raise ConfigError('%s: %r is not a capability name (CAP_NET_ADMIN or NET_ADMIN)' % (option, name))
    return capability


def apply_capabilities(config, capabilities, context):
    """drop from every capability set of the base process, then add to those sets but inheritable.

    drop: [ALL] empties them. Nothing is added to the inheritable set: with
    file capabilities it would hand a program more than the container's
    process has (CVE-2022-24769). A user other than root keeps only the
    ambient set across execve, which the kernel honours only for capabilities
    that are inheritable too: such a user gets an added capability only where
    the base (spec) makes it inheritable.
    """
    process = config.setdefault('process', {})
    sets = dict(process.get('capabilities') or {})
    drop = ['ALL' if str(name).strip().upper() in ('ALL', 'CAP_ALL') else str(name).strip().upper()
            for name in capabilities.get('drop') or []]
    add = [capability_name(name, 'capabilities.add') for name in capabilities.get('add') or []]
    dropped = set() if 'ALL' in drop else {capability_name(name, 'capabilities.drop') for name in drop}
    if 'ALL' in drop and len(drop) > 1:
        raise ConfigError('capabilities.drop: ALL drops every capability; name no other')
    present = [name for name in CAPABILITY_SETS if name in sets] or ['bounding', 'effective', 'permitted']
    for set_name in present:
        kept = [] if 'ALL' in drop else [cap for cap in sets.get(set_name) or [] if cap not in dropped]
        sets[set_name] = sorted(set(kept) | (set() if set_name == 'inheritable' else set(add)))
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
    if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
        raise ConfigError('rlimits: %s: %r is not a whole number' % (name, value))
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
    if number > 2 ** 64 - 1:
        raise ConfigError('rlimits: %s: %r is above the largest limit, 2^64-1 (unlimited)' % (name, value))
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
        for path in value.get('paths') or []:
            if not str(path).startswith('/'):
                raise ConfigError('%s: %r is not an absolute path inside the container' % (option, path))
        # Normalised and sorted, so that /x/ and /x, or another order, are the same intent.
        paths = sorted({'/' + posixpath.normpath(path).lstrip('/') for path in value.get('paths') or []})
        if value.get('mode', 'add') == 'replace':
            return paths
        kept = list(current or [])
        return kept + [path for path in paths if path not in kept]
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
        additional_gids=dict(type='list', elements='int'), umask=dict(type='raw'))),
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
