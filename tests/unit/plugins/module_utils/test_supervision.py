# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The units the restart option writes: systemd reads them without a complaint, and refusals come first.

What systemd does with them (restart after a crash, start at boot) is shown
by the Molecule scenario supervised, on a test host that boots systemd.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess

import pytest

from ansible_collections.oci_runtime.runc.plugins.module_utils import _supervision as supervision
from ansible_collections.oci_runtime.runc.plugins.module_utils._task import TaskError

RUNC = shutil.which('runc') or '/usr/sbin/runc'


def unit_text(**overrides):
    values = dict(container_id='web', root='/run/runc', runtime_command=[RUNC, '--root', '/run/runc'],
                  bundle='/srv/bundles/web', pid_file='/run/oci-runc-web-0/pid', restart='always', restart_sec=1.0,
                  start_limit_burst=5, start_limit_interval=10.0, kill_signal=signal.SIGTERM, stop_timeout=10.0,
                  runtime_directory='oci-runc-web-0')
    values.update(overrides)
    return supervision.render(**values)


def verify(tmp_path, text, name='oci-runc-web-0.service'):
    """systemd-analyze verify's complaints (it exits 0 with problems on stderr, so stderr is what counts)."""
    path = tmp_path / name
    path.write_text(text)
    done = subprocess.run(['systemd-analyze', 'verify', str(path)], capture_output=True, text=True, check=False)
    return done.returncode, done.stderr


@pytest.mark.parametrize('overrides', [
    {},
    dict(restart='on-failure', restart_sec=0.25, start_limit_interval=0, kill_signal=signal.SIGINT),
    dict(stop_timeout=0, stdout_path='/var/log/web out.log', stderr_path='/var/log/web%err.log'),
    dict(container_id='web+1.a_b', bundle='/srv/my bundles/"quoted" $HOME %n', run_flags=['--no-pivot']),
    dict(runtime_command=[RUNC, '--root', '/run/runc apps', '--debug', '--log', '/var/log/runc.log',
                          '--log-format', 'json', '--systemd-cgroup'], kill_signal=signal.SIGRTMIN + 3),
])
def test_systemd_analyze_verify_finds_nothing_to_say(tmp_path, overrides):
    returncode, stderr = verify(tmp_path, unit_text(**overrides))
    assert returncode == 0
    assert stderr == ''


def test_verify_does_complain_about_a_broken_unit(tmp_path):
    """The check above can fail: a unit with a bad setting is reported on stderr."""
    _returncode, stderr = verify(tmp_path, unit_text().replace('Type=forking', 'Type=forkin'))
    assert 'Failed to parse service type' in stderr


def test_unit_runs_the_container_as_runc_readme_says():
    text = unit_text(stop_timeout=2.5, kill_signal=signal.SIGINT)
    lines = text.splitlines()
    assert lines[0] == supervision.MARKER
    assert 'Type=forking' in lines
    assert 'PIDFile=/run/oci-runc-web-0/pid' in lines
    # Never --force: a running container of that id is somebody's, not the unit's to kill.
    assert 'ExecStartPre=-%s --root /run/runc delete web' % RUNC in lines
    assert 'ExecStart=%s --root /run/runc run --detach --pid-file /run/oci-runc-web-0/pid --bundle ' \
           '/srv/bundles/web web' % RUNC in lines
    assert 'ExecStopPost=%s --root /run/runc delete web' % RUNC in lines
    assert 'KillSignal=SIGINT' in lines
    assert 'TimeoutStopSec=2500ms' in lines
    assert 'Restart=always' in lines
    assert 'WantedBy=multi-user.target' in lines


def test_stop_timeout_zero_kills_at_once_instead_of_never():
    lines = unit_text(stop_timeout=0).splitlines()
    assert 'KillSignal=SIGKILL' in lines
    # TimeoutStopSec also bounds ExecStopPost's runc delete: never 0 (no limit) nor below a second.
    assert 'TimeoutStopSec=1s' in lines
    assert 'TimeoutStopSec=1s' in unit_text(stop_timeout=0.2).splitlines()


def test_stdout_alone_never_takes_stderr_with_it():
    lines = unit_text(stdout_path='/var/log/out.log').splitlines()
    assert 'StandardOutput=append:/var/log/out.log' in lines
    assert 'StandardError=journal' in lines


def test_signals_systemd_cannot_name_are_refused():
    assert supervision.unit_signal(signal.SIGRTMIN + 2) == 'SIGRTMIN+2'
    with pytest.raises(TaskError, match='^kill_signal: signal 32 has no name'):
        supervision.unit_signal(32)


def test_arguments_are_quoted_for_systemd():
    assert supervision.quote('/srv/a b') == '"/srv/a b"'
    assert supervision.quote('100%') == '"100%%"'
    assert supervision.quote('$HOME') == '"$$HOME"'
    assert supervision.quote('a"b\\c') == '"a\\"b\\\\c"'
    with pytest.raises(TaskError, match='line break'):
        supervision.quote('/srv/a\nExecStartPre=/bin/rm')
    with pytest.raises(TaskError, match='line break'):
        unit_text(pid_file='/run/x\n[Service]')


def test_unit_names_never_clash():
    names = {supervision.unit_name(root, container_id)
             for root in ('/run/runc', '/run/runc-apps', '/run/runc/')
             for container_id in ('web', 'web+1', 'web\\x2b1', 'web.1', 'Web')}
    # /run/runc and /run/runc/ are one root; "web\\x2b1" is no runc id, but would not clash either.
    assert len(names) == 10
    assert supervision.unit_name('/run/runc', 'web+1').startswith('oci-runc-web\\x2b1-')
    assert all(name.endswith('.service') for name in names)


def test_only_what_makes_the_container_restarts_it():
    """The policy and the runtime's path or logging flags reload the unit; the bundle, flags, stdio do not."""
    before = supervision.intent_of(unit_text())
    assert before
    for overrides in (dict(restart='on-failure', restart_sec=5, start_limit_burst=2, stop_timeout=3,
                           kill_signal=signal.SIGINT),
                      dict(runtime_command=['/usr/local/sbin/runc', '--root', '/run/runc', '--debug'])):
        assert supervision.intent_of(unit_text(**overrides)) == before
    for overrides in (dict(bundle='/srv/other'), dict(run_flags=['--no-pivot']), dict(pid_file='/run/x/pid'),
                      dict(stdout_path='/var/log/web.log')):
        assert supervision.intent_of(unit_text(**overrides)) != before


def test_the_policy_is_read_back_from_the_unit():
    text = unit_text(restart='on-failure', restart_sec=0.5, start_limit_burst=3, start_limit_interval=60)
    assert supervision.policy_of(text) == dict(restart='on-failure', restart_sec=0.5, start_limit_burst=3,
                                               start_limit_interval=60.0)


def test_a_unit_is_ours_only_with_the_marker_in_a_regular_file(tmp_path):
    ours = tmp_path / 'ours.service'
    ours.write_text(unit_text())
    foreign = tmp_path / 'foreign.service'
    foreign.write_text('[Service]\nExecStart=/bin/true\n' + supervision.MARKER + '\n')
    link = tmp_path / 'link.service'
    link.symlink_to(ours)
    assert supervision.read_unit(str(ours))[1] is True
    assert supervision.read_unit(str(foreign))[1] is False
    assert supervision.read_unit(str(link))[1] is False
    assert supervision.read_unit(str(tmp_path / 'missing.service')) == (None, False)


class FakeModule:
    """What Supervisor asks of AnsibleModule; systemctl show answers as given (a unit elsewhere, masked...)."""

    def __init__(self, shown='LoadState=not-found\nActiveState=inactive\nFragmentPath=\n', **params):
        self.params = dict(restart='always', state='running', console_socket=None, restart_sec=1.0,
                           start_limit_burst=5, start_limit_interval=10.0, pid_file=None, no_pivot=False,
                           no_new_keyring=False, stdout_path=None, stderr_path=None, stop_timeout=10.0)
        self.params.update(params)
        self.check_mode = False
        self.shown = shown
        self.commands = []
        self.warnings = []

    def get_bin_path(self, name):
        return '/usr/bin/' + name

    def warn(self, message):
        self.warnings.append(message)

    def run_command(self, argv):
        self.commands.append(argv)
        return 0, 'Id=%s\n%s' % (argv[-1], self.shown), ''


class FakeRunc:
    command = RUNC
    root = None

    def global_args(self):
        return []


@pytest.fixture
def booted(monkeypatch, tmp_path):
    """A host that runs systemd, as root, with its unit folder in tmp_path."""
    monkeypatch.setattr(supervision, 'systemd_booted', lambda: True)
    monkeypatch.setattr(supervision, 'UNIT_DIR', str(tmp_path))
    monkeypatch.setattr(os, 'geteuid', lambda: 0)
    return tmp_path


def supervisor(module, container_id='web'):
    return supervision.Supervisor(module, '/run/runc', container_id, report=lambda argv: None)


def test_a_host_without_systemd_is_refused(monkeypatch, tmp_path):
    monkeypatch.setattr(supervision, 'systemd_booted', lambda: False)
    monkeypatch.setattr(supervision, 'UNIT_DIR', str(tmp_path))
    module = FakeModule()
    with pytest.raises(TaskError, match='^restart: always needs systemd as PID 1'):
        supervisor(module).validate(FakeRunc(), '/srv/web', signal.SIGTERM, None)
    assert module.commands == []


@pytest.mark.parametrize('params, message', [
    (dict(state='paused'), '^restart: state=paused is not supported'),
    (dict(state='present'), '^restart: state=present is not supported'),
    (dict(console_socket='/run/console.sock'), '^console_socket: '),
    (dict(restart_sec=-1.0), '^restart_sec: -1.0 is below 0'),
    (dict(start_limit_burst=0), '^start_limit_burst: 0 is below 1'),
    (dict(start_limit_interval=-5.0), '^start_limit_interval: '),
])
def test_bad_input_is_refused_before_systemctl_runs(booted, params, message):
    module = FakeModule(**params)
    with pytest.raises(TaskError, match=message):
        supervisor(module).validate(FakeRunc(), '/srv/web', signal.SIGTERM, None)
    assert module.commands == []


def test_a_foreign_unit_file_of_that_name_is_refused_and_left_alone(booted):
    probe = supervisor(FakeModule())
    path = booted / probe.name
    path.write_text('[Service]\nExecStart=/bin/sleep 1000\n')
    before = os.stat(path)
    with pytest.raises(TaskError, match='was not written by this collection'):
        supervisor(FakeModule()).validate(FakeRunc(), '/srv/web', signal.SIGTERM, None)
    after = os.stat(path)
    assert path.read_text() == '[Service]\nExecStart=/bin/sleep 1000\n'
    assert (before.st_mtime_ns, before.st_mode) == (after.st_mtime_ns, after.st_mode)


@pytest.mark.parametrize('shown', [
    'LoadState=loaded\nActiveState=active\nFragmentPath=/usr/lib/systemd/system/x.service\n',
    'LoadState=masked\nActiveState=inactive\nFragmentPath=\n',
])
def test_a_unit_systemd_knows_from_elsewhere_is_refused(booted, shown):
    with pytest.raises(TaskError, match='^restart: systemd knows unit'):
        supervisor(FakeModule(shown=shown)).validate(FakeRunc(), '/srv/web', signal.SIGTERM, None)


def test_a_runtime_not_in_path_is_refused(booted):
    runc = FakeRunc()
    runc.command = 'no-such-runtime-here'
    with pytest.raises(TaskError, match='^runtime_path: no-such-runtime-here is not found'):
        supervisor(FakeModule()).validate(runc, '/srv/web', signal.SIGTERM, None)


def test_the_unit_names_the_effective_root_and_relative_stdio_in_the_bundle(booted):
    probe = supervisor(FakeModule(stdout_path='out.log'))
    probe.validate(FakeRunc(), '/srv/web', signal.SIGTERM, None)
    assert '%s --root /run/runc run --detach' % RUNC in probe.text
    assert 'StandardOutput=append:/srv/web/out.log' in probe.text.splitlines()


def test_absent_without_a_unit_needs_no_systemd(monkeypatch, tmp_path):
    """Removing a container that has no unit of ours is the runc path, even with restart set."""
    monkeypatch.setattr(supervision, 'systemd_booted', lambda: False)
    monkeypatch.setattr(supervision, 'UNIT_DIR', str(tmp_path))
    probe = supervisor(FakeModule(state='absent'))
    probe.validate(FakeRunc(), None, signal.SIGTERM, None)
    assert not probe.involved


def test_unset_policy_options_keep_the_units(booted):
    probe = supervisor(FakeModule())
    (booted / probe.name).write_text(unit_text(restart='on-failure', restart_sec=0.5, start_limit_burst=3))
    kept = supervisor(FakeModule(restart=None, restart_sec=None, start_limit_burst=None, start_limit_interval=None))
    kept.validate(FakeRunc(), '/srv/web', signal.SIGTERM, None)
    assert kept.wanted
    assert kept.policy == dict(restart='on-failure', restart_sec=0.5, start_limit_burst=3, start_limit_interval=10.0)
    assert 'Restart=on-failure' in kept.text.splitlines()
    unset = supervisor(FakeModule(restart=None, restart_sec=None, start_limit_burst=None, start_limit_interval=None),
                       container_id='other')
    unset.validate(FakeRunc(), '/srv/other', signal.SIGTERM, None)
    assert not unset.involved and unset.text is None


def test_an_id_with_plus_gets_a_pid_file_folder_systemd_makes_as_written(booted):
    """RuntimeDirectory= is unescaped by systemd and PIDFile= is not: the folder has no escapes at all."""
    probe = supervisor(FakeModule(), container_id='web+1')
    probe.validate(FakeRunc(), '/srv/web', signal.SIGTERM, None)
    lines = probe.text.splitlines()
    directory = [line.split('=', 1)[1] for line in lines if line.startswith('RuntimeDirectory=')][0]
    assert '\\' not in directory and directory.startswith('oci-runc-')
    assert 'PIDFile=/run/%s/pid' % directory in lines
    assert probe.name.startswith('oci-runc-web\\x2b1-')


def test_a_user_pid_file_has_no_runtime_directory(booted):
    probe = supervisor(FakeModule(pid_file='/var/run/web.pid'))
    probe.validate(FakeRunc(), '/srv/web', signal.SIGTERM, None)
    assert 'PIDFile=/var/run/web.pid' in probe.text.splitlines()
    assert 'RuntimeDirectory=' not in probe.text


def test_a_name_too_long_to_be_a_file_is_no_unit_and_never_a_traceback(booted):
    probe = supervisor(FakeModule(state='absent'), container_id='x' * 250)
    probe.validate(FakeRunc(), None, signal.SIGTERM, None)
    assert probe.text_before is None and not probe.involved
    with pytest.raises(TaskError, match='^name: the unit name .* is longer than'):
        supervisor(FakeModule(), container_id='x' * 250).validate(FakeRunc(), '/srv/web', signal.SIGTERM, None)


def test_a_relative_runtime_path_is_made_absolute(booted):
    runc = FakeRunc()
    runc.command = os.path.relpath(RUNC)
    probe = supervisor(FakeModule())
    probe.validate(runc, '/srv/web', signal.SIGTERM, None)
    assert 'ExecStart=%s --root /run/runc run' % os.path.realpath(RUNC) in probe.text \
        or 'ExecStart=%s --root /run/runc run' % RUNC in probe.text


@pytest.mark.parametrize('make', [
    lambda path: path.symlink_to('/nowhere/at/all'),
    lambda path: path.mkdir(),
    lambda path: os.mkfifo(str(path)),
])
def test_anything_but_a_regular_file_at_the_name_is_somebody_elses(booted, make):
    """Never opened (a pipe would hang the task), never replaced (a dangling link would be)."""
    probe = supervisor(FakeModule())
    make(booted / probe.name)
    with pytest.raises(TaskError, match='was not written by this collection'):
        supervisor(FakeModule()).validate(FakeRunc(), '/srv/web', signal.SIGTERM, None)


def test_a_path_ending_with_a_backslash_never_joins_the_next_line():
    with pytest.raises(TaskError, match='ends with a backslash'):
        unit_text(pid_file='/run/web\\')
    with pytest.raises(TaskError, match='ends with a backslash'):
        unit_text(stdout_path='/var/log/web\\')


def test_the_roots_spelling_is_no_change_of_intent(tmp_path):
    real = tmp_path / 'root'
    real.mkdir()
    (tmp_path / 'link').symlink_to(real)
    assert supervision.intent_of(unit_text(root=str(real))) == supervision.intent_of(unit_text(root=str(tmp_path / 'link')))


@pytest.mark.parametrize('need_reload, expected', [('no', []), ('yes', [['/usr/bin/systemctl', 'daemon-reload']])])
def test_a_unit_file_newer_than_the_one_systemd_loaded_gets_the_reload_alone(booted, need_reload, expected):
    """A run stopped between writing the unit and the daemon-reload: the next one only reloads."""
    first = supervisor(FakeModule())
    first.validate(FakeRunc(), '/srv/web', signal.SIGTERM, None)
    (booted / first.name).write_text(first.text)
    shown = 'LoadState=loaded\nActiveState=active\nFragmentPath=%s\nNeedDaemonReload=%s\n' % (
        booted / first.name, need_reload)
    reported = []
    again = supervision.Supervisor(FakeModule(shown=shown), '/run/runc', 'web', report=reported.append)
    again.validate(FakeRunc(), '/srv/web', signal.SIGTERM, None)
    assert again.write() is bool(expected)
    assert reported == expected
    assert (booted / first.name).read_text() == first.text


@pytest.mark.parametrize('need_reload, loaded_pid_file, changed', [
    ('yes', '/run/old/pid', True),     # the file names the task's pid file; systemd still watches the old one
    ('no', '/run/old/pid', False),     # what systemd runs is the file: compared through the intent line alone
    ('yes', '', False),                # systemd says nothing of a pid file: nothing to compare
])
def test_a_pid_file_systemd_has_not_loaded_is_a_change_of_intent(booted, need_reload, loaded_pid_file, changed):
    first = supervisor(FakeModule(pid_file='/run/new/pid'))
    first.validate(FakeRunc(), '/srv/web', signal.SIGTERM, None)
    (booted / first.name).write_text(first.text)
    shown = 'LoadState=loaded\nActiveState=active\nFragmentPath=%s\nNeedDaemonReload=%s\nPIDFile=%s\n' % (
        booted / first.name, need_reload, loaded_pid_file)
    again = supervisor(FakeModule(shown=shown, pid_file='/run/new/pid'))
    again.validate(FakeRunc(), '/srv/web', signal.SIGTERM, None)
    assert again.intent_changed() is changed


def test_check_mode_reports_the_missing_reload_and_runs_nothing(booted):
    first = supervisor(FakeModule())
    first.validate(FakeRunc(), '/srv/web', signal.SIGTERM, None)
    (booted / first.name).write_text(first.text)
    module = FakeModule(shown='LoadState=loaded\nActiveState=active\nFragmentPath=%s\nNeedDaemonReload=yes\n'
                        % (booted / first.name))
    module.check_mode = True
    reported = []
    planned = supervision.Supervisor(module, '/run/runc', 'web', report=reported.append)
    planned.validate(FakeRunc(), '/srv/web', signal.SIGTERM, None)
    assert planned.write()
    assert reported == [['/usr/bin/systemctl', 'daemon-reload']]
    assert [argv[1] for argv in module.commands] == ['show']


@pytest.mark.parametrize('shown, expected', [
    ({'NeedDaemonReload': 'yes'}, True),
    ({'NeedDaemonReload': 'no'}, False),
    ({'NeedDaemonReload': ''}, None),      # not read: systemctl show printed nothing for it
    ({}, None),
])
def test_the_facts_say_whether_systemd_runs_an_older_unit(shown, expected):
    facts = supervision.unit_facts('oci-runc-web-1a2b3c4d.service', dict(shown, MainPID='42', NRestarts='3'))
    assert facts['needs_daemon_reload'] is expected
    assert (facts['main_pid'], facts['restarts']) == (42, 3)


# A unit file removed by hand, or stripped of the marker, while systemd still runs the container:
# stopping the container would only have systemd start it again.
LOADED = 'LoadState=loaded\nRestart=always\n'


@pytest.mark.parametrize('file_text, shown, message', [
    (None, LOADED + 'ActiveState=active\nMainPID=42\nFragmentPath=PATH\n',
     r'\(active, Restart=always\), and its file \S+ is gone and systemd runs it from memory: removing the container'),
    # Between a crash and its restart: the container may be gone or another pid, the unit is still at it.
    (None, LOADED + 'ActiveState=activating\nMainPID=0\nFragmentPath=PATH\n', r'\(activating, Restart=always\)'),
    ('[Service]\nExecStart=/bin/true\n', LOADED + 'ActiveState=active\nMainPID=42\nFragmentPath=PATH\n',
     "is not the collection's"),
    (None, LOADED + 'ActiveState=active\nMainPID=42\nFragmentPath=/run/systemd/system/x.service\n',
     'systemd loads it from /run/systemd/system/x.service'),
    # systemd would not make the container again: nothing to refuse.
    (None, LOADED + 'ActiveState=inactive\nMainPID=0\nFragmentPath=PATH\n', None),
    (None, LOADED + 'ActiveState=failed\nMainPID=0\nFragmentPath=PATH\n', None),
    (None, 'LoadState=not-found\nRestart=always\nActiveState=active\nMainPID=42\nFragmentPath=\n', None),  # reloaded
    (None, 'LoadState=masked\nRestart=always\nActiveState=active\nMainPID=42\nFragmentPath=\n', None),
    (None, 'LoadState=loaded\nRestart=no\nActiveState=active\nMainPID=42\nFragmentPath=PATH\n', None),
])
def test_a_container_systemd_runs_from_a_unit_not_ours_is_not_stopped(booted, file_text, shown, message):
    module = FakeModule(restart=None, state='absent')
    probe = supervisor(module)
    module.shown = shown.replace('PATH', probe.path)
    if file_text is not None:
        (booted / probe.name).write_text(file_text)
    probe.validate(FakeRunc(), None, signal.SIGTERM, None)
    assert module.commands == []        # validate alone asks systemd nothing without a unit of ours
    if message:
        with pytest.raises(TaskError, match='^state: unit %s runs container web .*%s.*systemctl stop %s'
                           % (re.escape(probe.name), message, re.escape(probe.name))):
            probe.refuse_a_unit_not_ours('state', 'removing')
    else:
        probe.refuse_a_unit_not_ours('state', 'removing')
    assert [argv[1] for argv in module.commands] == ['show']


def test_a_container_without_systemd_asks_no_unit(monkeypatch, tmp_path):
    monkeypatch.setattr(supervision, 'systemd_booted', lambda: False)
    module = FakeModule(restart=None, state='absent')
    supervisor(module).refuse_a_unit_not_ours('state', 'removing')
    assert module.commands == []


def test_an_id_too_long_for_any_unit_of_ours_asks_no_unit(booted):
    module = FakeModule(restart=None, state='absent')
    supervisor(module, container_id='x' * 240).refuse_a_unit_not_ours('state', 'removing')
    assert module.commands == []


def test_a_failing_systemctl_warns_and_lets_the_task_go_on(booted):
    module = FakeModule(restart=None, state='absent')
    module.run_command = lambda argv: (1, '', 'Failed to connect to bus')
    supervisor(module).refuse_a_unit_not_ours('recreate', 're-creating')
    assert len(module.warnings) == 1
    assert re.match('^Re-creating container web without knowing whether systemd runs it under unit .*Failed to '
                    'connect to bus', module.warnings[0])
