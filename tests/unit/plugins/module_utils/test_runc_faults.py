# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The client against runtimes that fail, hang or print garbage (fake runtimes)."""

from __future__ import annotations

import concurrent.futures
import json
import os
import sys
import time

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
)

# Writes a JSON log line to the file after --log, as runc does, then fails.
FAIL_VIA_LOG = '''
log=
while [ $# -gt 0 ]; do
  if [ "$1" = --log ]; then log=$2; fi
  shift
done
printf '{"level":"error","msg":"runc create failed: invalid rootfs","time":"t"}\\n' >> "$log"
echo 'runc create failed: invalid rootfs' >&2
exit 1
'''


def test_failure_carries_argv_status_and_the_runtime_message(fake_runtime):
    runtime = fake_runtime(
        'echo \'{"level":"error","msg":"container does not exist","time":"t"}\' >&2; exit 3')
    runc = Runc(command=runtime, root='/tmp/nowhere')
    with pytest.raises(RuncError) as caught:
        runc.state('c1')
    error = caught.value
    assert error.argv == [runtime, '--root', '/tmp/nowhere', 'state', 'c1']
    assert error.exit_status == 3
    assert error.runc_message == 'container does not exist'
    assert error.container_missing
    assert str(error) == '%s state failed (exit status 3): container does not exist' % os.path.basename(runtime)
    assert error.as_dict()['argv'] == error.argv


def test_text_log_lines_give_the_message_too(fake_runtime):
    runtime = fake_runtime('echo \'time="t" level=error msg="cannot pause: not running"\' >&2; exit 1')
    with pytest.raises(RuncError) as caught:
        Runc(command=runtime).pause('c1')
    assert caught.value.runc_message == 'cannot pause: not running'
    assert not caught.value.container_missing


def test_silent_failure_says_so(fake_runtime):
    with pytest.raises(RuncError, match=r'start failed \(exit status 1\): no message from the runtime'):
        Runc(command=fake_runtime('exit 1')).start('c1')


@pytest.mark.parametrize('call', [
    lambda runc: runc.state('c1'),
    lambda runc: runc.list(),
    lambda runc: runc.ps('c1'),
    lambda runc: runc.features(),
    lambda runc: runc.stats('c1'),
])
def test_garbage_on_stdout_is_an_error_not_a_crash(fake_runtime, call):
    runc = Runc(command=fake_runtime('echo "this is not json {"'))
    with pytest.raises(RuncError, match='not JSON') as caught:
        call(runc)
    assert caught.value.exit_status == 0
    assert caught.value.stdout == 'this is not json {\n'


def test_stats_without_data_is_an_error(fake_runtime):
    runc = Runc(command=fake_runtime('echo \'{"type":"stats","id":"c1"}\''))
    with pytest.raises(RuncError, match='printed no stats'):
        runc.stats('c1')


def test_json_is_read_from_stdout_only(fake_runtime):
    # Warnings on stderr must not spoil the JSON on stdout (a go-runc bug).
    state = {'id': 'c1', 'pid': 1, 'status': 'running', 'bundle': '/b', 'created': 'now'}
    runtime = fake_runtime('echo "WARN: something" >&2; echo \'%s\'' % json.dumps([state]))
    assert Runc(command=runtime).list() == [state]


@pytest.mark.parametrize('printed', ['[1, 2]', '5', '{"id": "x"}', '{"id": "x", "pid": 1, "status": 5, '
                                     '"bundle": "/b", "created": "t"}', '[{"id": "c", "bundle": ["x"]}]'])
def test_json_of_another_shape_than_runc_state_is_an_error(fake_runtime, printed):
    runc = Runc(command=fake_runtime("echo '%s'" % printed))
    with pytest.raises(RuncError, match='not (a list of containers|a container state)'):
        runc.list() if printed.startswith('[') else runc.state('c1')


def test_garbage_version_is_an_error(fake_runtime):
    with pytest.raises(RuncError, match='unexpected version output') as caught:
        Runc(command=fake_runtime('echo hello')).version()
    assert caught.value.stdout == 'hello\n'


def test_top_without_pid_column_is_an_error(fake_runtime):
    with pytest.raises(RuncError, match='no PID column'):
        Runc(command=fake_runtime('printf "USER CMD\\nroot sh\\n"')).top('c1')


def test_top_passes_no_empty_ps_argument(fake_runtime, tmp_path):
    record = tmp_path / 'argv'
    runtime = fake_runtime('printf "%%s\\n" "$@" > %s; printf "PID CMD\\n1 init\\n"' % record)
    runc = Runc(command=runtime)
    assert runc.top('c1', '') == {'headers': ['PID', 'CMD'], 'processes': [['1', 'init']]}
    assert record.read_text().split('\n')[:-1] == ['ps', '--format', 'table', 'c1']
    runc.top('c1', '-o pid,args')
    assert record.read_text().split('\n')[:-1] == ['ps', '--format', 'table', 'c1', '-o', 'pid,args']


def test_a_hanging_runtime_hits_the_timeout(fake_runtime, deadline):
    runc = Runc(command=fake_runtime('exec sleep 60'), timeout=0.5)
    with pytest.raises(RuncError, match='timed out after 0.5 seconds') as caught:
        runc.state('c1')
    assert caught.value.timed_out
    assert caught.value.exit_status is None


def test_a_hang_whose_child_holds_the_pipes_still_returns(fake_runtime, tmp_path, deadline, gone):
    # The shell is killed; its sleep keeps stdout open. The client must not
    # wait for that pipe to close.
    pid_file = tmp_path / 'child'
    runc = Runc(command=fake_runtime('sleep 60 & echo $! > %s; wait' % pid_file), timeout=0.5)
    with pytest.raises(RuncError, match='timed out'):
        runc.kill('c1', 'TERM')
    child = int(pid_file.read_text())
    # Still there: without setpgid only the runtime itself is killed.
    os.kill(child, 0)
    os.kill(child, 9)


def test_setpgid_timeout_kills_the_whole_group(fake_runtime, tmp_path, deadline, gone):
    pid_file = tmp_path / 'child'
    runc = Runc(command=fake_runtime('sleep 60 & echo $! > %s; wait' % pid_file), timeout=0.5,
                setpgid=True)
    with pytest.raises(RuncError, match='timed out'):
        runc.resume('c1')
    assert gone(int(pid_file.read_text()))


def test_a_missing_runtime_is_a_clear_error(tmp_path):
    runc = Runc(command=str(tmp_path / 'no-such-runc'))
    with pytest.raises(RuncError, match='cannot run the runtime .*no-such-runc') as caught:
        runc.list()
    assert caught.value.argv == [str(tmp_path / 'no-such-runc'), 'list', '--format', 'json']


def test_create_reads_the_message_from_a_private_log(fake_runtime, private_tmpdir):
    runc = Runc(command=fake_runtime(FAIL_VIA_LOG))
    with pytest.raises(RuncError) as caught:
        runc.create('c1', '/bundle')
    assert caught.value.runc_message == 'runc create failed: invalid rootfs'
    assert caught.value.argv[1] == '--log'
    # The private log is gone again.
    assert list(private_tmpdir.iterdir()) == []


def test_a_configured_log_is_used_and_read_from_where_it_ended(fake_runtime, tmp_path):
    log = tmp_path / 'runc.log'
    log.write_text('{"level":"error","msg":"an old failure","time":"t"}\n')
    runc = Runc(command=fake_runtime(FAIL_VIA_LOG), log=str(log), log_format='json')
    with pytest.raises(RuncError) as caught:
        runc.run('c1', '/bundle', CreateOptions(detach=True))
    assert caught.value.runc_message == 'runc create failed: invalid rootfs'
    assert log.read_text().count('\n') == 2


def test_foreground_exit_status_is_the_process_not_an_error(fake_runtime):
    runc = Runc(command=fake_runtime('echo out; echo err >&2; exit 5'))
    result = runc.run('c1', '/bundle')
    assert (result.exit_status, result.stdout, result.stderr) == (5, 'out\n', 'err\n')


def test_detached_failure_without_a_log_line_is_still_an_error(fake_runtime):
    with pytest.raises(RuncError, match='exit status 1'):
        Runc(command=fake_runtime('exit 1')).run('c1', '/bundle', CreateOptions(detach=True))


def test_detached_processes_get_no_pipes(fake_runtime, tmp_path):
    # A pipe would be inherited by the container and block the caller.
    report = tmp_path / 'fds'
    runtime = fake_runtime('fds=$(readlink /proc/$$/fd/0 /proc/$$/fd/1 /proc/$$/fd/2); echo $fds > %s'
                           % report)
    Runc(command=runtime).create('c1', '/bundle')
    assert report.read_text().split() == ['/dev/null'] * 3
    out = tmp_path / 'out.log'
    Runc(command=runtime).run('c1', '/bundle', CreateOptions(
        detach=True, io=ProcessIO(stdout_path=str(out))))
    assert report.read_text().split() == ['/dev/null', str(out), '/dev/null']


def test_stdin_data_cannot_go_to_a_detached_process(fake_runtime, tmp_path):
    marker = tmp_path / 'ran'
    runc = Runc(command=fake_runtime('touch %s' % marker))
    with pytest.raises(RuncError, match='stdin data cannot be given to a detached process'):
        runc.run('c1', '/b', CreateOptions(detach=True, io=ProcessIO(stdin_data='x')))
    assert not marker.exists()


def test_exec_writes_the_process_to_a_private_file_and_removes_it(fake_runtime, tmp_path, private_tmpdir):
    copy = tmp_path / 'process.json'
    runtime = fake_runtime('''
while [ $# -gt 0 ]; do
  if [ "$1" = --process ]; then cp "$2" %s; fi
  shift
done
cat
''' % copy)
    process = {'args': ['sh', '-c', 'echo hi'], 'cwd': '/', 'terminal': False}
    result = Runc(command=runtime).exec('c1', process, ExecOptions(io=ProcessIO(stdin_data='input')))
    assert json.loads(copy.read_text()) == process
    assert result.stdout == 'input'
    assert list(private_tmpdir.iterdir()) == []


def test_update_sends_resources_as_json_on_stdin(fake_runtime, tmp_path):
    received = tmp_path / 'stdin'
    resources = {'memory': {'limit': 67108864}, 'pids': {'limit': 32}}
    Runc(command=fake_runtime('cat > %s' % received)).update('c1', resources)
    assert json.loads(received.read_text()) == resources


def test_update_refuses_what_is_not_a_dict(fake_runtime):
    with pytest.raises(RuncError, match='resources must be a dict'):
        Runc(command=fake_runtime('exit 0')).update('c1', '{"memory": {}}')


@pytest.mark.parametrize('bad_id', ['../x', 'a b', '', '..', 'a/b'])
def test_bad_ids_are_refused_before_the_runtime_runs(fake_runtime, tmp_path, bad_id):
    marker = tmp_path / 'ran'
    runc = Runc(command=fake_runtime('touch %s' % marker))
    calls = [
        lambda: runc.state(bad_id), lambda: runc.create(bad_id, '/b'), lambda: runc.start(bad_id),
        lambda: runc.run(bad_id, '/b'), lambda: runc.exec(bad_id, {'args': ['true']}),
        lambda: runc.delete(bad_id, DeleteOptions(force=True)), lambda: runc.kill(bad_id, 9, KillOptions()),
        lambda: runc.pause(bad_id), lambda: runc.resume(bad_id), lambda: runc.ps(bad_id),
        lambda: runc.top(bad_id), lambda: runc.stats(bad_id), lambda: runc.events(bad_id),
        lambda: runc.update(bad_id, {}), lambda: runc.checkpoint(bad_id, CheckpointOptions()),
        lambda: runc.restore(bad_id, '/b', RestoreOptions()),
    ]
    for call in calls:
        with pytest.raises(RuncError, match='invalid container id') as caught:
            call()
        assert caught.value.argv is None
    assert runc.commands_run == []
    assert not marker.exists()


def test_unknown_signal_is_refused_before_the_runtime_runs(fake_runtime, tmp_path):
    marker = tmp_path / 'ran'
    runc = Runc(command=fake_runtime('touch %s' % marker))
    with pytest.raises(RuncError, match="invalid signal 'SIGBOGUS'"):
        runc.kill('c1', 'SIGBOGUS')
    assert not marker.exists()


def test_kill_sends_the_signal_number(fake_runtime, tmp_path):
    record = tmp_path / 'argv'
    runc = Runc(command=fake_runtime('echo "$@" > %s' % record))
    runc.kill('c1', 'SIGKILL', KillOptions(all=True))
    assert record.read_text() == 'kill --all c1 9\n'


EVENTS_THEN_FAIL = '''
echo '{"type":"stats","id":"c1","data":{"pids":{"current":1}}}'
echo '{"type":"oom","id":"c1"}'
echo 'not json at all'
echo '[1]'
echo '{"level":"error","msg":"container is not running","time":"t"}' >&2
exit 1
'''


def test_events_surface_decode_failures_and_then_the_runtime_error(fake_runtime):
    stream = Runc(command=fake_runtime(EVENTS_THEN_FAIL)).events('c1', interval=0.25)
    received = []
    with pytest.raises(RuncError, match='events failed .*container is not running'):
        for event in stream:
            received.append(event)
    assert [event['type'] for event in received] == ['stats', 'oom', 'error', 'error']
    assert received[0]['data'] == {'pids': {'current': 1}}
    assert received[2]['raw'] == 'not json at all'
    assert 'must be a JSON object' in received[3]['error']


def test_events_keep_sub_second_intervals(fake_runtime, tmp_path):
    record = tmp_path / 'argv'
    runc = Runc(command=fake_runtime('echo "$@" > %s' % record))
    assert list(runc.events('c1', interval=0.25)) == []
    assert record.read_text() == 'events --interval 250ms c1\n'
    list(runc.events('c1', interval=2))
    assert record.read_text() == 'events --interval 2000ms c1\n'
    with pytest.raises(RuncError, match='invalid events interval'):
        runc.events('c1', interval=0)


def test_closing_the_event_stream_stops_the_runtime(fake_runtime, tmp_path, deadline, gone):
    pid_file = tmp_path / 'pid'
    runtime = fake_runtime('echo $$ > %s; while true; do echo \'{"type":"stats"}\'; sleep 0.05; done'
                           % pid_file)
    stream = Runc(command=runtime).events('c1', interval=0.05)
    assert next(stream)['type'] == 'stats'
    stream.close()
    assert gone(int(pid_file.read_text()))


def test_setpgid_puts_the_runtime_in_its_own_group(fake_runtime):
    runtime = fake_runtime("cut -d' ' -f5 /proc/$$/stat")
    own_group = str(os.getpgrp())
    assert Runc(command=runtime)._capture('x').stdout.strip() == own_group
    assert Runc(command=runtime, setpgid=True)._capture('x').stdout.strip() != own_group


def test_pdeath_signal_is_set_in_the_runtime(fake_runtime):
    runtime = fake_runtime('''import ctypes
value = ctypes.c_int()
ctypes.CDLL(None).prctl(2, ctypes.byref(value), 0, 0, 0)  # PR_GET_PDEATHSIG
print(value.value)''', shebang='#!' + sys.executable)
    assert Runc(command=runtime)._capture('x').stdout.strip() == '0'
    assert Runc(command=runtime, pdeath_signal='SIGKILL')._capture('x').stdout.strip() == '9'


def test_notify_socket_is_not_passed_on(fake_runtime, monkeypatch):
    monkeypatch.setenv('NOTIFY_SOCKET', '/run/systemd/notify')
    monkeypatch.setenv('OTHER_SETTING', 'kept')
    runtime = fake_runtime('echo "${NOTIFY_SOCKET:-unset} $OTHER_SETTING"')
    assert Runc(command=runtime)._capture('x').stdout == 'unset kept\n'


def test_work_dir_is_the_runtime_working_directory(fake_runtime, tmp_path):
    assert Runc(command=fake_runtime('pwd'), work_dir=str(tmp_path))._capture('x').stdout == '%s\n' % tmp_path


def test_extra_files_arrive_as_fd_3_and_up(fake_runtime, tmp_path):
    runtime = fake_runtime('echo "$@" >&3; echo second >&4')
    first, second = tmp_path / 'first', tmp_path / 'second'
    with open(first, 'w') as fd3, open(second, 'w') as fd4:
        # Handing them over in reverse fd order proves the shuffle is safe.
        Runc(command=runtime).create('c1', '/b', CreateOptions(extra_files=[fd4, fd3]))
    assert second.read_text().startswith('--log ')
    assert second.read_text().endswith('create --bundle /b --preserve-fds 2 c1\n')
    assert first.read_text() == 'second\n'


def test_checkpoint_status_file_is_fd_3(fake_runtime, tmp_path):
    status = tmp_path / 'status'
    runtime = fake_runtime('printf "ready" >&3')
    Runc(command=runtime).checkpoint('c1', CheckpointOptions(lazy_pages=True, status_file=str(status)))
    assert status.read_text() == 'ready'


def test_memory_tracking_failure_explains_itself(fake_runtime):
    runtime = fake_runtime('echo \'time="t" level=error msg="CRIU is missing features"\' >&2; exit 1')
    with pytest.raises(RuncError, match='CONFIG_MEM_SOFT_DIRTY'):
        Runc(command=runtime).checkpoint('c1', CheckpointOptions(pre_dump=True))
    # Without pre-dump or a parent, the message is runc's alone.
    with pytest.raises(RuncError) as caught:
        Runc(command=runtime).checkpoint('c1', CheckpointOptions())
    assert 'CONFIG_MEM_SOFT_DIRTY' not in str(caught.value)


def test_list_on_a_missing_root_does_not_create_it(fake_runtime, tmp_path):
    root = tmp_path / 'no-root-yet'
    marker = tmp_path / 'ran'
    assert Runc(command=fake_runtime('touch %s' % marker), root=str(root)).list() == []
    assert not root.exists()
    assert not marker.exists()


def test_commands_run_records_what_ran(fake_runtime):
    runtime = fake_runtime('echo null')
    runc = Runc(command=runtime, root='/r')
    runc.list()
    runc.ps('c1')
    assert runc.commands_run == [[runtime, '--root', '/r', 'ps', '--format', 'json', 'c1']]


# A runtime whose answer depends on the container id it is asked about (the last argument).
STATS_BY_ID = '''
for last in "$@"; do :; done
case "$last" in
  good*) echo '{"type":"stats","id":"'"$last"'","data":{"pids":{"current":1}}}' ;;
  gone) echo '{"level":"error","msg":"container does not exist","time":"t"}' >&2; exit 1 ;;
  garbage) echo 'not json {' ;;
  empty) echo '{"type":"stats","id":"empty"}' ;;
  hang) exec sleep 30 ;;
  loud) i=0; while [ $i -lt 2000 ]; do printf '%s' "0123456789012345678901234567890123456789" >&2; i=$((i+1)); done
        echo '{"type":"stats","data":{"pids":{"current":2}}}' ;;
esac
'''


def open_descriptors():
    return sorted(os.listdir('/proc/self/fd'))


@pytest.mark.parametrize('threads', [False, True], ids=['one thread', 'threads'])
def test_stats_of_many_gives_each_its_own_answer_or_error(fake_runtime, monkeypatch, threads):
    # threads: setpgid makes the client start each runtime itself (posix_spawn cannot), from threads.
    from ansible_collections.oci_runtime.runc.plugins.module_utils import _spawn
    assert _spawn.available()   # this machine runs the one-thread path
    if not threads:
        # The one-thread path starts no thread.
        monkeypatch.setattr(concurrent.futures, 'ThreadPoolExecutor', None)
    runc = Runc(command=fake_runtime(STATS_BY_ID), timeout=1, setpgid=threads)
    before = open_descriptors()
    ids = ['good-%d' % index for index in range(20)] + ['gone', 'garbage', 'empty', 'hang', 'loud']
    results = runc.stats_of(ids, workers=4)
    assert sorted(results) == sorted(ids)
    assert all(results['good-%d' % index] == {'pids': {'current': 1}} for index in range(20))
    assert results['loud'] == {'pids': {'current': 2}}   # 80 kB of stderr do not block its stdout
    assert results['gone'].container_missing and results['gone'].exit_status == 1
    assert 'not JSON' in str(results['garbage']) and results['garbage'].stdout == 'not json {\n'
    assert 'printed no stats' in str(results['empty'])
    assert results['hang'].timed_out and 'timed out after 1 seconds' in str(results['hang'])
    assert results['hang'].argv == runc.argv('events', '--stats', 'hang')
    assert len(runc.commands_run) == len(ids) and not runc.mutations_run
    assert open_descriptors() == before
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)   # every runtime was reaped


def test_the_runtime_gets_no_descriptor_but_its_standard_ones(fake_runtime):
    # An inherited descriptor without close-on-exec, as a module may be given one.
    read_end, write_end = os.pipe()
    os.set_inheritable(write_end, True)
    try:
        runc = Runc(command=fake_runtime('echo "{\\"data\\": {\\"fds\\": \\"$(ls /proc/self/fd | tr "\\n" " ")\\"}}"'))
        results = runc.stats_of(['c1'])
    finally:
        os.close(read_end)
        os.close(write_end)
    # 0, 1, 2 and the folder ls reads /proc/self/fd through.
    assert len(results['c1']['fds'].split()) == 4, results


def test_stats_of_a_runtime_that_cannot_start_is_an_error_per_container(tmp_path):
    runc = Runc(command=str(tmp_path / 'no-such-runtime'))
    results = runc.stats_of(['a', 'b'], workers=2)
    assert all('cannot run the runtime' in str(results[name]) for name in ('a', 'b'))


def test_stats_of_a_bad_id_is_its_error_alone(fake_runtime, tmp_path):
    record = tmp_path / 'ran'
    runc = Runc(command=fake_runtime('for last in "$@"; do :; done; echo "$last" >> %s; %s'
                                     % (record, "echo '{\"data\": {}}'")))
    results = runc.stats_of(['good', '../escape'])
    assert results['good'] == {}
    assert 'invalid container id' in str(results['../escape'])
    assert record.read_text() == 'good\n'   # the bad id never reached the runtime


def test_a_runtime_that_exits_leaving_its_pipes_to_a_child_is_not_a_timeout(fake_runtime):
    # The runtime answers and exits; a process it started keeps stdout open for 5 s.
    runc = Runc(command=fake_runtime('echo \'{"data": {"pids": {"current": 1}}}\'; sleep 5 & exit 0'), timeout=1)
    started = time.monotonic()
    results = runc.stats_of(['c1', 'c2'], workers=2)
    assert time.monotonic() - started < 4
    assert results == {'c1': {'pids': {'current': 1}}, 'c2': {'pids': {'current': 1}}}


def test_no_runtime_outlives_an_interrupted_stats_of(fake_runtime, monkeypatch, tmp_path):
    from ansible_collections.oci_runtime.runc.plugins.module_utils import _spawn
    pids = tmp_path / 'pids'
    runc = Runc(command=fake_runtime('echo $$ >> %s; exec sleep 30' % pids))
    calls = iter(range(3))

    def interrupting_select(self, timeout=None):
        if next(calls) == 2:
            # Once every runtime runs (and said its pid): then the interrupt.
            waited = time.monotonic()
            while time.monotonic() - waited < 5 and len(pids.read_text().split() if pids.exists() else []) < 3:
                time.sleep(0.01)
            raise KeyboardInterrupt
        return []
    monkeypatch.setattr(_spawn.selectors.DefaultSelector, 'select', interrupting_select)
    before = open_descriptors()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        runc.stats_of(['a', 'b', 'c'], workers=3)
    assert time.monotonic() - started < 10   # killed, not waited for
    assert open_descriptors() == before
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)
    assert len(pids.read_text().split()) == 3
    for pid in pids.read_text().split():
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid), 0)
