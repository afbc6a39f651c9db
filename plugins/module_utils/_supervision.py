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

import errno
import hashlib
import json
import os
import re
import shutil
import stat

from ansible_collections.oci_runtime.runc.plugins.module_utils._runc_root import write_atomically
from ansible_collections.oci_runtime.runc.plugins.module_utils._task import TaskError
from ansible_collections.oci_runtime.runc.plugins.module_utils.runc import signal_name

UNIT_DIR = '/etc/systemd/system'
# The first line of every unit the collection writes: without it a unit file is somebody else's.
MARKER = '# Written by oci_runtime.runc (runc_container restart option); the next task rewrites it: do not edit.'
# What the module keeps of a supervised container (see _runc_root.Record), where a reboot leaves it.
RECORD_DIR = '/var/lib/oci-runtime-runc/units'
# What systemctl show reports of a unit, in the module's result.
SHOWN = ('LoadState', 'ActiveState', 'SubState', 'UnitFileState', 'MainPID', 'NRestarts', 'FragmentPath',
         'Restart', 'NeedDaemonReload', 'PIDFile')
# A unit with a process, or one about to have or lose it.
ACTIVE_STATES = ('active', 'activating', 'deactivating', 'reloading')
# The unit's policy when a task leaves restart and its companions unset for a new unit.
DEFAULT_POLICY = {'restart_sec': 1.0, 'start_limit_burst': 5, 'start_limit_interval': 10.0}
# The comment line holding the digest of what the unit makes the container from (the bundle, the id,
# the root, the run flags, stdio, the pid file): only a change of it restarts the container. The
# runtime's path and its logging flags take effect at the next start, as for a container run by hand.
INTENT = '# intent: '
# The unit's lines that keep the policy, read back when a task leaves them unset.
POLICY_KEYS = {'Restart': 'restart', 'RestartSec': 'restart_sec', 'StartLimitBurst': 'start_limit_burst',
               'StartLimitIntervalSec': 'start_limit_interval'}
# A unit file name's room: the temporary file written beside it adds a dot and a suffix.
MAX_NAME = 255 - len('..XXXXXXXX.tmp')

_UNIT_SAFE = re.compile(r'[A-Za-z0-9_.-]')
_PLAIN_ARGUMENT = re.compile(r'[A-Za-z0-9_@+=:,./-]+')


def real_root(root):
    """The root as a path, whatever its spelling; a root no path can be (a NUL in it) as given: the
    runtime options' check refuses it, with its own message, before anything reads it."""
    try:
        return os.path.realpath(root)
    except ValueError:
        return root


def systemd_booted():
    """Whether systemd is PID 1 here (sd_booted(3) looks for the same folder)."""
    return os.path.isdir('/run/systemd/system')


def unit_name(root, container_id):
    """The unit of the container id in a runc root: two roots never share one.

    The id is escaped as systemd-escape would (runc ids may hold "+"); the
    root's hash keeps containers of the same id in two roots apart.
    """
    escaped = ''.join(char if _UNIT_SAFE.match(char) else '\\x%02x' % ord(char) for char in container_id)
    root_hash = hashlib.sha256(real_root(root).encode('utf-8', 'surrogateescape')).hexdigest()[:8]
    return 'oci-runc-%s-%s.service' % (escaped, root_hash)


def runtime_directory(root, container_id):
    """The unit's folder under /run for the default pid file: no escapes, which systemd reads in this
    setting and not in PIDFile=."""
    key = hashlib.sha256(('%s\0%s' % (real_root(root), container_id)).encode('utf-8', 'surrogateescape')).hexdigest()[:16]
    return 'oci-runc-%s' % key


def unit_path(name):
    return os.path.join(UNIT_DIR, name)


def record_path(name):
    return os.path.join(RECORD_DIR, name[:-len('.service')] + '.json')


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


def quote_text(text):
    """A value systemd reads whole (a path, a description): specifiers escaped, no line breaks.

    A backslash at the end would join the next line of the unit to this one.
    """
    if '\n' in text or '\r' in text or text.endswith('\\'):
        raise TaskError('restart: %r cannot go into a unit: it holds a line break or ends with a backslash' % text)
    return text.replace('%', '%%')


def unit_signal(number):
    """The name systemd takes for a signal number (KillSignal=); a number without one is refused."""
    name = signal_name(number)
    if name is None:
        raise TaskError('kill_signal: signal %d has no name systemd takes (KillSignal=)' % number)
    return name


def seconds(value):
    """A time span systemd reads exactly (to the millisecond)."""
    milliseconds = round(value * 1000)
    return '%ds' % (milliseconds // 1000) if milliseconds % 1000 == 0 else '%dms' % milliseconds


def parse_seconds(text):
    """A span as seconds() writes it, back to a number (None for anything else)."""
    match = re.fullmatch(r'(\d+)(ms|s)', text or '')
    if not match:
        return None
    return int(match.group(1)) / (1000.0 if match.group(2) == 'ms' else 1.0)


def render(container_id, root, runtime_command, bundle, pid_file, restart, restart_sec, start_limit_burst,
           start_limit_interval, kill_signal, stop_timeout, stdout_path=None, stderr_path=None,
           run_flags=(), runtime_directory=None):
    """The unit's text.

    runtime_command: the runtime and its global flags (--root included). A
    stop_timeout of 0 stops with SIGKILL at once, as the module's stop does
    (TimeoutStopSec=0 would mean no limit to systemd). TimeoutStopSec also
    bounds ExecStopPost's runc delete: it is never below a second.
    """
    def runtime(*args):
        return exec_line(list(runtime_command) + list(args))

    run = ['run', '--detach', '--pid-file', pid_file, '--bundle', bundle] + list(run_flags) + [container_id]
    # The root as a path, whatever its spelling (/var/run/runc is /run/runc).
    root = real_root(root)
    intent = hashlib.sha256(json.dumps([container_id, root, run, stdout_path, stderr_path]).encode('utf-8'))
    mounts = [bundle] + [path for path in (stdout_path, stderr_path) if path]
    lines = [
        MARKER,
        INTENT + intent.hexdigest(),
        '[Unit]',
        'Description=%s' % quote_text('runc container %s (root %s)' % (container_id, root)),
        'After=network.target',
        # A bundle on a file system of its own (or stdio files there) is mounted before the start at boot.
        'RequiresMountsFor=%s' % ' '.join(quote(path) for path in mounts),
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
        # A container of that id that a crash or a killed runtime left stopped: runc run refuses the id
        # otherwise. Never --force: a running container of that id is not the unit's to kill.
        'ExecStartPre=-%s' % runtime('delete', container_id),
        'ExecStart=%s' % runtime(*run),
        'ExecStopPost=%s' % runtime('delete', container_id),
        'Restart=%s' % restart,
        'RestartSec=%s' % seconds(restart_sec),
        'KillSignal=%s' % (unit_signal(kill_signal) if stop_timeout > 0 else 'SIGKILL'),
        'TimeoutStopSec=%s' % seconds(max(stop_timeout, 1.0)),
        # Each stream to its own file, or to the journal: never one into the other's file.
        'StandardOutput=%s' % ('append:%s' % quote_text(stdout_path) if stdout_path else 'journal'),
        'StandardError=%s' % ('append:%s' % quote_text(stderr_path) if stderr_path else 'journal'),
        '',
        '[Install]',
        'WantedBy=multi-user.target',
        '',
    ]
    return '\n'.join(lines)


def intent_of(text):
    """The intent digest a unit's text carries (None for a unit without one)."""
    for line in (text or '').splitlines():
        if line.startswith(INTENT):
            return line[len(INTENT):]
    return None


def policy_of(text):
    """The restart policy a unit of ours holds: {option: value} for the options POLICY_KEYS names."""
    policy = {}
    for line in (text or '').splitlines():
        key, _sep, value = line.partition('=')
        option = POLICY_KEYS.get(key)
        if option == 'restart':
            policy[option] = value
        elif option == 'start_limit_burst' and value.isdigit():
            policy[option] = int(value)
        elif option is not None and parse_seconds(value) is not None:
            policy[option] = parse_seconds(value)
    return policy


def read_unit(path):
    """(text, ours): the unit file's text, and whether the collection wrote it; (None, False) if absent.

    A name the file system cannot hold (too long) is no unit either.
    """
    try:
        found = os.lstat(path)
        if not stat.S_ISREG(found.st_mode):
            # A link (dangling or not), a folder, a pipe: somebody else's, and never opened.
            return '', False
        with open(path, 'rb') as stream:
            data = stream.read(1 << 20)
    except OSError as error:
        if error.errno in (errno.ENOENT, errno.ENAMETOOLONG, errno.ENOTDIR):
            return None, False
        raise TaskError('restart: cannot read %s: %s' % (path, error.strerror))
    text = data.decode('utf-8', errors='replace')
    return text, text.startswith(MARKER + '\n')


class Systemctl:
    """The systemctl calls of the module; each mutating one reported to ``report``."""

    def __init__(self, module, report):
        self.module = module
        self.report = report
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
        self.report(argv)
        rc, out, err = self.module.run_command(argv)
        if rc != 0:
            raise TaskError('restart: %s failed (%d): %s%s' % (
                ' '.join(argv), rc, (err or out).strip(), self.runtime_messages(args[-1])))
        return out

    def runtime_messages(self, unit):
        """The runtime's own last journal lines of the unit, to say why it failed.

        Only runc's (_COMM=runc): the container's output goes to the same journal and may hold
        what the task must not show.
        """
        journalctl = self.module.get_bin_path('journalctl')
        if not journalctl or not unit.endswith('.service'):
            return ''
        rc, out, _err = self.module.run_command([journalctl, '--unit', unit, '_COMM=runc', '--lines', '5',
                                                 '--no-pager', '--output', 'cat'])
        if rc != 0 or not out.strip():
            return ''
        return '; the runtime said: %s' % ' | '.join(out.strip().splitlines())


class Supervisor:
    """The unit of one container task: what exists, what the task asks, and the steps between.

    The container side (config.json, runc update, the record) stays the
    ContainerManager's; ``report`` reports each host change as an action.
    """

    def __init__(self, module, root, container_id, report):
        self.module = module
        self.params = module.params
        self.check_mode = module.check_mode
        self.root = root
        self.container_id = container_id
        self.name = unit_name(root, container_id)
        self.path = unit_path(self.name)
        self.record_path = record_path(self.name)
        self.report = report
        self.text_before = None   # the unit file as it was (read by load())
        self.ours = False         # whether that file is the collection's
        self.policy = {}          # restart, restart_sec, ... as the task asks, or as the unit keeps them
        self.text = None          # the unit the task asks for
        self.pid_file = None      # the pid file it names
        self.shown = None         # systemctl show of the unit, as read before acting
        self._systemctl = None

    def load(self):
        """Read the unit file (never in the constructor: a file error must end as a task failure)."""
        self.text_before, self.ours = read_unit(self.path)
        kept = policy_of(self.text_before) if self.ours else {}
        self.policy = {option: self.params.get(option) if self.params.get(option) is not None
                       else kept.get(option, DEFAULT_POLICY.get(option))
                       for option in ('restart', 'restart_sec', 'start_limit_burst', 'start_limit_interval')}
        if self.policy['restart'] is None:
            self.policy['restart'] = 'no'

    @property
    def wanted(self):
        """Whether the task asks for a unit: a restart policy, set or kept, and a container to run."""
        return self.params['state'] != 'absent' and self.policy.get('restart', 'no') != 'no'

    @property
    def involved(self):
        """Whether the task deals with a unit: it asks for one, or one of ours exists for the container."""
        return self.wanted or self.ours

    @property
    def systemctl(self):
        if self._systemctl is None:
            self._systemctl = Systemctl(self.module, self.report)
        return self._systemctl

    # -- input ---------------------------------------------------------------------------------

    def validate(self, runc, bundle, kill_signal, network_plan):
        """Refuse what systemd cannot supervise, before anything is changed; render the unit.

        The task's own input first, then the host (systemd, root), then the unit of that name.
        """
        self.load()
        if not self.involved:
            return
        restart = self.policy['restart']
        if self.wanted:
            self.check_input(bundle, network_plan)
        if not systemd_booted():
            raise TaskError('restart: %s needs systemd as PID 1 to supervise the container, and this host runs '
                            '%s as PID 1; give restart=no here' % (restart, pid1_name()))
        if os.geteuid() != 0:
            raise TaskError('restart: %s needs root: the unit goes to %s, which systemd runs as root'
                            % (restart, UNIT_DIR))
        if self.text_before is not None and not self.ours:
            raise TaskError('restart: %s exists and was not written by this collection; it is left alone '
                            '(remove it or give the container another name)' % self.path)
        self.shown = self.show()
        fragment = self.shown.get('FragmentPath')
        if self.shown.get('LoadState') == 'masked' or (fragment and fragment != self.path):
            raise TaskError('restart: systemd knows unit %s from %s already; it is not this collection\'s and is '
                            'left alone' % (self.name, fragment or 'a mask'))
        if self.wanted:
            self.text = self.render(runc, bundle, kill_signal)

    def check_input(self, bundle, network_plan):
        params = self.params
        if params['state'] not in ('running', 'stopped'):
            raise TaskError('restart: state=%s is not supported for a supervised container; give running, '
                            'stopped or absent' % params['state'])
        if params['console_socket']:
            raise TaskError('console_socket: a supervised container has no terminal; systemd runs it detached')
        if network_plan is not None and network_plan.mode == 'cni':
            raise TaskError('network: mode cni is not supported with restart; systemd would make the container '
                            'again without its CNI network (see docs/supervision.md)')
        for option, low in (('restart_sec', 0), ('start_limit_interval', 0), ('start_limit_burst', 1)):
            if self.policy[option] < low:
                raise TaskError('%s: %s is below %s' % (option, self.policy[option], low))
        if len(self.name) > MAX_NAME:
            raise TaskError('name: the unit name %s is longer than the %d characters the module can write'
                            % (self.name, MAX_NAME))
        if bundle is None:
            raise TaskError('bundle: required for a supervised container: its unit runs it from the bundle')

    def render(self, runc, bundle, kill_signal):
        params = self.params
        directory = None if params['pid_file'] else runtime_directory(self.root, self.container_id)
        pid_file = self.pid_file = params['pid_file'] or '/run/%s/pid' % directory
        flags = (['--no-pivot'] if params['no_pivot'] else []) + \
            (['--no-new-keyring'] if params['no_new_keyring'] else [])
        stdio = {}
        for option in ('stdout_path', 'stderr_path'):
            if params[option]:
                stdio[option] = params[option] if os.path.isabs(params[option]) \
                    else os.path.join(bundle, params[option])
        return render(self.container_id, self.root, runtime_argv(runc, self.root), bundle, pid_file,
                      self.policy['restart'], self.policy['restart_sec'], self.policy['start_limit_burst'],
                      self.policy['start_limit_interval'], kill_signal, params['stop_timeout'],
                      run_flags=flags, runtime_directory=directory, **stdio)

    def show(self):
        return self.systemctl.show(self.name)[self.name]

    # -- state ---------------------------------------------------------------------------------

    @property
    def active(self):
        return (self.shown or {}).get('ActiveState') in ACTIVE_STATES

    @property
    def enabled(self):
        """Whether the unit starts at boot, or is linked in any other way disable undoes."""
        return (self.shown or {}).get('UnitFileState') not in ('disabled', '', None)

    @property
    def needs_reload(self):
        """Whether the unit file is newer than the unit systemd loaded from it."""
        return need_daemon_reload(self.shown or {}) is True

    def refuse_a_unit_not_ours(self, option, doing):
        """Refuse to stop a container that systemd would make again, from a unit at our name not ours now.

        A unit file removed by hand, or stripped of the marker, while systemd still has the unit
        loaded and active: the task would stop the container and systemd make it again. A unit at
        this name runs this id only, so any active state counts (between a crash and its restart
        the container may be gone or another pid). Asked only by a task that stops an existing
        container: a no-op asks nothing.
        """
        if self.ours or len(self.name) > MAX_NAME or not systemd_booted() or not self.systemctl.command:
            return   # no unit the collection wrote can be at a name longer than it ever writes
        try:
            shown = self.show()
        except TaskError as error:
            self.module.warn('%s container %s without knowing whether systemd runs it under unit %s (asking failed: '
                             '%s); if it does, systemd makes the container again'
                             % (doing.capitalize(), self.container_id, self.name,
                                str(error).replace('restart: ', '', 1)))
            return
        # A unit whose file is gone and that systemd reloaded since (not-found), a masked one, or one
        # that does not restart, leaves the container stopped.
        if shown.get('LoadState') != 'loaded' or shown.get('ActiveState') not in ACTIVE_STATES \
                or shown.get('Restart') in ('no', None):
            return
        fragment = shown.get('FragmentPath') or ''
        if self.text_before is not None:
            why = 'the file at its name, %s, is not the collection\'s (no marker line, or not a regular file)' % self.path
        elif fragment and fragment != self.path:
            why = 'systemd loads it from %s' % fragment
        else:
            why = 'its file %s is gone and systemd runs it from memory' % self.path
        raise TaskError('%s: unit %s runs container %s (%s, Restart=%s), and %s: %s the container would only have '
                        'systemd make it again. Stop the unit first (systemctl stop %s)'
                        % (option, self.name, self.container_id, shown.get('ActiveState'), shown.get('Restart'),
                           why, doing, self.name))

    def runs(self, state):
        """Whether the unit runs this container (its main process is the container's)."""
        return bool(state) and self.active and bool(state.get('pid')) and \
            (self.shown or {}).get('MainPID') == str(state['pid'])

    def intent_changed(self):
        """Whether the new unit makes the container from something else (not only watches it otherwise).

        A file systemd has not loaded (a run stopped before its reload) may hold the new intent already:
        then the pid file systemd watches is compared too, the one part of the intent that neither the
        container's record nor runc state shows.
        """
        if self.text_before is None:
            return False
        if intent_of(self.text_before) != intent_of(self.text):
            return True
        loaded_pid_file = (self.shown or {}).get('PIDFile')
        return self.needs_reload and bool(loaded_pid_file) and loaded_pid_file != self.pid_file

    # -- act -----------------------------------------------------------------------------------

    def step(self, *args):
        """One systemctl call that changes the host, or in check mode its plan."""
        if self.check_mode:
            self.report([self.systemctl.command or 'systemctl'] + list(args))
            return
        self.systemctl.run(*args)

    def write(self):
        """Write the unit when its text differs, or have systemd read it; returns whether it did (or would)."""
        if self.text_before == self.text:
            if not self.needs_reload:
                return False
            # The file is as the task asks, and systemd still runs an older one: a run stopped between
            # its write and the reload, or an edit undone by hand. Only the reload is missing.
            self.step('daemon-reload')
            return True
        self.report(['write', self.path])
        if not self.check_mode:
            write_atomically(self.path, self.text, mode=0o644, prefix='.%s.' % self.name)
        self.step('daemon-reload')
        return True

    def remove(self):
        """Stop, disable and remove the unit (only ever one of ours), and the record kept for it."""
        if not self.ours:
            return
        # validate read the unit's states: a unit of ours is always one the task deals with.
        if self.active:
            self.step('stop', self.name)
        if self.enabled:
            self.step('disable', self.name)
        self.report(['rm', self.path])
        if not self.check_mode:
            os.unlink(self.path)
            try:
                os.unlink(self.record_path)
            except FileNotFoundError:
                pass
        self.step('daemon-reload')
        if self.shown.get('ActiveState') == 'failed':
            self.step('reset-failed', self.name)

    def put_back(self, was_active, was_enabled):
        """After a failure: the unit as it was (or none), enabled and started as it was; what happened.

        Every step is tried, whatever the one before did: a unit left enabled or running by a
        half-done put_back would take the container's id back at the next boot.
        """
        problems = []

        def attempt(*args):
            try:
                self.systemctl.run(*args)
            except TaskError as error:
                problems.append(str(error))

        try:
            if self.text_before is None:
                if os.path.exists(self.path):
                    attempt('stop', self.name)
                    attempt('disable', self.name)
                    os.unlink(self.path)
                    attempt('daemon-reload')
                    # Forgets a failed start; systemd may have forgotten the unit already.
                    self.quietly('reset-failed', self.name)
            else:
                if self.text is not None and self.text != self.text_before:
                    write_atomically(self.path, self.text_before, mode=0o644, prefix='.%s.' % self.name)
                    attempt('daemon-reload')
                attempt('enable' if was_enabled else 'disable', self.name)
                self.quietly('reset-failed', self.name)
                if was_active:
                    # Not restart: systemd may be starting the unit on its own (Restart=), and a restart
                    # would kill that runc run half way, leaving a container no unit runs.
                    attempt('start', self.name)
                else:
                    attempt('stop', self.name)
        except OSError as error:
            problems.append('%s: %s' % (self.path, error.strerror))
        if problems:
            return 'putting unit %s back failed too: %s' % (self.name, '; '.join(problems))
        if self.text_before is None:
            return 'unit %s is not left behind' % self.name
        return 'unit %s was put back as it was%s' % (self.name, ' and started again' if was_active else '')

    def quietly(self, *args):
        """A systemctl call whose failure changes nothing the task reports (reset-failed, say)."""
        if self.check_mode:
            return
        try:
            self.systemctl.run(*args)
        except TaskError:
            pass

    def reinstate(self, was_active, was_enabled):
        """After remove() and a failed task: the unit of ours back, enabled and started as it was."""
        problems = []
        try:
            write_atomically(self.path, self.text_before, mode=0o644, prefix='.%s.' % self.name)
        except OSError as error:
            return 'putting unit %s back failed too: %s' % (self.name, error.strerror)
        steps = [('daemon-reload',), ('enable' if was_enabled else 'disable', self.name)]
        if was_active:
            steps.append(('start', self.name))
        for args in steps:
            try:
                self.systemctl.run(*args)
            except TaskError as error:
                problems.append(str(error))
        if problems:
            return 'putting unit %s back failed too: %s' % (self.name, '; '.join(problems))
        return 'unit %s was put back%s' % (self.name, ' and started again' if was_active else '')

    def facts(self):
        """What the module returns about the unit: as it is after the task (in check mode, before)."""
        shown = (self.shown or {}) if self.check_mode else self.show()
        return unit_facts(self.name, shown, restart=self.policy['restart'])


def unit_facts(name, shown, restart=None):
    """A unit as the modules return it, from its systemctl show values."""
    def number(key):
        value = shown.get(key) or ''
        return int(value) if value.isdigit() else None
    if restart is None:
        restart = shown.get('Restart')
    return dict(unit=name, path=unit_path(name), restart=restart, active_state=shown.get('ActiveState'),
                sub_state=shown.get('SubState'), unit_file_state=shown.get('UnitFileState'),
                main_pid=number('MainPID') or None, restarts=number('NRestarts'),
                needs_daemon_reload=need_daemon_reload(shown))


def need_daemon_reload(shown):
    """Whether systemd runs an older unit than its file holds (NeedDaemonReload); None when not read."""
    return {'yes': True, 'no': False}.get(shown.get('NeedDaemonReload'))


def runtime_argv(runc, root):
    """The runtime and its global flags as a unit runs them: an absolute path, the root always given."""
    command = runc.command if os.sep in runc.command else shutil.which(runc.command)
    if not command:
        raise TaskError('runtime_path: %s is not found in PATH; a unit needs the runtime\'s full path'
                        % runc.command)
    flags = runc.global_args()
    if runc.root is None:
        flags = ['--root', root] + flags
    return [os.path.abspath(command)] + flags


def pid1_name():
    try:
        with open('/proc/1/comm') as stream:
            return stream.read().strip() or 'an unknown process'
    except OSError:
        return 'an unknown process'
