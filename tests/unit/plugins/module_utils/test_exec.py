# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""runc_exec's process building and input checks (the runtime itself: tests/integration)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.oci_runtime.runc.plugins.module_utils._exec import (
    ExecError,
    build_process,
    container_process,
    old_form_problem,
    validate,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils._container_config import hide_secrets

CONTAINER_PROCESS = {
    'terminal': False, 'cwd': '/srv', 'args': ['sleep', '1000'],
    'user': {'uid': 1000, 'gid': 1000, 'additionalGids': [2000]},
    'env': ['PATH=/bin', 'TOKEN=from-config'],
    'capabilities': {name: ['CAP_KILL'] for name in ('bounding', 'effective', 'permitted', 'inheritable', 'ambient')},
    'noNewPrivileges': True,
    'apparmorProfile': 'container-default',
    'selinuxLabel': 'system_u:system_r:container_t:s0:c1,c2',
    'rlimits': [{'type': 'RLIMIT_NOFILE', 'hard': 1024, 'soft': 1024}],
}


def params(**given):
    defaults = dict(argv=['id'], env=None, secret_env=None, cwd=None, user=None,
                    capabilities=None, no_new_privileges=None, stdin=None, timeout=0.0, detach=False,
                    runtime_timeout=600.0)
    defaults.update(given)
    return defaults


def test_the_process_keeps_every_restriction_of_the_container():
    process = build_process(CONTAINER_PROCESS, params())
    assert process == dict(CONTAINER_PROCESS, args=['id'])


def test_apparmor_and_selinux_labels_stay_with_overrides_too():
    process = build_process(CONTAINER_PROCESS, params(user={'uid': 0, 'gid': 0}, capabilities={'add': ['CHOWN']},
                                                      no_new_privileges=False))
    assert process['apparmorProfile'] == 'container-default'
    assert process['selinuxLabel'] == 'system_u:system_r:container_t:s0:c1,c2'
    assert process['user'] == {'uid': 0, 'gid': 0, 'additionalGids': [2000]}
    for capability_set in ('bounding', 'effective', 'permitted', 'ambient'):
        assert process['capabilities'][capability_set] == ['CAP_CHOWN', 'CAP_KILL'], capability_set
    # Never added to: with file capabilities it would hand a program more (CVE-2022-24769).
    assert process['capabilities']['inheritable'] == ['CAP_KILL']
    assert process['noNewPrivileges'] is False


def test_the_fields_of_user_given_replace_the_containers_and_the_others_stay():
    assert build_process(CONTAINER_PROCESS, params(user={'uid': 0}))['user'] == {
        'uid': 0, 'gid': 1000, 'additionalGids': [2000]}
    assert build_process(CONTAINER_PROCESS, params(user={'additional_gids': [4000, 3000, 4000]}))['user'] == {
        'uid': 1000, 'gid': 1000, 'additionalGids': [3000, 4000]}
    assert build_process(CONTAINER_PROCESS, params(user={'additional_gids': []}))['user'] == {
        'uid': 1000, 'gid': 1000}


@pytest.fixture
def rootfs(tmp_path):
    etc = tmp_path / 'rootfs' / 'etc'
    etc.mkdir(parents=True)
    (etc / 'passwd').write_text('root:x:0:0::/:/bin/sh\napp:x:1234:1234::/:/bin/sh\nlone:x:1300:1300::/:/bin/sh\n')
    (etc / 'group').write_text('root:x:0:\napp:x:1234:\nextra:x:5678:app\n')
    return str(tmp_path / 'rootfs')


def test_a_user_name_resolves_from_the_containers_rootfs(rootfs):
    assert build_process(CONTAINER_PROCESS, params(user={'name': 'app'}), rootfs)['user'] == {
        'uid': 1234, 'gid': 1234, 'additionalGids': [5678]}
    assert build_process(CONTAINER_PROCESS, params(user={'name': 'app:extra'}), rootfs)['user'] == {
        'uid': 1234, 'gid': 5678}
    # The user's groups, not the container's: lone has none.
    assert build_process(CONTAINER_PROCESS, params(user={'name': 'lone'}), rootfs)['user'] == {
        'uid': 1300, 'gid': 1300}


@pytest.mark.parametrize('given, message', [
    ({'name': 'nobody2'}, "user.name: no user 'nobody2' in {rootfs}/etc/passwd"),
    ({'name': 'app:nogroup'}, "user.name: no group 'nogroup' in {rootfs}/etc/group"),
    ({'name': 'app', 'uid': 0}, 'user: give name or uid, not both'),
])
def test_an_unknown_name_fails_naming_the_rootfs(rootfs, given, message):
    with pytest.raises(ExecError) as caught:
        build_process(CONTAINER_PROCESS, params(user=given), rootfs)
    assert str(caught.value) == message.format(rootfs=rootfs)


@pytest.mark.parametrize('rootfs_given', [None, '', 'rootfs'])
def test_a_name_never_resolves_without_the_containers_rootfs(rootfs_given):
    # Never uid 0 in place of a name that could not be read.
    with pytest.raises(ExecError, match="^user.name: cannot resolve 'app': runc state names no absolute rootfs"):
        build_process(CONTAINER_PROCESS, params(name='web', user={'name': 'app'}), rootfs_given)


def test_capabilities_drop_then_add_relative_to_the_containers_sets():
    base = dict(CONTAINER_PROCESS, capabilities={
        'bounding': ['CAP_CHOWN', 'CAP_KILL'], 'effective': ['CAP_CHOWN', 'CAP_KILL'],
        'permitted': ['CAP_CHOWN', 'CAP_KILL']})
    process = build_process(base, params(capabilities={'drop': ['kill'], 'add': ['CAP_NET_ADMIN']}))
    # Only the sets the container's process has: no inheritable or ambient set appears.
    assert process['capabilities'] == {name: ['CAP_CHOWN', 'CAP_NET_ADMIN']
                                       for name in ('bounding', 'effective', 'permitted')}
    process = build_process(CONTAINER_PROCESS, params(capabilities={'drop': ['ALL']}))
    assert process['capabilities'] == {name: [] for name in
                                       ('bounding', 'effective', 'permitted', 'inheritable', 'ambient')}


def test_the_inheritable_set_is_never_widened():
    base = dict(CONTAINER_PROCESS, capabilities={'bounding': ['CAP_KILL'], 'inheritable': [],
                                                 'ambient': ['CAP_KILL']})
    process = build_process(base, params(capabilities={'add': ['CHOWN']}))
    assert process['capabilities']['inheritable'] == []
    assert process['capabilities']['ambient'] == ['CAP_CHOWN', 'CAP_KILL']


def test_the_container_process_is_not_changed():
    base = json.loads(json.dumps(CONTAINER_PROCESS))
    build_process(base, params(env={'A': 'b'}, capabilities={'add': ['CHOWN'], 'drop': ['KILL']},
                               user={'additional_gids': [5]}))
    assert base == CONTAINER_PROCESS


def test_secret_env_overrides_the_containers_variable():
    process = build_process(CONTAINER_PROCESS, params(env={'PLAIN': 1}, secret_env={'TOKEN': 's3cret', 'N': 7}))
    assert process['env'] == ['PATH=/bin', 'TOKEN=s3cret', 'PLAIN=1', 'N=7']


@pytest.mark.parametrize('content, problem', [
    (None, 'No such file or directory'),
    (b'{"process": ', 'not JSON'),
    (b'\xff\xfe', 'not JSON'),
    (b'[]', 'it has no process object'),
    (b'{"process": null}', 'it has no process object'),
])
def test_unusable_process_settings_fail_naming_the_file(tmp_path, content, problem):
    if content is not None:
        (tmp_path / 'config.json').write_bytes(content)
    with pytest.raises(ExecError) as caught:
        container_process('web', str(tmp_path))
    prefix = 'name: cannot read the process settings of container web from %s: ' % (tmp_path / 'config.json')
    assert str(caught.value).startswith(prefix + problem)


@pytest.mark.parametrize('bundle, named', [('', 'no folder'), (None, 'no folder'), ('bundle', "'bundle'")])
def test_a_state_without_an_absolute_bundle_never_reads_the_current_folder(tmp_path, monkeypatch, bundle, named):
    (tmp_path / 'config.json').write_text(json.dumps({'process': CONTAINER_PROCESS}))
    (tmp_path / 'bundle').mkdir()
    (tmp_path / 'bundle' / 'config.json').write_text(json.dumps({'process': CONTAINER_PROCESS}))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ExecError) as caught:
        container_process('web', bundle)
    assert str(caught.value) == ('name: cannot read the process settings of container web: runc state names %s '
                                 'as its bundle, not an absolute path' % named)


UNUSABLE = 'name: the process settings in the config.json of container web are unusable: '


@pytest.mark.parametrize('changes, given, problem', [
    (dict(capabilities={'bounding': None}), dict(capabilities={'add': ['CHOWN']}),
     'process.capabilities.bounding is null, not a list of capability names, so capabilities cannot be added to or '
     'dropped from it'),
    (dict(capabilities={'ambient': 'CAP_KILL'}), dict(capabilities={'drop': ['KILL']}),
     'process.capabilities.ambient is a string, not a list of capability names'),
    (dict(capabilities={'effective': [1]}), dict(capabilities={'add': ['CHOWN']}),
     'process.capabilities.effective holds a number, not only capability names'),
    (dict(capabilities=None), dict(capabilities={'add': ['CHOWN']}), 'process.capabilities is null, not an object'),
    (dict(capabilities=['CAP_KILL']), {}, 'process.capabilities is a list, not an object'),
    (dict(env=['PATH=/bin', 7]), dict(env={'A': 'b'}), 'process.env holds a number at position 1, not a KEY=VALUE string'),
    (dict(env=['PATH=/bin', None]), {}, 'process.env holds null at position 1, not a KEY=VALUE string'),
    (dict(env='PATH=/bin'), dict(secret_env={'A': 'hidden'}), 'process.env is a string, not a list of KEY=VALUE strings'),
    (dict(env={'PATH': '/bin'}), {}, 'process.env is an object, not a list of KEY=VALUE strings'),
    (dict(user='root'), {}, 'process.user is a string, not an object'),
    (dict(user=None), dict(user={'additional_gids': [5]}), 'process.user is null, not an object'),
    (dict(user=[0, 0]), dict(user={'uid': 0, 'gid': 0}), 'process.user is a list, not an object'),
])
def test_unusable_process_settings_fail_naming_the_container(changes, given, problem):
    base = dict(CONTAINER_PROCESS, **changes)
    with pytest.raises(ExecError) as caught:
        build_process(base, params(name='web', **given))
    assert str(caught.value).startswith(UNUSABLE + problem)
    assert 'hidden' not in str(caught.value)


@pytest.mark.parametrize('base', [None, [], 'sleep'])
def test_a_process_that_is_not_an_object_fails_naming_the_container(base):
    with pytest.raises(ExecError, match='^' + UNUSABLE + 'the process is .*, not an object$'):
        build_process(base, params(name='web'))


def test_a_null_capability_set_is_left_to_runc_when_no_capability_is_added():
    base = dict(CONTAINER_PROCESS, capabilities={'bounding': ['CAP_KILL'], 'ambient': None})
    assert build_process(base, params(name='web'))['capabilities'] == base['capabilities']


@pytest.mark.parametrize('changes', [
    dict(args='sleep 1000'), dict(args=None), dict(rlimits='odd'), dict(rlimits=[None, {'type': 1}]),
    dict(consoleSize=None), dict(cwd=None), dict(noNewPrivileges='yes'), dict(env=None),
])
def test_what_the_exec_replaces_or_leaves_to_runc_never_raises(changes):
    base = dict(CONTAINER_PROCESS, **changes)
    process = build_process(base, params(name='web', argv=['id'], cwd='/', no_new_privileges=True,
                                         capabilities={'add': ['CHOWN']},
                                         user={'uid': 1, 'gid': 1, 'additional_gids': [3]}, env={'A': 'b'}))
    assert process['args'] == ['id'] and process['cwd'] == '/' and process['noNewPrivileges'] is True
    assert process['rlimits'] == base['rlimits']


def test_a_folder_named_config_json_fails(tmp_path):
    (tmp_path / 'config.json').mkdir()
    with pytest.raises(ExecError, match='^name: cannot read the process settings of container web from .*: '
                                        'Is a directory$'):
        container_process('web', str(tmp_path))


def test_the_process_object_is_read_as_written(tmp_path):
    (tmp_path / 'config.json').write_text(json.dumps({'process': CONTAINER_PROCESS}))
    assert container_process('web', str(tmp_path)) == CONTAINER_PROCESS


@pytest.mark.parametrize('given, message', [
    (dict(argv=[]), 'argv: the command line must not be empty'),
    (dict(argv=['a\0b']), "argv: 'a\\x00b' holds a NUL character"),
    (dict(env={'A=B': 'x'}), "env: invalid variable name 'A=B'"),
    (dict(env={'A': 'x\0'}), "env: 'x\\x00' holds a NUL character"),
    (dict(secret_env={'A': 'x\0hidden'}), 'secret_env: the value of A holds a NUL character'),
    (dict(secret_env={'A': None}), 'secret_env: the value of A must be a string or a number (quote it)'),
    (dict(secret_env={'A': ['hidden']}), 'secret_env: the value of A must be a string or a number (quote it)'),
    (dict(env={'A': 1}, secret_env={'A': 'hidden'}), 'secret_env: A also in env; give each variable once'),
    (dict(cwd='rel'), "cwd: 'rel' must be an absolute path inside the container"),
    (dict(user={'uid': -1, 'gid': 0}), 'user.uid: -1 is not a user or group id (0 to 4294967294)'),
    (dict(user={'uid': 0, 'gid': 2 ** 32}), 'user.gid: 4294967296 is not a user or group id (0 to 4294967294)'),
    (dict(user={'additional_gids': [1, -2]}), 'user.additional_gids: -2 is not a user or group id (0 to 4294967294)'),
    (dict(user={'name': 'app', 'uid': 1}), 'user: give name or uid, not both'),
    (dict(user={'uid': 1, 'umask': '0027'}), 'user.umask: runc exec applies no umask to the process'),
    (dict(capabilities={'add': ['no such']}), "capabilities.add: 'no such' is not a capability name"),
    (dict(capabilities={'drop': ['ALL', 'KILL']}), 'capabilities.drop: ALL drops every capability; name no other'),
    (dict(secret_env={'S': 'hidden'}, user={'uid': -1}), 'user.uid: -1 is not a user or group id'),
    (dict(timeout=float('nan')), 'timeout: nan is not a number of seconds'),
    (dict(timeout=float('inf')), 'timeout: inf is not a number of seconds'),
    (dict(stdin='x', detach=True), 'stdin: a detached process cannot be given input'),
])
def test_bad_input_is_refused_naming_the_option(given, message):
    with pytest.raises(ExecError) as caught:
        validate(params(**given))
    assert str(caught.value).startswith(message)
    assert 'hidden' not in str(caught.value)


@pytest.mark.parametrize('task_args, message', [
    ({'capabilities': ['CHOWN']}, 'capabilities: give a dict with add and/or drop, for example {add: [NET_ADMIN]}'),
    ({'additional_gids': [2000]}, 'additional_gids: give user.additional_gids instead'),
    ({'capabilities': {'add': ['CHOWN']}, 'user': {'additional_gids': [2000]}}, None),
    ({}, None),
])
def test_the_forms_of_earlier_versions_are_named(task_args, message):
    problem = old_form_problem(task_args)
    assert problem == message if message is None else problem.startswith(message)


def test_secrets_are_hidden_everywhere_in_a_result():
    result = {'msg': 'failed: pw=hunter2', 'stdout_lines': ['hunter2', 'ok'], 'rc': 1,
              'nested': {'x': ('a hunter2 b',)}}
    assert hide_secrets(result, ['hunter2', '']) == {
        'msg': 'failed: pw=********', 'stdout_lines': ['********', 'ok'], 'rc': 1,
        'nested': {'x': ['a ******** b']}}
