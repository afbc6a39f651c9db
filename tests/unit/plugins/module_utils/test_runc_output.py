# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Parsers of runtime output, fed with the shapes runc, crun and go-runc's tests use."""

from __future__ import annotations

import pytest

from ansible_collections.oci_runtime.runc.plugins.module_utils._runc_output import (
    OutputParseError,
    log_error_messages,
    parse_json_output,
    parse_log_line,
    parse_ps_table,
    parse_version,
    runtime_message,
)


@pytest.mark.parametrize('text, expected', [
    ('runc version 1.0.0-rc3\ncommit: 17f3e2a07439a024e54566774d597df9177ee216\nspec: 1.0.0-rc5-dev\n',
     {'runtime': 'runc', 'runc': '1.0.0-rc3', 'commit': '17f3e2a07439a024e54566774d597df9177ee216',
      'spec': '1.0.0-rc5-dev', 'details': {}}),
    ('runc version 1.0.0-rc9\nspec: 1.0.1-dev\n',
     {'runtime': 'runc', 'runc': '1.0.0-rc9', 'commit': '', 'spec': '1.0.1-dev', 'details': {}}),
    ('runc version 1.0.0-rc8+dev\n',
     {'runtime': 'runc', 'runc': '1.0.0-rc8+dev', 'commit': '', 'spec': '', 'details': {}}),
    ('runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\ngo: go1.19.8\nlibseccomp: 2.5.4\n',
     {'runtime': 'runc', 'runc': '1.1.5+ds1', 'commit': '1.1.5+ds1-1+deb12u1', 'spec': '1.0.2-dev',
      'details': {'go': 'go1.19.8', 'libseccomp': '2.5.4'}}),
    ('crun version 1.8.1\ncommit: f8a096be060b22ccd3d5f3ebe44108517fbf6c30\nrundir: /run/crun\n'
     'spec: 1.0.0\n+SYSTEMD +SELINUX +APPARMOR +CAP +SECCOMP +EBPF +YAJL\n',
     {'runtime': 'crun', 'runc': '1.8.1', 'commit': 'f8a096be060b22ccd3d5f3ebe44108517fbf6c30',
      'spec': '1.0.0', 'details': {'rundir': '/run/crun', 'features': [
          '+SYSTEMD', '+SELINUX', '+APPARMOR', '+CAP', '+SECCOMP', '+EBPF', '+YAJL']}}),
])
def test_parse_version(text, expected):
    assert parse_version(text) == expected


@pytest.mark.parametrize('text', ['Garbage\nspec: nope\n', '', '\n\n', 'runc\n', 'version 1.0\n'])
def test_parse_version_rejects_garbage(text):
    with pytest.raises(OutputParseError, match='unexpected version output'):
        parse_version(text)


PS_EF = (
    'UID        PID  PPID  C STIME TTY          TIME CMD\n'
    'root      7740     1  0 10:21 ?        00:00:00 sleep 1000\n'
    'root      7802  7740  0 10:22 ?        00:00:00 sh -c echo a  b;  sleep 5\n'
)


def test_parse_ps_table_keeps_the_command_whole():
    table = parse_ps_table(PS_EF)
    assert table['headers'] == ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']
    assert table['processes'] == [
        ['root', '7740', '1', '0', '10:21', '?', '00:00:00', 'sleep 1000'],
        ['root', '7802', '7740', '0', '10:22', '?', '00:00:00', 'sh -c echo a b; sleep 5'],
    ]


def test_parse_ps_table_skips_thread_rows_and_blank_lines():
    # `ps -eLf`-style output, where thread rows repeat with PID "-".
    text = ('USER PID %CPU CMD\n'
            'root 42 0.0 /bin/server --port 80\n'
            'root - 0.0 -\n'
            '\n'
            'root 43 1.5 worker\n')
    assert parse_ps_table(text)['processes'] == [
        ['root', '42', '0.0', '/bin/server --port 80'],
        ['root', '43', '1.5', 'worker'],
    ]


def test_parse_ps_table_with_pid_column_only():
    assert parse_ps_table('  PID\n 7740\n 7802\n') == {
        'headers': ['PID'], 'processes': [['7740'], ['7802']]}


def test_parse_ps_table_pads_a_missing_command():
    assert parse_ps_table('PID TTY CMD\n12 ?\n')['processes'] == [['12', '?', '']]


def test_parse_ps_table_splits_on_ascii_whitespace_only():
    # A no-break space inside a command line is part of the command.
    table = parse_ps_table(u'PID CMD\n7 echo a\u00a0b\n')
    assert table['processes'] == [['7', u'echo a\u00a0b']]


@pytest.mark.parametrize('text', ['', 'UID PPID CMD\nroot 1 init\n'])
def test_parse_ps_table_without_pid_column_fails_clearly(text):
    with pytest.raises(OutputParseError, match='no PID column'):
        parse_ps_table(text)


@pytest.mark.parametrize('line, expected', [
    ('{"level":"error","msg":"container does not exist","time":"2026-11-28T10:21:54Z"}',
     ('error', 'container does not exist')),
    ('time="2026-11-28T10:21:54Z" level=error msg="container does not exist"',
     ('error', 'container does not exist')),
    ('time="2026-11-28T10:22:00Z" level=error msg="exit status 1: error: garbage option\\n\\nUsage:"',
     ('error', 'exit status 1: error: garbage option\n\nUsage:')),
    ('time="2026-11-28T10:22:00Z" level=debug msg=nsexec-1', ('debug', 'nsexec-1')),
    ('container does not exist', (None, 'container does not exist')),
    ('{not json', (None, '{not json')),
])
def test_parse_log_line(line, expected):
    assert parse_log_line(line) == expected


def test_runtime_message_prefers_the_last_error_entry():
    log = '\n'.join([
        '{"level":"debug","msg":"nsexec started","time":"t"}',
        '{"level":"error","msg":"first problem","time":"t"}',
        '{"level":"warning","msg":"by the way","time":"t"}',
        '{"level":"fatal","msg":"runc run failed: invalid rootfs","time":"t"}',
        'runc run failed: invalid rootfs',
    ])
    assert runtime_message(log) == 'runc run failed: invalid rootfs'
    assert log_error_messages(log) == ['first problem', 'runc run failed: invalid rootfs']


def test_runtime_message_falls_back_to_plain_text():
    assert runtime_message('\ncontainer does not exist\n\n') == 'container does not exist'
    assert runtime_message('') is None
    assert runtime_message('time="t" level=info msg="only info"\n') is None


def test_parse_json_output():
    assert parse_json_output('null\n', 'runc list') is None
    assert parse_json_output('[1, 2]', 'runc ps') == [1, 2]
    with pytest.raises(OutputParseError, match='runc state: runtime printed something that is not JSON'):
        parse_json_output('garbage', 'runc state')
