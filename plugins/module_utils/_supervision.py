# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Containers supervised by systemd (the restart option): the unit's name and text, and systemctl.

The module writes one service unit per container, as runc's own README runs
containers under systemd: Type=forking, ``runc run --detach --pid-file``,
``ExecStopPost=runc delete``. systemd restarts the container after a crash and
starts it at boot; the collection never supervises anything itself.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal

from ansible_collections.oci_runtime.runc.plugins.module_utils._runc_root import write_atomically
from ansible_collections.oci_runtime.runc.plugins.module_utils._task import TaskError

UNIT_DIR = '/etc/systemd/system'
# The first line of every unit the collection writes: without it a unit file is somebody else's.
MARKER = '# Written by oci_runtime.runc (runc_container restart option); the next task rewrites it: do not edit.'
# What the module keeps of a supervised container (see _runc_root.Record), where a reboot leaves it.
RECORD_DIR = '/var/lib/oci-runtime-runc/units'
# What systemctl show reports of a unit, in the module's result.
SHOWN = ('LoadState', 'ActiveState', 'SubState', 'UnitFileState', 'MainPID', 'NRestarts', 'FragmentPath',
         'Restart')
# Unit lines systemd applies on daemon-reload alone: a change of only these never restarts the container.
RELOADABLE = ('Description', 'StartLimitIntervalSec', 'StartLimitBurst', 'Restart', 'RestartSec',
              'TimeoutStopSec', 'KillSignal')

_UNIT_SAFE = re.compile(r'[A-Za-z0-9_.-]')
_PLAIN_ARGUMENT = re.compile(r'[A-Za-z0-9_@+=:,./-]+')


def systemd_booted():
    """Whether systemd is PID 1 here (sd_booted(3) looks for the same folder)."""
    return os.path.isdir('/run/systemd/system')


def unit_name(root, container_id):
    """The unit of the container id in a runc root: two roots never share one.

    The id is escaped as systemd-escape would (runc ids may hold "+"); the
    root's hash keeps containers of the same id in two roots apart.
    """
    escaped = ''.join(char if _UNIT_SAFE.match(char) else '\\x%02x' % ord(char) for char in container_id)
    root_hash = hashlib.sha256(os.path.realpath(root).encode('utf-8')).hexdigest()[:8]
    return 'oci-runc-%s-%s.service' % (escaped, root_hash)


def unit_path(name):
    return os.path.join(UNIT_DIR, name)


def quote(argument):
    """One argument of an Exec line, as systemd splits them (specifiers and variables escaped)."""
    if '\n' in argument or '\r' in argument:
        raise TaskError('restart: %r cannot go into a unit: it holds a line break' % argument)
    escaped = argument.replace('%', '%%').replace('$', '$$')
    if _PLAIN_ARGUMENT.fullmatch(argument):
        return escaped
    return '"%s"' % escaped.replace('\\', '\\\\').replace('"', '\\"')


def exec_line(argv):
    return ' '.join(quote(argument) for argument in argv)


def signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return 'SIGRTMIN+%d' % (number - signal.SIGRTMIN)


def seconds(value):
    """A time span systemd reads exactly (to the millisecond)."""
    milliseconds = round(value * 1000)
    return '%ds' % (milliseconds // 1000) if milliseconds % 1000 == 0 else '%dms' % milliseconds


def render(container_id, root, runtime_command, bundle, pid_file, restart, restart_sec, start_limit_burst,
           start_limit_interval, kill_signal, stop_timeout, stdout_path=None, stderr_path=None,
           run_flags=(), runtime_directory=None):
    """The unit's text.

    runtime_command: the runtime and its global flags (--root included). A
    stop_timeout of 0 stops with SIGKILL at once, as the module's stop does
    (TimeoutStopSec=0 would mean no limit to systemd).
    """
    def runtime(*args):
        return exec_line(list(runtime_command) + list(args))

    run = ['run', '--detach', '--pid-file', pid_file, '--bundle', bundle] + list(run_flags) + [container_id]
    lines = [
        MARKER,
        '[Unit]',
        'Description=%s' % quote_text('runc container %s (root %s)' % (container_id, root)),
        'After=network.target',
        'StartLimitIntervalSec=%s' % seconds(start_limit_interval),
        'StartLimitBurst=%d' % start_limit_burst,
        '',
        '[Service]',
        'Type=forking',
        'PIDFile=%s' % quote_text(pid_file),
    ]
    if runtime_directory:
        # Where the default pid file goes; systemd makes it before ExecStart and removes it after stop.
        lines += ['RuntimeDirectory=%s' % runtime_directory, 'RuntimeDirectoryMode=0700']
    lines += [
        # A container of that id left by a crash or a killed runtime: runc run refuses the id otherwise.
        'ExecStartPre=-%s' % runtime('delete', '--force', container_id),
        'ExecStart=%s' % runtime(*run),
        'ExecStopPost=%s' % runtime('delete', '--force', container_id),
        'Restart=%s' % restart,
        'RestartSec=%s' % seconds(restart_sec),
        'KillSignal=%s' % (signal_name(kill_signal) if stop_timeout > 0 else 'SIGKILL'),
        'TimeoutStopSec=%s' % seconds(max(stop_timeout, 0.001)),
    ]
    for name, path in (('StandardOutput', stdout_path), ('StandardError', stderr_path)):
        if path:
            lines.append('%s=append:%s' % (name, quote_text(path)))
    lines += ['', '[Install]', 'WantedBy=multi-user.target', '']
    return '\n'.join(lines)


def quote_text(text):
    """A value systemd reads whole (a path, a description): specifiers escaped, no line breaks."""
    if '\n' in text or '\r' in text:
        raise TaskError('restart: %r cannot go into a unit: it holds a line break' % text)
    return text.replace('%', '%%')


def service_lines(text):
    """The unit's settings that need a restart of the container to take effect, for comparison."""
    kept = []
    for line in (text or '').splitlines():
        key = line.split('=', 1)[0]
        if '=' in line and key not in RELOADABLE:
            kept.append(line)
    return kept


def read_unit(path):
    """(text, ours): the unit file's text, and whether the collection wrote it; (None, False) if absent."""
    try:
        with open(path, 'rb') as stream:
            data = stream.read(1 << 20)
    except FileNotFoundError:
        return None, False
    text = data.decode('utf-8', errors='replace')
    return text, os.path.isfile(path) and not os.path.islink(path) and text.startswith(MARKER + '\n')


class Systemctl:
    """The systemctl calls of the module; each mutating one reported to ``record``."""

    def __init__(self, module, record):
        self.module = module
        self.record = record
        self.command = module.get_bin_path('systemctl')

    def show(self, *units):
        """{unit: {property: value}} of the units (an unknown unit has LoadState not-found)."""
        if not self.command:
            raise TaskError('restart: systemctl is not installed on this host')
        argv = [self.command, 'show', '--property=%s' % ','.join(('Id',) + SHOWN), '--'] + list(units)
        rc, out, err = self.module.run_command(argv)
        if rc != 0:
            raise TaskError('restart: %s failed (%d): %s' % (' '.join(argv), rc, (err or out).strip()))
        shown = {}
        for block, unit in zip(out.strip().split('\n\n'), units):
            values = dict(line.split('=', 1) for line in block.splitlines() if '=' in line)
            shown[values.get('Id') or unit] = values
        return shown

    def run(self, *args):
        argv = [self.command] + list(args)
        self.record(argv)
        rc, out, err = self.module.run_command(argv)
        if rc != 0:
            raise TaskError('restart: %s failed (%d): %s%s' % (
                ' '.join(argv), rc, (err or out).strip(), self.journal(args[-1])))
        return out

    def journal(self, unit):
        """The unit's last journal lines, to say why it failed."""
        journalctl = self.module.get_bin_path('journalctl')
        if not journalctl or not unit.endswith('.service'):
            return ''
        rc, out, _err = self.module.run_command([journalctl, '--unit', unit, '--lines', '15', '--no-pager',
                                                 '--output', 'cat'])
        return '; the unit\'s journal ends with: %s' % ' | '.join(out.strip().splitlines()) if rc == 0 and out.strip() \
            else ''


def record_path(name):
    return os.path.join(RECORD_DIR, name[:-len('.service')] + '.json')


class Supervisor:
    """The unit of one container task: what exists, what the task asks, and the steps between.

    The container side (config.json, runc update, the record) stays the
    ContainerManager's; ``record`` reports each host change as an action.
    """

    def __init__(self, module, root, container_id, record):
        self.module = module
        self.params = module.params
        self.check_mode = module.check_mode
        self.root = root
        self.container_id = container_id
        self.name = unit_name(root, container_id)
        self.path = unit_path(self.name)
        self.record_path = record_path(self.name)
        self.restart = self.params.get('restart') or 'no'
        self.record = record
        self.text_before, self.ours = read_unit(self.path)
        self.text = None          # the unit the task asks for
        self.shown = None         # systemctl show of the unit, as read before acting
        self._systemctl = None

    @property
    def asked(self):
        """Whether the task asks for a unit."""
        return self.restart != 'no'

    @property
    def involved(self):
        """Whether the task deals with a unit: it asks for one, or one of ours runs the container."""
        return self.asked or self.ours

    @property
    def systemctl(self):
        if self._systemctl is None:
            self._systemctl = Systemctl(self.module, self.record)
        return self._systemctl

    # -- input ---------------------------------------------------------------------------------

    def validate(self, runc, bundle, kill_signal, network_plan):
        """Refuse what systemd cannot supervise, before anything is changed; render the unit."""
        params = self.params
        if not self.asked:
            return
        if not systemd_booted():
            raise TaskError('restart: %s needs systemd as PID 1 to supervise the container, and this host runs '
                            '%s as PID 1; give restart=no here' % (self.restart, pid1_name()))
        if os.geteuid() != 0:
            raise TaskError('restart: %s needs root: the unit goes to %s, which systemd runs as root'
                            % (self.restart, UNIT_DIR))
        if params['state'] not in ('running', 'stopped', 'absent'):
            raise TaskError('restart: state=%s is not supported for a supervised container; give running, '
                            'stopped or absent' % params['state'])
        if params['console_socket']:
            raise TaskError('console_socket: a supervised container has no terminal; systemd runs it detached')
        if network_plan is not None and network_plan.mode == 'cni':
            raise TaskError('network: mode cni is not supported with restart; systemd would make the container '
                            'again without its CNI network (see docs/supervision.md)')
        for option, low in (('restart_sec', 0), ('start_limit_interval', 0), ('start_limit_burst', 1)):
            if params[option] < low:
                raise TaskError('%s: %s is below %s' % (option, params[option], low))
        if len(self.name) > 255:
            raise TaskError('name: the unit name %s is longer than the 255 characters systemd allows' % self.name)
        if self.text_before is not None and not self.ours:
            raise TaskError('restart: %s exists and was not written by this collection; it is left alone '
                            '(remove it or give the container another name)' % self.path)
        self.shown = self.show()
        fragment = self.shown.get('FragmentPath')
        if self.shown.get('LoadState') == 'masked' or (fragment and fragment != self.path):
            raise TaskError('restart: systemd knows unit %s from %s already; it is not this collection\'s and is '
                            'left alone' % (self.name, fragment or 'a mask'))
        if params['state'] == 'absent':
            return
        if bundle is None:
            raise TaskError('bundle: required for a supervised container: its unit runs it from the bundle')
        base = self.name[:-len('.service')]
        pid_file = params['pid_file'] or '/run/%s/pid' % base
        flags = (['--no-pivot'] if params['no_pivot'] else []) + \
            (['--no-new-keyring'] if params['no_new_keyring'] else [])
        stdio = {}
        for option in ('stdout_path', 'stderr_path'):
            if params[option]:
                stdio[option] = params[option] if os.path.isabs(params[option]) \
                    else os.path.join(bundle, params[option])
        self.text = render(self.container_id, self.root, runtime_argv(runc, self.root), bundle, pid_file,
                           self.restart, params['restart_sec'], params['start_limit_burst'],
                           params['start_limit_interval'], kill_signal, params['stop_timeout'],
                           run_flags=flags, runtime_directory=base, **stdio)

    def show(self):
        return self.systemctl.show(self.name)[self.name]

    # -- state ---------------------------------------------------------------------------------

    @property
    def active(self):
        return (self.shown or {}).get('ActiveState') in ('active', 'activating', 'deactivating', 'reloading')

    def runs(self, state):
        """Whether the unit runs this container (its main process is the container's)."""
        return bool(state) and self.active and state.get('pid') and \
            (self.shown or {}).get('MainPID') == str(state['pid'])

    def needs_restart(self):
        """Whether the new unit text changes how the container runs (not only how systemd watches it)."""
        return service_lines(self.text_before) != service_lines(self.text)

    # -- act -----------------------------------------------------------------------------------

    def step(self, *args):
        """One systemctl call that changes the host, or in check mode its plan."""
        if self.check_mode:
            self.record([self.systemctl.command or 'systemctl'] + list(args))
            return
        self.systemctl.run(*args)

    def write(self):
        """Write the unit when its text differs; returns whether it did (or would)."""
        if self.text_before == self.text:
            return False
        self.record(['write', self.path])
        if not self.check_mode:
            write_atomically(self.path, self.text, mode=0o644, prefix='.%s.' % self.name)
        self.step('daemon-reload')
        return True

    def remove(self):
        """Stop, disable and remove the unit (only ever one of ours), and the record kept for it."""
        shown = self.show()
        if shown.get('ActiveState') in ('active', 'activating', 'deactivating', 'reloading'):
            self.step('stop', self.name)
        if shown.get('UnitFileState') not in ('disabled', '', None):
            self.step('disable', self.name)
        self.record(['rm', self.path])
        if not self.check_mode:
            os.unlink(self.path)
            try:
                os.unlink(self.record_path)
            except FileNotFoundError:
                pass
        self.step('daemon-reload')
        if shown.get('ActiveState') == 'failed':
            self.step('reset-failed', self.name)
        return shown

    def put_back(self, was_active):
        """After a failure: the unit as it was (or none), started again if it ran; returns what happened."""
        try:
            if self.text_before is None:
                if os.path.exists(self.path):
                    # Stopped and its enablement links gone first: the file alone would leave them dangling.
                    self.systemctl.run('stop', self.name)
                    self.systemctl.run('disable', self.name)
                    os.unlink(self.path)
                self.systemctl.run('daemon-reload')
                self.quietly('reset-failed', self.name)
                return 'unit %s was removed again' % self.name
            if self.text is not None and self.text != self.text_before:
                write_atomically(self.path, self.text_before, mode=0o644, prefix='.%s.' % self.name)
                self.systemctl.run('daemon-reload')
            if was_active:
                self.quietly('reset-failed', self.name)
                self.systemctl.run('start', self.name)
        except (TaskError, OSError) as error:
            return 'putting unit %s back failed too: %s' % (self.name, error)
        return 'unit %s was put back as it was%s' % (self.name, ' and started again' if was_active else '')

    def quietly(self, *args):
        try:
            self.systemctl.run(*args)
        except TaskError:
            pass

    def facts(self):
        """What the module returns about the unit: as it is after the task (in check mode, before)."""
        shown = self.shown or {} if self.check_mode else self.show()
        return unit_facts(self.name, shown, restart=self.restart)


def unit_facts(name, shown, restart=None):
    """A unit as the modules return it, from its systemctl show values."""
    def number(key):
        value = shown.get(key) or ''
        return int(value) if value.isdigit() else None
    if restart is None:
        restart = shown.get('Restart')
    return dict(unit=name, path=unit_path(name), restart=restart, active_state=shown.get('ActiveState'),
                sub_state=shown.get('SubState'), unit_file_state=shown.get('UnitFileState'),
                main_pid=number('MainPID') or None, restarts=number('NRestarts'))


def runtime_argv(runc, root):
    """The runtime and its global flags as a unit runs them: an absolute path, the root always given."""
    command = runc.command if os.path.isabs(runc.command) else shutil.which(runc.command)
    if not command:
        raise TaskError('runtime_path: %s is not found in PATH; a unit needs the runtime\'s full path'
                        % runc.command)
    flags = runc.global_args()
    if runc.root is None:
        flags = ['--root', root] + flags
    return [command] + flags


def pid1_name():
    try:
        with open('/proc/1/comm') as stream:
            return stream.read().strip() or 'an unknown process'
    except OSError:
        return 'an unknown process'
