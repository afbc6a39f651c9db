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
    assert 'ExecStartPre=-%s --root /run/runc delete --force web' % RUNC in lines
    assert 'ExecStart=%s --root /run/runc run --detach --pid-file /run/oci-runc-web-0/pid --bundle ' \
           '/srv/bundles/web web' % RUNC in lines
    assert 'ExecStopPost=%s --root /run/runc delete --force web' % RUNC in lines
    assert 'KillSignal=SIGINT' in lines
    assert 'TimeoutStopSec=2500ms' in lines
    assert 'Restart=always' in lines
    assert 'WantedBy=multi-user.target' in lines


def test_stop_timeout_zero_kills_at_once_instead_of_never():
    lines = unit_text(stop_timeout=0).splitlines()
    assert 'KillSignal=SIGKILL' in lines
    assert 'TimeoutStopSec=0' not in '\n'.join(lines)


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


def test_only_exec_settings_need_a_restart():
    before = unit_text()
    assert supervision.service_lines(before) == supervision.service_lines(
        unit_text(restart='on-failure', restart_sec=5, start_limit_burst=2, stop_timeout=3,
                  kill_signal=signal.SIGINT))
    assert supervision.service_lines(before) != supervision.service_lines(unit_text(bundle='/srv/other'))
    assert supervision.service_lines(before) != supervision.service_lines(unit_text(run_flags=['--no-pivot']))


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

    def get_bin_path(self, name):
        return '/usr/bin/' + name

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
    """A host that runs systemd, with its unit folder in tmp_path."""
    monkeypatch.setattr(supervision, 'systemd_booted', lambda: True)
    monkeypatch.setattr(supervision, 'UNIT_DIR', str(tmp_path))
    return tmp_path


def supervisor(module):
    return supervision.Supervisor(module, '/run/runc', 'web', record=lambda argv: None)


def test_a_host_without_systemd_is_refused(monkeypatch):
    monkeypatch.setattr(supervision, 'systemd_booted', lambda: False)
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
