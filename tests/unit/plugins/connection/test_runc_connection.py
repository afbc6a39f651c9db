# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The runc connection's user lookup, its SSH hop, and runtimes that fail, hang or print garbage.

The connection itself is shown to work against real containers in the runc_connection
integration target and the instances Molecule scenario; fake runtimes here only inject faults.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import tempfile
import time

import pytest

from ansible.errors import AnsibleConnectionFailure
from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import connection_loader

from ansible_collections.oci_runtime.runc.plugins.connection.runc import passwd_entry, supplementary_gids
from ansible_collections.oci_runtime.runc.plugins.plugin_utils._runc_hop import HopError, control_socket_name, failure_of, hop_argv

PASSWD = '''root:x:0:0:root:/root:/bin/bash
broken line
app:x:1234:2345:app:/srv:/bin/sh
odd:x:notanumber:1:odd:/:/bin/sh
'''
GROUP = '''root:x:0:
app:x:2345:
extra:x:3456:app,other
more:x:4567:other,app
self:x:2345:app
'''


def test_a_uid_never_matches_a_name_made_of_digits():
    assert passwd_entry('root:x:0:0::/:/bin/sh\n1000:x:0:0:evil:/:/bin/sh\napp:x:1000:1000::/:/bin/sh\n',
                        '1000') == (1000, 1000, 'app')


def test_a_name_or_a_uid_finds_its_entry():
    assert passwd_entry(PASSWD, 'app') == (1234, 2345, 'app')
    assert passwd_entry(PASSWD, '1234') == (1234, 2345, 'app')
    assert passwd_entry(PASSWD, 'odd') is None
    assert passwd_entry(PASSWD, 'nobody') is None
    assert passwd_entry('', 'root') is None


def test_supplementary_groups_are_those_naming_the_user_but_the_primary_one():
    assert supplementary_gids(GROUP, 'app', 2345) == [3456, 4567]
    assert supplementary_gids(GROUP, 'root', 0) == []


def test_the_hop_quotes_every_argument_for_the_remote_shell(tmp_path):
    argv = ['runc', '--root', '/run/a b', 'exec', 'c1', '/bin/sh', '-c', "echo 'x' && rm -rf $HOME; `id`"]
    assert hop_argv(argv, None) == argv
    hopped = hop_argv(argv, 'admin@host', ['-p', '2222'], control_path_dir=str(tmp_path))
    assert hopped[:1] == ['ssh'] and '-p' in hopped and hopped[-3:-1] == ['admin@host', '--']
    assert 'ControlPath="%s/%s"' % (tmp_path, control_socket_name('admin@host', ['-p', '2222'])) in hopped
    assert shlex.split(hopped[-1]) == argv


def test_each_connection_has_its_own_short_socket_name():
    name = control_socket_name('admin@host', ['-p', '2222'])
    assert re.fullmatch('runc-[0-9a-f]{12}', name) and name == control_socket_name('admin@host', ['-p', '2222'])
    others = {control_socket_name('root@host', ['-p', '2222']), control_socket_name('admin@host', ['-p', '22']),
              control_socket_name('admin@host', ['-p', '2222'], '/opt/ssh'), name}
    assert len(others) == 4


@pytest.fixture
def short_tmp():
    """A folder whose path is short enough to hold control sockets (pytest's tmp_path is not)."""
    folder = tempfile.mkdtemp(prefix='oci-runc-cp-', dir='/tmp')
    yield folder
    shutil.rmtree(folder)


# ssh makes the master's socket as ControlPath + '.' + 16 characters, and a Unix socket path has
# at most 107 bytes: with a 17-byte name (runc-...), a folder of 72 bytes is the longest that works
# (measured with OpenSSH on a test host: 72 connects, 73 fails 'too long for Unix domain socket').
@pytest.mark.parametrize('length, fits', [(72, True), (73, False)])
def test_a_control_folder_too_long_for_a_socket_is_refused_before_it_is_made(short_tmp, length, fits):
    folder = short_tmp + '/' + 'd' * (length - len(short_tmp) - 1)
    assert len(folder) == length
    if fits:
        assert 'ControlPath="%s/%s"' % (folder, control_socket_name('h')) in hop_argv(['true'], 'h', control_path_dir=folder)
        assert os.path.isdir(folder)
        return
    connection = connection_to('c1', runc_host='h', runc_ssh_control_path_dir=folder)
    with pytest.raises(AnsibleConnectionFailure, match='runc_ssh_control_path_dir: the SSH control folder %s is too long: '
                       'the socket ssh makes in it would have a path of 108 bytes, and a Unix socket may have 107; '
                       'choose a folder of at most 72 bytes' % folder):
        connection._connect()
    assert not os.path.exists(folder)


@pytest.mark.parametrize('ssh_args, own', [
    (['-o', 'ControlPath=/tmp/%C'], True),
    (['-oControlPath /tmp/%C'], True),
    (['-o', ' controlpath = /tmp/%C'], True),
    (['-S', '/tmp/socket'], True),
    (['-S/tmp/socket'], True),
    (['-qS', '/tmp/socket'], True),
    (['-qoControlPath=/tmp/%C'], True),
    (['-o', '"ControlPath"=/tmp/%C'], True),
    (['-i', '-Skeyfile'], False),          # a key named -Skeyfile
    (['-o', 'ControlPersist=10'], False),
    (['-o', 'ProxyCommand=ssh -o ControlPath=/x jump -W %h:%p'], False),
    (['-p', '2222'], False),
])
def test_a_socket_of_the_users_own_leaves_the_control_folder_alone(short_tmp, ssh_args, own):
    # The user's ssh_args come first and win: a folder too long for the collection's socket is
    # then neither refused nor made.
    folder = short_tmp + '/' + 'd' * 80
    if own:
        assert hop_argv(['true'], 'h', ssh_args, control_path_dir=folder)[:len(ssh_args) + 1] == ['ssh'] + ssh_args
    else:
        with pytest.raises(HopError, match='is too long'):
            hop_argv(['true'], 'h', ssh_args, control_path_dir=folder)
    assert not os.path.exists(folder)


# With ControlMaster=no ssh makes no master: it only looks for one at the ControlPath itself, so
# the folder may be 17 bytes longer (no temporary name), and it is not made.
@pytest.mark.parametrize('ssh_args, longest', [
    (['-o', 'ControlMaster=no'], 89),
    (['-o', 'controlmaster no'], 89),
    (['-oControlMaster="no"'], 89),
    (['-o', 'ControlMaster=false'], 89),
    (['-qMo', 'ControlMaster=no'], 72),
    (['-o', "ControlMaster='no'"], 89),                     # quoted as ssh reads a line
    (['-o', 'ControlMaster=n"o" # a comment'], 89),
    (['-o', 'ControlMasterX=no'], 72),
    (['-o', 'ControlMaster=no', '-M'], 72),                 # -M wins over -o
    (['-o', 'ControlMaster=auto', '-o', 'ControlMaster=no'], 72),   # ssh takes the first
    (['-o', 'ControlMaster=autoask'], 72),
])
def test_without_a_master_the_folder_is_only_looked_in(short_tmp, ssh_args, longest):
    for length in (longest, longest + 1):
        folder = short_tmp + '/' + 'd' * (length - len(short_tmp) - 1)
        if length == longest:
            hop_argv(['true'], 'h', ssh_args, control_path_dir=folder)
            assert os.path.isdir(folder) == (longest == 72)
        else:
            with pytest.raises(HopError, match='the socket ssh %s in it .* choose a folder of at most %d bytes'
                               % ('looks for' if longest == 89 else 'makes', longest)):
                hop_argv(['true'], 'h', ssh_args, control_path_dir=folder)
            assert not os.path.exists(folder)


def test_reset_closes_the_master_the_connection_used(short_tmp, monkeypatch):
    calls = []
    monkeypatch.setattr('ansible_collections.oci_runtime.runc.plugins.connection.runc.run',
                        lambda argv, **kwargs: calls.append(argv) or (0, b'', b''))
    connection = connection_to('c1', runc_host='admin@h', runc_ssh_args=['-p', '2222'],
                               runc_ssh_control_path_dir=short_tmp)
    used = [arg for arg in connection._runtime('state', 'c1') if arg.startswith('ControlPath=')]
    connection.reset()
    assert len(calls) == 1 and calls[0][-3:] == ['-O', 'exit', 'admin@h']
    assert [arg for arg in calls[0] if arg.startswith('ControlPath=')] == used == [
        'ControlPath="%s/%s"' % (short_tmp, control_socket_name('admin@h', ['-p', '2222']))]


@pytest.mark.parametrize('name, given', [
    ('100%C', '100%%C'),                  # a %-token of ssh's, doubled
    ('sp ace', 'sp ace'),                 # quoted: a space would end the value
    ('q"uote', 'q\\"uote'),
    ('back\\slash', 'back\\\\slash'),
])
def test_the_control_folder_reaches_ssh_as_it_is(short_tmp, name, given):
    expected = 'ControlPath="%s/%s/%s"' % (short_tmp, given, control_socket_name('h'))
    assert expected in hop_argv(['true'], 'h', control_path_dir=short_tmp + '/' + name)


@pytest.mark.parametrize('name', ['d${HOME}', 'line\nbreak', 'n\0ul'])
def test_a_control_folder_ssh_cannot_be_given_is_refused_before_it_is_made(short_tmp, name):
    with pytest.raises(HopError, match='cannot be given to ssh'):
        hop_argv(['true'], 'h', control_path_dir=short_tmp + '/' + name)
    assert os.listdir(short_tmp) == []


@pytest.mark.parametrize('ssh_args, message', [
    (['-p', 2222], None),
    (['-p', True], 'runc_ssh_args: give a list of strings'),
    ([['-p']], 'runc_ssh_args: give a list of strings'),
    # ssh would take the collection's options after these for the host or the command.
    (['-i'], 'runc_ssh_args: -i needs a value after it'),
    (['-qS'], 'runc_ssh_args: -qS needs a value after it'),
    (['-p', '22', 'admin@h'], "runc_ssh_args: 'admin@h' is not an option of ssh"),
    (['--'], "runc_ssh_args: '--' is not an option of ssh"),
])
def test_ssh_args_are_strings_or_numbers(ssh_args, message):
    connection = connection_to('c1', runc_host='h', runc_ssh_args=ssh_args)
    if message:
        with pytest.raises(AnsibleConnectionFailure, match=message):
            connection._hop()
    else:
        assert connection._hop()[1] == ['-p', '2222']


@pytest.mark.parametrize('status, stderr, via_ssh, expected', [
    (255, b'time="t" level=error msg="exec failed: container does not exist"\n', False,
     'exec failed: container does not exist'),
    (255, b'the command itself says so\n', False, None),          # a command that exits with 255
    (1, b'time="t" level=error msg="ignored: not 255"\n', False, None),
    (255, b'ssh: connect to host 10.0.0.9 port 22: Connection refused\n', True,
     'ssh: connect to host 10.0.0.9 port 22: Connection refused'),
    (255, b'ssh: no hop here\n', False, None),
    (255, b'unix_listener: cannot bind to path /cp/runc-x.y: Permission denied\n', True,
     'unix_listener: cannot bind to path /cp/runc-x.y: Permission denied'),
    (255, b"ControlPath too long ('/x' >= 108 bytes)\n", True, "ControlPath too long ('/x' >= 108 bytes)"),
])
def test_only_the_runtime_or_ssh_failing_itself_is_a_connection_failure(status, stderr, via_ssh, expected):
    assert failure_of(status, stderr, via_ssh) == expected


@pytest.fixture
def fake_runtime(tmp_path):
    """fake_runtime('sh body'): the path of an executable script standing in for runc.

    Controller tests cannot share the client tests' conftest (ansible-test loads those
    from the collection path only), hence this copy of its one fixture.
    """
    scripts = iter(range(100))

    def make(body):
        script = tmp_path / ('runtime-%d' % next(scripts))
        script.write_text('#!/bin/sh\n' + body + '\n')
        script.chmod(0o755)
        return str(script)
    return make


def connection_to(container, **options):
    connection = connection_loader.get('oci_runtime.runc.runc', PlayContext(), None)
    connection.set_options(direct=dict(dict(remote_addr=container), **options))
    return connection


@pytest.mark.parametrize('script, message', [
    ('echo \'time="t" level=error msg="container does not exist"\' >&2; exit 1', 'container does not exist'),
    ('echo "not json {"', 'not JSON'),
    ('echo \'{"id": "c1", "status": "stopped"}\'', 'is stopped, not running'),
    ('echo \'["a list"]\'', r'is \?, not running'),
    ('exec sleep 30', 'did not answer within 1 seconds'),
])
def test_a_container_that_cannot_be_reached_is_a_connection_failure(fake_runtime, script, message):
    connection = connection_to('c1', runtime_path=fake_runtime(script), runc_timeout=1)
    with pytest.raises(AnsibleConnectionFailure, match=message):
        connection._connect()


def test_a_bad_container_id_is_refused_before_the_runtime_runs(fake_runtime, tmp_path):
    record = tmp_path / 'ran'
    connection = connection_to('../c1', runtime_path=fake_runtime('touch %s' % record))
    with pytest.raises(AnsibleConnectionFailure, match='remote_addr: invalid container id'):
        connection._connect()
    assert not record.exists()


def test_a_missing_runtime_is_a_connection_failure(tmp_path):
    connection = connection_to('c1', runtime_path=str(tmp_path / 'no-runtime'))
    with pytest.raises(AnsibleConnectionFailure, match='cannot run'):
        connection._connect()


@pytest.mark.parametrize('user, passwd, message', [
    ('7777', 'root:x:0:0::/:/bin/sh', 'remote_user: uid 7777 has no entry'),
    ('ghost', 'root:x:0:0::/:/bin/sh', "remote_user: no user 'ghost'"),
])
def test_a_user_that_cannot_be_resolved_is_never_run_as_root(fake_runtime, tmp_path, user, passwd, message):
    calls = tmp_path / 'calls'
    write_config(tmp_path)
    connection = connection_to('c1', runtime_path=scripted_runtime(fake_runtime, calls, tmp_path, passwd=passwd),
                               remote_user=user)
    with pytest.raises(AnsibleConnectionFailure, match=message):
        connection.exec_command('id')
    assert [line for line in calls.read_text().splitlines() if line.endswith('-c id')] == []


def test_user_flags_carry_uid_gid_and_groups(fake_runtime, tmp_path):
    calls = tmp_path / 'calls'
    write_config(tmp_path)
    connection = connection_to('c1', runtime_path=scripted_runtime(fake_runtime, calls, tmp_path), remote_user='app',
                               cwd='/srv', env={'A': 'b c'})
    status, out, dummy = connection.exec_command('id')
    assert status == 0 and out == b'ran\n'
    assert without_log(calls.read_text().splitlines()[-1]) == (
        'exec --user 1234:2345 --additional-gids 3456 --cwd /srv --env A=b c c1 /bin/sh -c id')


def scripted_runtime(fake_runtime, calls, bundle, passwd='app:x:1234:2345::/:/bin/sh\nalice:x:1001:1001::/:/bin/sh',
                     exec_body='echo ran'):
    """A runtime whose state names bundle, whose container has passwd, and whose other execs run exec_body."""
    return fake_runtime('''echo "$*" >> %s
case "$*" in
  "state c1") echo '{"id": "c1", "pid": 1, "status": "running", "bundle": "%s", "created": "t"}' ;;
  *"cat /etc/passwd") printf '%s\\n' ;;
  *"cat /etc/group") echo 'extra:x:3456:app' ;;
  *) %s ;;
esac''' % (calls, bundle, passwd.replace('\n', '\\n'), exec_body))


def without_log(line):
    """An exec's argv without the --log of a file of its own that every local exec gets."""
    return re.sub(r'^--log \S+ --log-format json ', '', line)


def write_config(folder, additional_gids=None):
    user = {'uid': 0, 'gid': 0}
    if additional_gids is not None:
        user['additionalGids'] = additional_gids
    (folder / 'config.json').write_text(json.dumps({'process': {'user': user}}))


def test_a_failed_user_lookup_never_runs_as_the_user_before(fake_runtime, tmp_path):
    calls = tmp_path / 'calls'
    write_config(tmp_path)
    runtime = scripted_runtime(fake_runtime, calls, tmp_path)
    connection = connection_to('c1', runtime_path=runtime, remote_user='alice')
    assert connection.exec_command('id')[1] == b'ran\n'
    connection.set_options(direct=dict(remote_addr='c1', runtime_path=runtime, remote_user='ghost'))
    for dummy in range(2):
        with pytest.raises(AnsibleConnectionFailure, match="no user 'ghost'"):
            connection.exec_command('id')
    assert [without_log(line) for line in calls.read_text().splitlines() if line.endswith('-c id')] == [
        'exec --user 1001:1001 c1 /bin/sh -c id']


def test_a_container_with_additional_groups_refuses_another_user(fake_runtime, tmp_path):
    calls = tmp_path / 'calls'
    write_config(tmp_path, additional_gids=[0, 10])
    runtime = scripted_runtime(fake_runtime, calls, tmp_path)
    connection = connection_to('c1', runtime_path=runtime, remote_user='app')
    with pytest.raises(AnsibleConnectionFailure, match='additional groups 0, 10, which runc exec keeps'):
        connection.exec_command('id')
    assert [line for line in calls.read_text().splitlines() if line.endswith('-c id')] == []
    # The container's own user needs no flag and keeps its groups.
    connection.set_options(direct=dict(remote_addr='c1', runtime_path=runtime))
    assert connection.exec_command('id')[0] == 0


def test_stdin_reaches_the_process_for_pipelining(fake_runtime, tmp_path):
    write_config(tmp_path)
    runtime = scripted_runtime(fake_runtime, tmp_path / 'calls', tmp_path, exec_body='cat')
    connection = connection_to('c1', runtime_path=runtime)
    data = bytes(range(256)) * 4096
    assert connection.exec_command('python3', in_data=data)[1] == data


def test_env_values_are_checked_and_never_logged(fake_runtime, tmp_path, monkeypatch):
    from ansible_collections.oci_runtime.runc.plugins.connection import runc as plugin
    logged = []
    monkeypatch.setattr(plugin.display, 'vvv', lambda message, host=None: logged.append(message))
    write_config(tmp_path)
    runtime = scripted_runtime(fake_runtime, tmp_path / 'calls', tmp_path)
    connection = connection_to('c1', runtime_path=runtime, runc_host=None, env={'TOKEN': 's3cret'})
    assert connection.exec_command('true')[0] == 0
    assert logged and not [message for message in logged if 's3cret' in message]
    assert 'TOKEN=********' in ' '.join(logged)
    connection = connection_to('c1', runtime_path=runtime, env={'TOKEN': None})
    with pytest.raises(AnsibleConnectionFailure, match='env: the value of TOKEN must be a string or a number'):
        connection.exec_command('true')


def test_a_become_password_is_refused_not_sent_as_input(fake_runtime, tmp_path):
    write_config(tmp_path)
    connection = connection_to('c1', runtime_path=scripted_runtime(fake_runtime, tmp_path / 'calls', tmp_path))

    class Become:
        @staticmethod
        def expect_prompt():
            return True
    connection.become = Become()
    with pytest.raises(AnsibleConnectionFailure, match='become: the runc connection answers no password prompt'):
        connection.exec_command('id', sudoable=True)


def test_an_ssh_option_is_no_host_and_the_users_ssh_args_come_first(fake_runtime, tmp_path):
    connection = connection_to('c1', runtime_path=fake_runtime('exit 0'), runc_host='-oProxyCommand=touch x')
    with pytest.raises(AnsibleConnectionFailure, match="runc_host: '-oProxyCommand=touch x' is not a host name"):
        connection._connect()
    hopped = hop_argv(['runc', 'list'], 'h', ['-o', 'BatchMode=no'], control_path_dir=str(tmp_path), connect_timeout=7)
    assert hopped.index('BatchMode=no') < hopped.index('BatchMode=yes')
    assert 'ConnectTimeout=7' in hopped


def test_a_command_exiting_255_with_a_runtime_like_message_is_the_commands_failure(fake_runtime, tmp_path):
    # The command of the container prints what runc would and exits 255: runc itself logged nothing.
    write_config(tmp_path)
    runtime = scripted_runtime(fake_runtime, tmp_path / 'calls', tmp_path,
                               exec_body='echo \'time="t" level=error msg="spoofed"\' >&2; exit 255')
    status, dummy, err = connection_to('c1', runtime_path=runtime).exec_command('x')
    assert status == 255 and b'spoofed' in err


def test_the_runtimes_own_failure_in_its_log_is_a_connection_failure(fake_runtime, tmp_path):
    write_config(tmp_path)
    body = ('log=; while [ $# -gt 0 ]; do [ "$1" = --log ] && log=$2; shift; done; '
            'echo \'{"level":"error","msg":"exec failed: no /bin/sh","time":"t"}\' >> "$log"; exit 255')
    runtime = scripted_runtime(fake_runtime, tmp_path / 'calls', tmp_path, exec_body=body)
    with pytest.raises(AnsibleConnectionFailure, match='exec failed: no /bin/sh'):
        connection_to('c1', runtime_path=runtime).exec_command('x')


def test_fetch_never_writes_through_a_link_or_over_a_part_file(fake_runtime, tmp_path):
    write_config(tmp_path)
    runtime = scripted_runtime(fake_runtime, tmp_path / 'calls', tmp_path, exec_body='echo fetched')
    canary = tmp_path / 'canary'
    canary.write_text('precious')
    (tmp_path / 'out.part').symlink_to(canary)
    connection = connection_to('c1', runtime_path=runtime)
    connection.fetch_file('/etc/hostname', str(tmp_path / 'out'))
    assert (tmp_path / 'out').read_text() == 'fetched\n'
    assert canary.read_text() == 'precious' and os.path.islink(tmp_path / 'out.part')
    assert sorted(os.listdir(tmp_path)) == ['calls', 'canary', 'config.json', 'out', 'out.part', 'runtime-0']


def test_a_missing_root_or_an_id_like_an_option_is_refused_before_runc_runs(fake_runtime, tmp_path):
    record = tmp_path / 'ran'
    runtime = fake_runtime('touch %s' % record)
    with pytest.raises(AnsibleConnectionFailure, match='root: .* is not a folder on this machine'):
        connection_to('c1', runtime_path=runtime, root=str(tmp_path / 'no-root'))._connect()
    with pytest.raises(AnsibleConnectionFailure, match="remote_addr: '--help' would be read by runc as an option"):
        connection_to('--help', runtime_path=runtime)._connect()
    assert not record.exists() and not (tmp_path / 'no-root').exists()


def test_a_runtime_whose_child_holds_its_pipes_times_out(fake_runtime):
    connection = connection_to('c1', runtime_path=fake_runtime('sleep 30 & sleep 30'), runc_timeout=1)
    started = time.monotonic()
    with pytest.raises(AnsibleConnectionFailure, match='did not answer within 1 seconds'):
        connection._connect()
    assert time.monotonic() - started < 5


def test_a_control_folder_under_an_unknown_home_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(HopError, match='names a home folder this machine does not know'):
        hop_argv(['true'], 'h', control_path_dir='~no-such-user-here/cp')
    assert os.listdir(tmp_path) == []
