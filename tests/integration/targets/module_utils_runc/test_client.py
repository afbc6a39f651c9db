# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The runc client against the real runc and CRIU on this machine."""

from __future__ import annotations

import json
import os
import select
import signal
import threading
import time

import pytest

from ansible_collections.oci_runtime.runc.plugins.module_utils.console import ConsoleSocket
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
    read_pid_file,
)

SLEEPER = ['sleep', '1000']
# Counts up ten times a second into /tmp/count of its rootfs.
COUNTER = ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.1; done']
PROCESS_DEFAULTS = {'cwd': '/', 'env': ['PATH=/bin'], 'user': {'uid': 0, 'gid': 0}, 'terminal': False}


def wait_for(condition, what, timeout=20.0):
    """Poll until condition() is true; the bound only guards against a hang."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('gave up waiting for %s' % what)
        time.sleep(0.05)


def status(runc, container_id):
    return runc.state(container_id)['status']


def process(*args, **changes):
    return dict(PROCESS_DEFAULTS, args=list(args), **changes)


def cgroup_file(pid, controller, v1_name, v2_name):
    """Path of a cgroup control file of a process, on cgroup v1 or v2."""
    with open('/proc/%d/cgroup' % pid) as cgroups:
        for line in cgroups:
            dummy_id, controllers, path = line.rstrip('\n').split(':', 2)
            if controller in controllers.split(','):
                return '/sys/fs/cgroup/%s%s/%s' % (controller, path, v1_name)
            if controllers == '' and os.path.exists('/sys/fs/cgroup/cgroup.controllers'):
                return '/sys/fs/cgroup%s/%s' % (path, v2_name)
    raise AssertionError('no %s cgroup for pid %d' % (controller, pid))


def counter_value(bundle):
    with open(os.path.join(bundle, 'rootfs', 'tmp', 'count')) as count:
        text = count.read().strip()
    return int(text) if text else 0


def test_full_lifecycle(runc, make_bundle, container_id):
    bundle = make_bundle(SLEEPER)
    runc.create(container_id, bundle)
    created = runc.state(container_id)
    assert created['status'] == 'created'
    assert created['bundle'] == bundle
    assert created['id'] == container_id
    assert [c['id'] for c in runc.list()] == [container_id]

    runc.start(container_id)
    running = runc.state(container_id)
    assert running['status'] == 'running'
    init_pid = running['pid']

    assert runc.ps(container_id) == [init_pid]
    top = runc.top(container_id)
    assert 'PID' in top['headers'] and top['headers'][-1] == 'CMD'
    assert [row[top['headers'].index('PID')] for row in top['processes']] == [str(init_pid)]
    assert top['processes'][0][-1] == 'sleep 1000'
    narrow = runc.top(container_id, ['-o', 'pid,args'])
    assert narrow == {'headers': ['PID', 'COMMAND'], 'processes': [[str(init_pid), 'sleep 1000']]}

    result = runc.exec(container_id, process('sh', '-c', 'echo out; echo err >&2; exit 3'))
    assert (result.exit_status, result.stdout, result.stderr) == (3, 'out\n', 'err\n')

    runc.pause(container_id)
    assert status(runc, container_id) == 'paused'
    with pytest.raises(RuncError, match='paused'):
        runc.exec(container_id, process('true'))
    runc.resume(container_id)
    assert status(runc, container_id) == 'running'

    limit = 48 * 1024 * 1024
    runc.update(container_id, {'memory': {'limit': limit}})
    assert runc.stats(container_id)['memory']['usage']['limit'] == limit
    with open(cgroup_file(init_pid, 'memory', 'memory.limit_in_bytes', 'memory.max')) as limit_file:
        assert int(limit_file.read()) == limit
    assert runc.state(container_id)['pid'] == init_pid

    runc.kill(container_id, 'SIGKILL')
    wait_for(lambda: status(runc, container_id) == 'stopped', 'the container to stop')
    runc.delete(container_id)
    with pytest.raises(RuncError) as caught:
        runc.state(container_id)
    assert caught.value.container_missing
    assert caught.value.exit_status == 1
    assert runc.list() == []


def test_stats_of_a_running_container_are_real(runc, make_bundle, container_id):
    runc.run(container_id, make_bundle(SLEEPER), CreateOptions(detach=True))
    stats = runc.stats(container_id)
    assert stats['memory']['usage']['usage'] > 0
    assert stats['pids']['current'] == 1
    assert stats['cpu']['usage']['total'] > 0
    # Fields go-runc's struct would drop are passed through.
    assert 'cpuset' in stats or 'intel_rdt' in stats or 'network_interfaces' in stats


@pytest.mark.parametrize('code', [0, 1, 7, 255])
def test_run_to_completion_returns_the_exit_status(runc, make_bundle, container_id, code):
    result = runc.run(container_id, make_bundle(['sh', '-c', 'echo hello; echo oops >&2; exit %d' % code]))
    assert result.exit_status == code
    assert result.stdout == 'hello\n'
    assert result.stderr == 'oops\n'
    # run deletes the container once it exits.
    assert runc.list() == []


def test_run_feeds_stdin_and_keep_keeps_the_container(runc, make_bundle, container_id):
    result = runc.run(container_id, make_bundle(['cat']),
                      CreateOptions(keep=True, io=ProcessIO(stdin_data='fed through stdin')))
    assert (result.exit_status, result.stdout) == (0, 'fed through stdin')
    assert status(runc, container_id) == 'stopped'


def test_run_detached_returns_with_the_container_running(runc, make_bundle, container_id, tmp_path):
    out = tmp_path / 'stdout.log'
    result = runc.run(container_id, make_bundle(['sh', '-c', 'echo started; exec sleep 1000']),
                      CreateOptions(detach=True, io=ProcessIO(stdout_path=str(out))))
    assert result.exit_status == 0
    assert status(runc, container_id) == 'running'
    wait_for(lambda: out.exists() and out.read_text() == 'started\n', 'the container to write stdout')


def test_a_failing_create_raises_runc_message(runc, make_bundle, container_id):
    with pytest.raises(RuncError) as caught:
        runc.create(container_id, make_bundle(['/no/such/program']))
    assert caught.value.runc_message
    assert 'no such file or directory' in caught.value.runc_message
    assert caught.value.argv[caught.value.argv.index('create') - 2] == '--log'
    assert runc.list() == []


def test_create_in_a_missing_bundle_explains(runc, tmp_path, container_id):
    with pytest.raises(RuncError) as caught:
        runc.create(container_id, str(tmp_path / 'missing'))
    assert 'missing: no such file or directory' in caught.value.runc_message


def test_start_twice_reports_runc_message(runc, make_bundle, container_id):
    runc.create(container_id, make_bundle(SLEEPER))
    runc.start(container_id)
    with pytest.raises(RuncError) as caught:
        runc.start(container_id)
    assert 'cannot start' in caught.value.runc_message


def test_exec_options(runc, make_bundle, container_id, tmp_path):
    runc.run(container_id, make_bundle(SLEEPER), CreateOptions(detach=True))
    result = runc.exec(container_id, process('sh', '-c', 'echo "$GREETING $(id -u):$(id -g) $(pwd)"; cat',
                                             env=['PATH=/bin', 'GREETING=hi'], cwd='/tmp',
                                             user={'uid': 1000, 'gid': 1001}),
                       ExecOptions(io=ProcessIO(stdin_data='piped')))
    assert result.stdout == 'hi 1000:1001 /tmp\npiped'

    pid_file = tmp_path / 'exec.pid'
    detached = runc.exec(container_id, process('sleep', '1000'),
                         ExecOptions(detach=True, pid_file=str(pid_file)))
    assert detached.exit_status == 0
    exec_pid = read_pid_file(str(pid_file))
    assert sorted(runc.ps(container_id)) == sorted([runc.state(container_id)['pid'], exec_pid])


def test_exec_ignore_paused_waits_for_resume(runc, make_bundle, container_id):
    runc.run(container_id, make_bundle(SLEEPER), CreateOptions(detach=True))
    runc.pause(container_id)
    with pytest.raises(RuncError, match='paused'):
        runc.exec(container_id, process('echo', 'refused'))
    # With ignore_paused the process joins the frozen cgroup and runs once
    # the container is resumed.
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.update(result=runc.exec(
        container_id, process('echo', 'ran after resume'), ExecOptions(ignore_paused=True))))
    worker.start()
    # Resume only once the exec'd process sits frozen in the container: runc
    # without --ignore-paused would have refused before getting that far.
    wait_for(lambda: len(runc.ps(container_id)) == 2, 'the exec to join the frozen container')
    runc.resume(container_id)
    worker.join(60)
    assert outcome['result'].stdout == 'ran after resume\n'


def test_exec_in_a_missing_container_fails_clearly(runc, container_id):
    with pytest.raises(RuncError) as caught:
        runc.exec(container_id, process('true'))
    assert caught.value.container_missing


def test_kill_all_and_named_signals(runc, make_bundle, container_id):
    runc.run(container_id, make_bundle(['sh', '-c', 'trap "exit 0" TERM; sleep 1000 & wait']),
             CreateOptions(detach=True))
    wait_for(lambda: len(runc.ps(container_id)) == 2, 'the child process to start')
    runc.kill(container_id, 'KILL', KillOptions(all=True))
    wait_for(lambda: status(runc, container_id) == 'stopped', 'every process to die')
    with pytest.raises(RuncError) as caught:
        runc.kill(container_id, 'TERM')
    assert 'not running' in caught.value.runc_message


def test_delete_force_removes_a_running_container(runc, make_bundle, container_id):
    runc.run(container_id, make_bundle(SLEEPER), CreateOptions(detach=True))
    with pytest.raises(RuncError, match='running'):
        runc.delete(container_id)
    runc.delete(container_id, DeleteOptions(force=True))
    assert runc.list() == []


def test_pid_file_is_written_where_asked(runc, make_bundle, container_id, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runc.create(container_id, make_bundle(SLEEPER), CreateOptions(pid_file='relative.pid'))
    # Made absolute by the client: runc resolves paths against its own cwd.
    assert read_pid_file(str(tmp_path / 'relative.pid')) == runc.state(container_id)['pid']


def test_no_pivot_and_no_new_keyring(runc, make_bundle, container_id):
    runc.run(container_id, make_bundle(SLEEPER),
             CreateOptions(detach=True, no_pivot=True, no_new_keyring=True))
    assert status(runc, container_id) == 'running'


def test_extra_files_reach_the_container(runc, make_bundle, container_id, tmp_path):
    target = tmp_path / 'fd3.txt'
    with open(target, 'w') as fd3:
        result = runc.run(container_id, make_bundle(['sh', '-c', 'echo through fd 3 >&3']),
                          CreateOptions(extra_files=[fd3]))
    assert result.exit_status == 0
    assert target.read_text() == 'through fd 3\n'


def test_events_stream_at_sub_second_intervals(runc, make_bundle, container_id):
    runc.run(container_id, make_bundle(SLEEPER), CreateOptions(detach=True))
    stream = runc.events(container_id, interval=0.1)
    started = time.monotonic()
    events = [next(stream) for dummy in range(5)]
    elapsed = time.monotonic() - started
    stream.close()
    assert {event['type'] for event in events} == {'stats'}
    assert all(event['id'] == container_id for event in events)
    assert all(event['data']['memory']['usage']['usage'] > 0 for event in events)
    # Five 0.1 s ticks; whole seconds (go-runc truncates) would need 5 s or never tick.
    assert elapsed < 3, 'five events took %.1f s: the sub-second interval was lost' % elapsed
    assert runc.commands_run[-1][-3:] == ['--interval', '100ms', container_id]


def test_events_of_a_missing_container_raise(runc, container_id):
    with pytest.raises(RuncError) as caught:
        list(runc.events(container_id, interval=0.1))
    assert caught.value.container_missing


def test_version_and_features(runc):
    version = runc.version()
    assert version['runtime'] == 'runc'
    assert version['runc'][0].isdigit()
    assert version['spec']
    features = runc.features()
    assert features['ociVersionMax'].startswith(version['spec'][:3])
    assert 'rro' in features['mountOptions'] or 'ro' in features['mountOptions']


def test_console_socket_gives_the_terminal(runc, make_bundle, container_id):
    bundle = make_bundle(['sh'], terminal=True)
    with ConsoleSocket() as console:
        runc.create(container_id, bundle, CreateOptions(console_socket=console))
        master = console.receive_master(timeout=10)
    try:
        runc.start(container_id)
        os.write(master, b'echo $((6*7))\n')
        received = b''
        deadline = time.monotonic() + 20
        while b'42\r\n' not in received and time.monotonic() < deadline:
            readable, dummy_w, dummy_x = select.select([master], [], [], 0.5)
            if readable:
                received += os.read(master, 4096)
        assert b'42\r\n' in received
    finally:
        os.close(master)
    assert not os.path.exists(console.path)


def test_global_log_debug_and_json_format(runc_root, make_bundle, container_id, tmp_path):
    log = tmp_path / 'runc.log'
    runc = Runc(root=runc_root, debug=True, log=str(log), log_format='json')
    runc.run(container_id, make_bundle(SLEEPER), CreateOptions(detach=True))
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert {'debug'} <= {entry['level'] for entry in entries}
    with pytest.raises(RuncError) as caught:
        runc.create(container_id, make_bundle(SLEEPER))
    assert 'already exists' in caught.value.runc_message


def test_rootless_false_is_accepted_as_root(runc_root, make_bundle, container_id):
    runc = Runc(root=runc_root, rootless=False)
    runc.run(container_id, make_bundle(SLEEPER), CreateOptions(detach=True))
    assert status(runc, container_id) == 'running'


def test_systemd_cgroup_flag_reaches_runc(runc_root, make_bundle, container_id):
    # This machine runs no systemd: runc must say so, which proves the flag arrived.
    runc = Runc(root=runc_root, systemd_cgroup=True)
    bundle = make_bundle(SLEEPER)
    with open(os.path.join(bundle, 'config.json')) as config:
        spec = json.load(config)
    spec['linux']['cgroupsPath'] = 'system.slice:oci-test:%s' % container_id
    with open(os.path.join(bundle, 'config.json'), 'w') as config:
        json.dump(spec, config)
    if os.path.isdir('/run/systemd/system'):
        runc.run(container_id, bundle, CreateOptions(detach=True))
        assert status(runc, container_id) == 'running'
    else:
        with pytest.raises(RuncError) as caught:
            runc.run(container_id, bundle, CreateOptions(detach=True))
        assert 'systemd' in caught.value.runc_message.lower() or 'dbus' in caught.value.runc_message.lower()


def test_list_of_a_missing_root_is_empty_and_creates_nothing(tmp_path):
    root = tmp_path / 'not-there'
    assert Runc(root=str(root)).list() == []
    assert not root.exists()


def test_setpgid_and_pdeath_signal_with_the_real_runtime(runc_root, make_bundle, container_id):
    runc = Runc(root=runc_root, setpgid=True, pdeath_signal=signal.SIGKILL)
    runc.run(container_id, make_bundle(SLEEPER), CreateOptions(detach=True))
    assert status(runc, container_id) == 'running'


# -- checkpoint and restore with CRIU --------------------------------------------------------------

def test_checkpoint_and_restore(runc, make_bundle, container_id, tmp_path):
    bundle = make_bundle(COUNTER)
    runc.run(container_id, bundle, CreateOptions(detach=True))
    wait_for(lambda: counter_value(bundle) >= 5, 'the counter to count')
    image = tmp_path / 'image'
    runc.checkpoint(container_id, CheckpointOptions(image_path=str(image), work_path=str(tmp_path / 'work')))
    assert (image / 'inventory.img').exists()
    with pytest.raises(RuncError) as caught:
        runc.state(container_id)
    assert caught.value.container_missing
    at_checkpoint = counter_value(bundle)

    restored = runc.restore(container_id, bundle, RestoreOptions(
        image_path=str(image), work_path=str(tmp_path / 'work'), detach=True))
    assert restored.exit_status == 0
    assert status(runc, container_id) == 'running'
    # It continues from where it stopped, it does not start over.
    wait_for(lambda: counter_value(bundle) > at_checkpoint, 'the restored counter to count on')
    assert counter_value(bundle) < at_checkpoint + 1000
    assert (image / 'inventory.img').exists()


def test_checkpoint_leave_running_and_restore_under_a_new_id(runc, make_bundle, container_id, tmp_path):
    bundle = make_bundle(COUNTER)
    runc.run(container_id, bundle, CreateOptions(detach=True))
    pid = runc.state(container_id)['pid']
    image = tmp_path / 'image'
    runc.checkpoint(container_id, CheckpointOptions(image_path=str(image), leave_running=True))
    assert runc.state(container_id)['status'] == 'running'
    assert runc.state(container_id)['pid'] == pid

    # A copy restored next to the original needs a bundle of its own.
    clone_bundle = make_bundle(COUNTER)
    clone = container_id + '-clone'
    runc.restore(clone, clone_bundle, RestoreOptions(image_path=str(image), detach=True))
    assert status(runc, clone) == 'running'
    assert {c['id'] for c in runc.list()} == {container_id, clone}


def test_pre_dump_fails_with_a_clear_message_without_memory_tracking(
        runc, make_bundle, container_id, tmp_path):
    runc.run(container_id, make_bundle(COUNTER), CreateOptions(detach=True))
    with pytest.raises(RuncError) as caught:
        runc.checkpoint(container_id, CheckpointOptions(image_path=str(tmp_path / 'pre'), pre_dump=True))
    assert 'CONFIG_MEM_SOFT_DIRTY' in str(caught.value)
    assert 'missing features' in caught.value.runc_message or 'MemTrack' in caught.value.runc_message
    # A failed pre-dump leaves the container as it was.
    assert status(runc, container_id) == 'running'


def test_checkpoint_of_a_missing_container(runc, container_id, tmp_path):
    with pytest.raises(RuncError) as caught:
        runc.checkpoint(container_id, CheckpointOptions(image_path=str(tmp_path / 'img')))
    assert caught.value.container_missing
