# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How the client turns settings and options into argv, and what it refuses."""

from __future__ import annotations

import os
import signal

import pytest

from ansible_collections.oci_runtime.runc.plugins.module_utils.runc import (
    CheckpointOptions,
    CreateOptions,
    DeleteOptions,
    ExecOptions,
    KillOptions,
    ProcessIO,
    RestoreOptions,
    Runc,
    RuncError,
    parse_signal,
    read_pid_file,
    validate_container_id,
)


def test_global_args_are_empty_by_default():
    assert Runc().argv('list') == ['runc', 'list']


def test_every_global_setting_reaches_argv():
    runc = Runc(command='/usr/bin/crun', root='/run/private', debug=True, log='/var/log/runc.log',
                log_format='json', systemd_cgroup=True, rootless=False, extra_args=['--criu', 'x'])
    assert runc.argv('state', 'c1') == [
        '/usr/bin/crun', '--root', '/run/private', '--debug', '--log', '/var/log/runc.log',
        '--log-format', 'json', '--systemd-cgroup', '--rootless=false', '--criu', 'x', 'state', 'c1']


@pytest.mark.parametrize('rootless, expected', [(None, []), (True, ['--rootless=true']),
                                                (False, ['--rootless=false'])])
def test_rootless_none_means_auto(rootless, expected):
    assert Runc(rootless=rootless).global_args() == expected


def test_a_per_call_log_file_replaces_the_configured_log():
    runc = Runc(log='/var/log/runc.log')
    assert runc.argv('exec', log_file='/tmp/exec.log') == ['runc', '--log', '/tmp/exec.log', 'exec']


@pytest.mark.parametrize('settings, message', [
    (dict(log_format='xml'), "invalid log_format 'xml'"),
    (dict(command=''), 'runtime command must not be empty'),
    (dict(timeout=0), 'invalid timeout 0'),
    (dict(pdeath_signal='SIGNOPE'), "invalid signal 'SIGNOPE'"),
])
def test_bad_global_settings_are_refused(settings, message):
    with pytest.raises(RuncError, match=message):
        Runc(**settings)


def test_create_options_args_in_go_runc_order():
    options = CreateOptions(pid_file='relative/pid', console_socket='/tmp/c.sock', no_pivot=True,
                            no_new_keyring=True, extra_files=[7, 8], extra_args=['--other'])
    assert options.args('create') == [
        '--pid-file', os.path.abspath('relative/pid'), '--console-socket', '/tmp/c.sock',
        '--no-pivot', '--no-new-keyring', '--preserve-fds', '2', '--other']


def test_create_options_empty():
    assert CreateOptions().args('create') == []
    assert CreateOptions(extra_args=['--other']).args('run') == ['--other']


def test_run_only_flags_never_reach_create():
    # runc create has no --detach: passing it would make runc fail.
    options = CreateOptions(detach=True, no_subreaper=True, keep=True)
    assert options.args('create') == []
    assert options.args('run') == ['--detach', '--no-subreaper', '--keep']


def test_console_socket_object_gives_its_path():
    class Socket:
        path = '/tmp/runc-console-x/pty.sock'
    assert CreateOptions(console_socket=Socket()).args('run') == ['--console-socket', Socket.path]


def test_exec_options_args():
    options = ExecOptions(console_socket='/s', detach=True, pid_file='/run/p', ignore_paused=True,
                          extra_files=[5], extra_args=['--cgroup', 'x'])
    assert options.args() == ['--console-socket', '/s', '--detach', '--pid-file', '/run/p',
                              '--ignore-paused', '--preserve-fds', '1', '--cgroup', 'x']


def test_delete_and_kill_options():
    assert DeleteOptions().args() == []
    assert DeleteOptions(force=True, extra_args=['-x']).args() == ['--force', '-x']
    assert KillOptions().args() == []
    assert KillOptions(all=True).args() == ['--all']


def test_checkpoint_options_cover_every_criu_flag():
    options = CheckpointOptions(
        image_path='/img', work_path='/work', parent_path='../pre', leave_running=True, pre_dump=True,
        tcp_established=True, ext_unix_sk=True, shell_job=True, page_server='127.0.0.1:9000',
        file_locks=True, manage_cgroups_mode='full', empty_ns=['network', 'ipc'], lazy_pages=True,
        auto_dedup=True, status_fd=9, extra_args=['--x'])
    assert options.args() == [
        '--image-path', '/img', '--work-path', '/work', '--tcp-established', '--ext-unix-sk',
        '--shell-job', '--file-locks', '--manage-cgroups-mode', 'full', '--empty-ns', 'network',
        '--empty-ns', 'ipc', '--lazy-pages', '--auto-dedup', '--parent-path', '../pre',
        '--leave-running', '--pre-dump', '--page-server', '127.0.0.1:9000', '--status-fd', '3', '--x']
    assert CheckpointOptions().args() == []


def test_checkpoint_options_validation():
    with pytest.raises(RuncError, match="invalid manage_cgroups_mode 'loose'"):
        CheckpointOptions(manage_cgroups_mode='loose').validate()
    with pytest.raises(RuncError, match='mutually exclusive'):
        CheckpointOptions(status_fd=4, status_file='/tmp/s').validate()
    for mode in ('soft', 'full', 'strict', 'ignore'):
        CheckpointOptions(manage_cgroups_mode=mode).validate()


def test_restore_options_args():
    options = RestoreOptions(
        image_path='/img', work_path='/work', tcp_established=True, ext_unix_sk=True, shell_job=True,
        file_locks=True, manage_cgroups_mode='soft', empty_ns=['network'], lazy_pages=True,
        auto_dedup=True, detach=True, pid_file='p', no_subreaper=True, no_pivot=True,
        console_socket='/s', extra_args=['--lsm-profile', 'apparmor:x'])
    assert options.args() == [
        '--image-path', '/img', '--work-path', '/work', '--tcp-established', '--ext-unix-sk',
        '--shell-job', '--file-locks', '--manage-cgroups-mode', 'soft', '--empty-ns', 'network',
        '--lazy-pages', '--auto-dedup', '--detach', '--pid-file', os.path.abspath('p'),
        '--console-socket', '/s', '--no-pivot', '--no-subreaper', '--lsm-profile', 'apparmor:x']
    with pytest.raises(RuncError, match='invalid manage_cgroups_mode'):
        RestoreOptions(manage_cgroups_mode='x').validate()


@pytest.mark.parametrize('container_id', ['c1', 'web.1', 'a+b-c_d', 'x' * 200, '...', '.a'])
def test_valid_container_ids(container_id):
    assert validate_container_id(container_id) == container_id


@pytest.mark.parametrize('container_id', ['', '.', '..', '../x', 'a b', 'a/b', 'x;rm', u'caf\u00e9',
                                          'tab\t', None, 7])
def test_invalid_container_ids(container_id):
    with pytest.raises(RuncError, match='invalid container id'):
        validate_container_id(container_id)


@pytest.mark.parametrize('value, expected', [
    (9, 9), ('9', 9), ('KILL', signal.SIGKILL), ('SIGKILL', signal.SIGKILL), ('sigterm', signal.SIGTERM),
    ('HUP', signal.SIGHUP), ('SIGRTMIN', signal.SIGRTMIN), ('SIGRTMIN+3', signal.SIGRTMIN + 3),
    ('RTMAX-1', signal.SIGRTMAX - 1), (signal.SIGUSR1, signal.SIGUSR1),
])
def test_parse_signal(value, expected):
    assert parse_signal(value) == int(expected)


@pytest.mark.parametrize('value', ['SIGNOPE', 'NOPE', '', 0, -1, 1000, True, 'SIGRTMAX+1', '1.5'])
def test_parse_signal_refuses(value):
    with pytest.raises(RuncError, match='invalid signal'):
        parse_signal(value)


def test_read_pid_file(tmp_path):
    pid_file = tmp_path / 'pid'
    pid_file.write_text('1234')
    assert read_pid_file(str(pid_file)) == 1234
    pid_file.write_text('garbage')
    with pytest.raises(RuncError, match='not a process id'):
        read_pid_file(str(pid_file))
    with pytest.raises(RuncError, match='cannot read pid file'):
        read_pid_file(str(tmp_path / 'missing'))


def test_process_io_defaults():
    io = ProcessIO()
    assert (io.stdin_data, io.stdout_path, io.stderr_path) == (None, None, None)
