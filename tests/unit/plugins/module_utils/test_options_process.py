# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The process options: names from the rootfs, capabilities relative to the base, limits."""

from __future__ import annotations

import os

import pytest

from ansible_collections.oci_runtime.runc.plugins.module_utils._config_merge import ConfigError
from ansible_collections.oci_runtime.runc.plugins.module_utils import _options_process as process


@pytest.fixture
def bundle(tmp_path):
    etc = tmp_path / 'rootfs' / 'etc'
    etc.mkdir(parents=True)
    (etc / 'passwd').write_text('root:x:0:0::/:/bin/sh\napp:x:1000:1000::/:/bin/sh\n')
    (etc / 'group').write_text('root:x:0:\napp:x:1000:\nextra:x:2000:app,other\nother:x:3000:\n')
    return str(tmp_path)


def test_a_user_name_is_resolved_with_its_groups(bundle):
    config = {'root': {'path': 'rootfs'}, 'process': {'user': {'uid': 0, 'gid': 0}}}
    process.apply_user(config, {'name': 'app', 'umask': '0027'}, {'bundle': bundle})
    assert config['process']['user'] == {'uid': 1000, 'gid': 1000, 'additionalGids': [2000], 'umask': 0o27}
    process.apply_user(config, {'name': 'app:other'}, {'bundle': bundle})
    assert config['process']['user']['gid'] == 3000


def test_unknown_names_and_symlinked_passwd_files_are_refused(bundle, tmp_path):
    config = {'root': {'path': 'rootfs'}}
    with pytest.raises(ConfigError, match="user.name: no user 'nobody'"):
        process.apply_user(config, {'name': 'nobody'}, {'bundle': bundle})
    passwd = tmp_path / 'rootfs' / 'etc' / 'passwd'
    passwd.unlink()
    passwd.symlink_to('/etc/passwd')
    with pytest.raises(ConfigError, match='user.name: cannot read'):
        process.apply_user(config, {'name': 'root'}, {'bundle': bundle})


def test_on_the_controller_a_name_is_not_resolved():
    config = {}
    process.apply_user(config, {'name': 'app'}, {'bundle': None})
    assert config['process']['user'] == {'uid': 0, 'gid': 0}


def test_capabilities_drop_then_add_in_every_set_but_inheritable():
    base = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']
    config = {'process': {'capabilities': {name: list(base) for name in ('bounding', 'effective', 'ambient')}}}
    process.apply_capabilities(config, {'drop': ['audit_write'], 'add': ['chown']}, {})
    sets = config['process']['capabilities']
    assert sets['bounding'] == sets['effective'] == sets['ambient'] == ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']
    assert 'inheritable' not in sets
    config['process']['capabilities']['inheritable'] = ['CAP_KILL', 'CAP_NET_RAW']
    process.apply_capabilities(config, {'drop': ['NET_RAW'], 'add': ['SYS_ADMIN']}, {})
    assert config['process']['capabilities']['inheritable'] == ['CAP_KILL']
    process.apply_capabilities(config, {'drop': ['ALL'], 'add': ['NET_ADMIN']}, {})
    assert config['process']['capabilities']['bounding'] == ['CAP_NET_ADMIN']
    assert config['process']['capabilities']['inheritable'] == []


def test_user_names_never_resolve_through_a_symlink_or_a_fifo(bundle, tmp_path):
    etc = tmp_path / 'rootfs' / 'etc'
    (etc / 'group').unlink()
    os.mkfifo(str(etc / 'group'))
    with pytest.raises(ConfigError, match='is not a regular file'):
        process.apply_user({'root': {'path': 'rootfs'}}, {'name': 'app'}, {'bundle': bundle})
    os.rename(str(etc), str(tmp_path / 'rootfs' / 'etc-real'))
    os.symlink('/etc', str(etc))
    with pytest.raises(ConfigError, match='a symlink there is not followed'):
        process.apply_user({'root': {'path': 'rootfs'}}, {'name': 'root'}, {'bundle': bundle})


def test_names_keep_the_ids_they_had_when_the_container_was_made(bundle):
    context = {'bundle': bundle, 'resolved_users': {'app': [1000, 1000, []]}}
    config = {'root': {'path': 'rootfs'}}
    process.apply_user(config, {'name': 'app'}, context)
    assert config['process']['user'] == {'uid': 1000, 'gid': 1000}
    fresh = {'bundle': bundle}
    process.apply_user(config, {'name': 'app'}, fresh)
    assert fresh['resolved_users'] == {'app': [1000, 1000, [2000]]}


def test_an_unquoted_umask_is_the_octal_number_yaml_read():
    config = {}
    process.apply_user(config, {'uid': 1, 'umask': 0o27}, {})
    assert config['process']['user']['umask'] == 0o27
    process.apply_user(config, {'uid': 1, 'umask': '0077'}, {})
    assert config['process']['user']['umask'] == 0o77
    with pytest.raises(ConfigError, match='user.umask'):
        process.apply_user(config, {'uid': 1, 'umask': 0o1777}, {})


def test_rlimits_merge_by_type_and_keep_the_base_order():
    base = [{'type': 'RLIMIT_NOFILE', 'soft': 1024, 'hard': 1024}]
    merged = process.merge_rlimits(base, {'nproc': {'soft': 10, 'hard': 20}, 'RLIMIT_NOFILE': '4096'})
    assert merged == [{'type': 'RLIMIT_NOFILE', 'soft': 4096, 'hard': 4096},
                      {'type': 'RLIMIT_NPROC', 'soft': 10, 'hard': 20}]
    assert process.merge_rlimits([], {'core': 'unlimited'})[0]['hard'] == 2 ** 64 - 1
    with pytest.raises(ConfigError, match='soft limit 5 is above the hard limit 1'):
        process.merge_rlimits([], {'nofile': {'soft': 5, 'hard': 1}})


def test_sysctls_and_path_lists():
    assert process.merge_sysctls({'a.b': '1'}, {'net.ipv4.ip_forward': 1}) == {'a.b': '1', 'net.ipv4.ip_forward': '1'}
    with pytest.raises(ConfigError, match='sysctls: the value of a.b must be'):
        process.merge_sysctls({}, {'a.b': True})
    merge = process._path_list('masked_paths')
    assert merge(['/a', '/b'], {'paths': ['/b', '/c'], 'mode': 'add'}) == ['/a', '/b', '/c']
    assert merge(['/a'], {'paths': ['/c'], 'mode': 'replace'}) == ['/c']


def test_seccomp_profiles_are_read_on_the_host(tmp_path):
    config = {'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ERRNO'}}}
    process.apply_seccomp(config, 'unconfined', {'bundle': '/b'})
    assert 'seccomp' not in config['linux']
    profile = tmp_path / 'p.json'
    profile.write_text('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": []}')
    process.apply_seccomp(config, str(profile), {'bundle': '/b'})
    assert config['linux']['seccomp']['defaultAction'] == 'SCMP_ACT_ALLOW'
    profile.write_text('[]')
    with pytest.raises(ConfigError, match='is not an OCI seccomp profile'):
        process.apply_seccomp(config, str(profile), {'bundle': '/b'})
