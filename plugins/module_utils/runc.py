# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A client for the runc command line, the Python counterpart of go-runc.

One method per runc subcommand. Each builds an argv list
``runtime + global flags + subcommand + flags + container id`` (never a
shell string), runs it, parses what the runtime printed on stdout and raises
RuncError, which carries the argv, the exit status and runc's own message,
when the runtime fails.

Two ways of running the runtime exist, because of what runc does with stdio:

* Queries and control commands (state, list, kill, update, ...) get pipes:
  stdout holds JSON, stderr holds runc's complaint.
* Commands that start a container process (create, run, exec, restore) hand
  their stdio to that process. Pipes would be inherited by the container and a
  detached call would never see EOF (runc issue 1721), so detached processes
  get /dev/null or files, and runc's own message is read from a private
  per-call ``--log`` file instead of stderr.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import tempfile

from typing import Any, List, Optional, Union

from ansible_collections.oci_runtime.runc.plugins.module_utils._runc_output import (
    OutputParseError,
    log_error_messages,
    parse_json_output,
    parse_ps_table,
    parse_version,
    runtime_message,
)

DEFAULT_COMMAND = 'runc'
LOG_FORMATS = ('text', 'json')
CGROUP_MANAGE_MODES = ('soft', 'full', 'strict', 'ignore')

# Subcommands that change a container; everything else only reads.
MUTATING_SUBCOMMANDS = frozenset((
    'create', 'start', 'run', 'exec', 'delete', 'kill', 'pause', 'resume',
    'update', 'checkpoint', 'restore',
))

# runc's rule for container ids (libcontainer/factory_linux.go): word
# characters, plus, minus and dot; "." and ".." would escape the root.
_CONTAINER_ID = re.compile(r'[\w+\-.]+', re.ASCII)
# runc keeps each container's state in a folder named after its id (NAME_MAX).
MAX_ID_LENGTH = 255
_REALTIME_SIGNAL = re.compile(r'^RTM(IN|AX)([+-]\d+)?$')
# CRIU's complaints when the kernel cannot track dirty memory (no
# CONFIG_MEM_SOFT_DIRTY): pre-dump and parent images depend on it.
_NO_MEMORY_TRACKING = re.compile(r'MemTrack|Tracking memory is not available|missing features',
                                 re.IGNORECASE)


class RuncError(Exception):
    """A runtime call failed, or was refused before it ran.

    ``argv`` is None when the input was rejected before anything ran;
    ``exit_status`` is None when the runtime did not exit by itself (not
    found, timed out). ``runc_message`` is the runtime's own explanation,
    taken from its log line when there is one.
    """

    def __init__(self, message, argv=None, exit_status=None, stdout='', stderr='',
                 runc_message=None, timed_out=False):
        super().__init__(message)
        self.message = message
        self.argv = argv
        self.exit_status = exit_status
        self.stdout = stdout
        self.stderr = stderr
        self.runc_message = runc_message
        self.timed_out = timed_out

    @property
    def container_missing(self):
        """True when the runtime said that the container does not exist."""
        return bool(self.runc_message) and 'does not exist' in self.runc_message

    def as_dict(self):
        """The error as JSON-ready data, for module results."""
        return {
            'msg': self.message,
            'argv': self.argv,
            'exit_status': self.exit_status,
            'stdout': self.stdout,
            'stderr': self.stderr,
            'runc_message': self.runc_message,
        }


def validate_container_id(container_id):
    """Reject ids runc would refuse or that would escape its root folder."""
    if not isinstance(container_id, str) or not container_id:
        raise RuncError('invalid container id %r: it must be a non-empty string' % (container_id,))
    if container_id in ('.', '..') or not _CONTAINER_ID.fullmatch(container_id):
        raise RuncError('invalid container id %r: only letters, digits, "_", "+", "-" and "." '
                        'are allowed, and not "." or ".." alone' % (container_id,))
    if len(container_id.encode('utf-8')) > MAX_ID_LENGTH:
        raise RuncError('invalid container id %r...: %d characters, and runc keeps a container in a '
                        'folder named after its id, which may have at most %d'
                        % (container_id[:20], len(container_id), MAX_ID_LENGTH))
    return container_id


def signal_name(number):
    """The name of a signal number of this host (SIGRTMIN+n for a realtime one); None for a number without one."""
    try:
        return signal.Signals(number).name
    except ValueError:
        if signal.SIGRTMIN <= number <= signal.SIGRTMAX:
            return 'SIGRTMIN+%d' % (number - signal.SIGRTMIN)
        return None


def parse_signal(value):
    """Turn 9, "9", "KILL", "SIGKILL" or "SIGRTMIN+3" into a signal number of this host."""
    if isinstance(value, bool):
        raise RuncError('invalid signal %r' % (value,))
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip().upper()
        if text.isdigit():
            number = int(text)
        else:
            name = text[3:] if text.startswith('SIG') else text
            realtime = _REALTIME_SIGNAL.match(name)
            if realtime:
                base = signal.SIGRTMIN if realtime.group(1) == 'IN' else signal.SIGRTMAX
                number = int(base) + int(realtime.group(2) or 0)
                if not signal.SIGRTMIN <= number <= signal.SIGRTMAX:
                    raise RuncError('invalid signal %r: outside SIGRTMIN..SIGRTMAX' % (value,))
                return number
            try:
                return int(signal.Signals['SIG' + name])
            except KeyError:
                raise RuncError('invalid signal %r: not a signal name or number known on this host'
                                % (value,))
    if not 0 < number < signal.NSIG:
        raise RuncError('invalid signal %r: numbers range from 1 to %d' % (value, signal.NSIG - 1))
    return number


def read_pid_file(path):
    """Read the pid a runtime wrote with ``--pid-file``."""
    try:
        with open(path) as pid_file:
            text = pid_file.read().strip()
    except OSError as exc:
        raise RuncError('cannot read pid file %s: %s' % (path, exc))
    if not text.isdigit():
        raise RuncError('pid file %s holds %r, not a process id' % (path, text[:50]))
    return int(text)


# Global flags that take a value, to find the subcommand in an argv.
_GLOBAL_FLAGS_WITH_VALUE = ('--root', '--log', '--log-format', '--criu')


def subcommand_of(argv):
    """The runc subcommand an argv runs (``--version`` for a version query)."""
    takes_value = False
    for arg in argv[1:]:
        if takes_value:
            takes_value = False
        elif arg in _GLOBAL_FLAGS_WITH_VALUE:
            takes_value = True
        elif not arg.startswith('-') or arg == '--version':
            return arg
    return ''


def _console_socket_path(console_socket):
    return getattr(console_socket, 'path', console_socket)


def _absolute(path):
    # runc resolves relative paths against its own working directory, which
    # need not be ours (Runc.work_dir); go-runc makes pid files absolute too.
    return os.path.abspath(path) if path else path


def _flags(*pairs):
    """argv for (flag, value) pairs: True gives the flag alone, a list one
    flag per item, any other set value the flag and the value; False, None,
    0 and empty values give nothing."""
    out = []
    for flag, value in pairs:
        if value is True:
            out.append(flag)
        elif isinstance(value, list):
            for item in value:
                out += [flag, item]
        elif value:
            out += [flag, str(value)]
    return out


class _Fields:
    """Plain value objects, light to import: dataclasses costs every module run milliseconds.

    The annotated class attributes are the fields and their defaults, in
    order; a list default is copied and a class default instantiated for
    each object. Fields are given by keyword, or by position in that order.
    """

    @classmethod
    def _fields(cls):
        names = []
        for klass in reversed(cls.__mro__):
            for name in klass.__dict__.get('__annotations__', {}):
                if name not in names:
                    names.append(name)
        return names

    def __init__(self, *positional, **values):
        names = self._fields()
        if len(positional) > len(names):
            raise TypeError('%s takes at most %d fields' % (type(self).__name__, len(names)))
        values.update(zip(names, positional))
        unknown = set(values) - set(names)
        if unknown:
            raise TypeError('%s has no field %s' % (type(self).__name__, ', '.join(sorted(unknown))))
        for name in names:
            if name in values:
                value = values[name]
            else:
                value = getattr(type(self), name)
                if isinstance(value, list):
                    value = list(value)
                elif isinstance(value, type):
                    value = value()
            setattr(self, name, value)
        self._check()

    def _check(self):
        """Validate the fields; subclasses override."""

    def __eq__(self, other):
        return type(other) is type(self) and vars(other) == vars(self)

    def __repr__(self):
        return '%s(%s)' % (type(self).__name__, ', '.join('%s=%r' % item for item in vars(self).items()))


class ProcessIO(_Fields):
    """Where the stdio of a container process goes.

    ``stdin_data`` is written to the process and its stdin closed (foreground
    calls only); without it stdin is /dev/null. ``stdout_path`` and
    ``stderr_path`` are appended to; when unset, a foreground call captures
    the stream and a detached one discards it to /dev/null.
    """

    stdin_data: Optional[Union[str, bytes]] = None
    stdout_path: Optional[str] = None
    stderr_path: Optional[str] = None


class CreateOptions(_Fields):
    """Options of ``runc create`` and ``runc run`` (go-runc CreateOpts).

    ``detach`` applies to run only: create always returns once the container
    is set up. ``extra_files`` are open file objects or descriptors passed to
    the container as fds 3, 4, ... (``--preserve-fds``).
    """

    pid_file: Optional[str] = None
    console_socket: Any = None
    detach: bool = False
    no_pivot: bool = False
    no_new_keyring: bool = False
    no_subreaper: bool = False
    keep: bool = False
    extra_files: List[Any] = []
    extra_args: List[str] = []
    io: ProcessIO = ProcessIO  # a class: each object gets a new one

    def args(self, subcommand):
        flags = [('--pid-file', _absolute(self.pid_file)),
                 ('--console-socket', _console_socket_path(self.console_socket)),
                 ('--no-pivot', self.no_pivot),
                 ('--no-new-keyring', self.no_new_keyring)]
        if subcommand == 'run':
            flags += [('--detach', self.detach), ('--no-subreaper', self.no_subreaper), ('--keep', self.keep)]
        flags.append(('--preserve-fds', len(self.extra_files)))
        return _flags(*flags) + list(self.extra_args)


class ExecOptions(_Fields):
    """Options of ``runc exec`` besides the process itself (go-runc ExecOpts)."""

    pid_file: Optional[str] = None
    console_socket: Any = None
    detach: bool = False
    ignore_paused: bool = False
    log_file: Optional[str] = None
    extra_files: List[Any] = []
    extra_args: List[str] = []
    io: ProcessIO = ProcessIO  # a class: each object gets a new one

    def args(self):
        return _flags(('--console-socket', _console_socket_path(self.console_socket)),
                      ('--detach', self.detach),
                      ('--pid-file', _absolute(self.pid_file)),
                      ('--ignore-paused', self.ignore_paused),
                      ('--preserve-fds', len(self.extra_files))) + list(self.extra_args)


class DeleteOptions(_Fields):
    force: bool = False
    extra_args: List[str] = []

    def args(self):
        return _flags(('--force', self.force)) + list(self.extra_args)


class KillOptions(_Fields):
    all: bool = False
    extra_args: List[str] = []

    def args(self):
        return _flags(('--all', self.all)) + list(self.extra_args)


class _CriuOptions(_Fields):
    """The CRIU options that both ``runc checkpoint`` and ``runc restore`` take."""

    image_path: Optional[str] = None
    work_path: Optional[str] = None
    tcp_established: bool = False
    ext_unix_sk: bool = False
    shell_job: bool = False
    file_locks: bool = False
    manage_cgroups_mode: Optional[str] = None
    empty_ns: List[str] = []
    lazy_pages: bool = False
    auto_dedup: bool = False

    def validate(self):
        if self.manage_cgroups_mode and self.manage_cgroups_mode not in CGROUP_MANAGE_MODES:
            raise RuncError('invalid manage_cgroups_mode %r: expected one of %s'
                            % (self.manage_cgroups_mode, ', '.join(CGROUP_MANAGE_MODES)))

    def criu_args(self):
        return _flags(('--image-path', self.image_path),
                      ('--work-path', self.work_path),
                      ('--tcp-established', self.tcp_established),
                      ('--ext-unix-sk', self.ext_unix_sk),
                      ('--shell-job', self.shell_job),
                      ('--file-locks', self.file_locks),
                      ('--manage-cgroups-mode', self.manage_cgroups_mode),
                      ('--empty-ns', list(self.empty_ns)),
                      ('--lazy-pages', self.lazy_pages),
                      ('--auto-dedup', self.auto_dedup))


class CheckpointOptions(_CriuOptions):
    """Options of ``runc checkpoint`` (go-runc CheckpointOpts and its actions).

    ``status_fd`` is a descriptor of the caller passed on as fd 3;
    ``status_file`` is a path the client opens write-only for the same purpose
    (CRIU writes a NUL there once lazy pages are ready).
    """

    parent_path: Optional[str] = None
    leave_running: bool = False
    pre_dump: bool = False
    page_server: Optional[str] = None
    status_fd: Optional[int] = None
    status_file: Optional[str] = None
    extra_args: List[str] = []

    def validate(self):
        super().validate()
        if self.status_fd is not None and self.status_file:
            raise RuncError('status_fd and status_file are mutually exclusive')

    def args(self):
        handing_over_status = self.status_fd is not None or bool(self.status_file)
        return self.criu_args() + _flags(
            ('--parent-path', self.parent_path),
            ('--leave-running', self.leave_running),
            ('--pre-dump', self.pre_dump),
            ('--page-server', self.page_server),
            # The descriptor is handed over as the first extra file: fd 3.
            ('--status-fd', '3' if handing_over_status else None)) + list(self.extra_args)


class RestoreOptions(_CriuOptions):
    """Options of ``runc restore`` (go-runc RestoreOpts).

    Only the CRIU options that restore accepts are here: a pre-dump parent,
    a page server and leave-running are checkpoint-only.
    """

    detach: bool = False
    pid_file: Optional[str] = None
    no_subreaper: bool = False
    no_pivot: bool = False
    console_socket: Any = None
    extra_args: List[str] = []
    io: ProcessIO = ProcessIO  # a class: each object gets a new one

    def args(self):
        return self.criu_args() + _flags(
            ('--detach', self.detach),
            ('--pid-file', _absolute(self.pid_file)),
            ('--console-socket', _console_socket_path(self.console_socket)),
            ('--no-pivot', self.no_pivot),
            ('--no-subreaper', self.no_subreaper)) + list(self.extra_args)


class ProcessResult(_Fields):
    """How a foreground container process (run, exec, restore) ended."""

    exit_status: int
    stdout: Optional[str] = None
    stderr: Optional[str] = None


class _Completed(_Fields):
    argv: List[str]
    exit_status: int
    stdout: str
    stderr: str


def _fileno(file_or_fd):
    return file_or_fd if isinstance(file_or_fd, int) else file_or_fd.fileno()


def _child_setup(setpgid, pdeath_signal, extra_fds):
    """Build the function run in the child between fork and exec, or None.

    preexec_fn is avoided unless needed: it is unsafe in threaded callers.
    """
    if not (setpgid or pdeath_signal or extra_fds):
        return None

    def setup():
        if setpgid:
            os.setpgid(0, 0)
        if pdeath_signal:
            import ctypes
            pr_set_pdeathsig = 1
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, pdeath_signal, 0, 0, 0)
        if extra_fds:
            # Move every source above the target range first, so that placing
            # fd 3+i never overwrites a source still to be placed.
            floor = 3 + len(extra_fds)
            import fcntl
            moved = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, floor) for fd in extra_fds]
            for index, fd in enumerate(moved):
                os.dup2(fd, 3 + index)  # dup2 clears close-on-exec on the target
                os.close(fd)
    return setup


class Runc(_Fields):
    """Global settings of every runtime call (go-runc's Runc struct).

    ``rootless`` None lets the runtime decide ("auto"). ``timeout`` (seconds)
    bounds every call except the events stream; None waits forever.
    ``commands_run`` records the argv of every call, ``mutations_run`` those
    of the calls that change a container, for callers that report actions.
    """

    command: str = DEFAULT_COMMAND
    root: Optional[str] = None
    debug: bool = False
    log: Optional[str] = None
    log_format: Optional[str] = None
    systemd_cgroup: bool = False
    rootless: Optional[bool] = None
    extra_args: List[str] = []
    setpgid: bool = False
    pdeath_signal: Any = None
    work_dir: Optional[str] = None
    timeout: Optional[float] = None
    commands_run: List[List[str]] = []
    mutations_run: List[List[str]] = []

    def _check(self):
        if not self.command:
            raise RuncError('the runtime command must not be empty')
        if self.log_format not in (None,) + LOG_FORMATS:
            raise RuncError('invalid log_format %r: expected one of %s'
                            % (self.log_format, ', '.join(LOG_FORMATS)))
        if self.pdeath_signal is not None:
            self.pdeath_signal = parse_signal(self.pdeath_signal)
        if self.timeout is not None and self.timeout <= 0:
            raise RuncError('invalid timeout %r: it must be a positive number of seconds'
                            % (self.timeout,))

    # -- argv -----------------------------------------------------------------

    def global_args(self, log_file=None):
        """The global flags, with ``log_file`` in place of the configured log."""
        out = []
        if self.root:
            out += ['--root', self.root]
        if self.debug:
            out.append('--debug')
        log = log_file or self.log
        if log:
            out += ['--log', log]
        if self.log_format:
            out += ['--log-format', self.log_format]
        if self.systemd_cgroup:
            out.append('--systemd-cgroup')
        if self.rootless is not None:
            out.append('--rootless=%s' % ('true' if self.rootless else 'false'))
        return out + list(self.extra_args)

    def argv(self, *args, log_file=None):
        return [self.command] + self.global_args(log_file) + list(args)

    # -- running ----------------------------------------------------------------

    def _popen(self, subcommand, argv, stdin, stdout, stderr, extra_files=()):
        self.commands_run.append(list(argv))
        if subcommand in MUTATING_SUBCOMMANDS:
            self.mutations_run.append(list(argv))
        extra_fds = [_fileno(extra) for extra in extra_files]
        environment = {key: value for key, value in os.environ.items()
                       # runc notifies systemd itself when NOTIFY_SOCKET is set;
                       # only systemd should set it for the runtime.
                       if key != 'NOTIFY_SOCKET'}
        try:
            return subprocess.Popen(
                argv, stdin=stdin, stdout=stdout, stderr=stderr, cwd=self.work_dir,
                env=environment, close_fds=not extra_fds,
                preexec_fn=_child_setup(self.setpgid, self.pdeath_signal, extra_fds))
        except OSError as exc:
            raise RuncError('cannot run the runtime %r: %s' % (self.command, exc.strerror or exc),
                            argv=list(argv))

    def _stop(self, process):
        """Kill a runtime that ran out of time, with its group when it has one."""
        try:
            if self.setpgid:
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
        except OSError:
            pass

    def _communicate(self, process, argv, input_data, timeout):
        try:
            return process.communicate(input_data, timeout=timeout)
        except subprocess.TimeoutExpired:
            self._stop(process)
            try:
                # Children of the runtime may still hold the pipes; give up on
                # their output rather than wait for them.
                stdout, stderr = process.communicate(timeout=1)
            except subprocess.TimeoutExpired:
                stdout = stderr = b''
                for stream in (process.stdout, process.stderr):
                    if stream:
                        stream.close()
                process.wait()
            raise _timed_out(argv, timeout, stdout, stderr)

    def _failure(self, subcommand, argv, exit_status, stdout, stderr, message_source):
        message = runtime_message(message_source)
        return RuncError('%s %s failed (exit status %s): %s'
                         % (os.path.basename(argv[0]), subcommand, exit_status,
                            message or 'no message from the runtime'),
                         argv=argv, exit_status=exit_status, stdout=stdout, stderr=stderr,
                         runc_message=message)

    def _capture(self, *args, input_data=None, extra_files=()):
        """Run a query or control command with stdout and stderr on pipes."""
        argv = self.argv(*args)
        process = self._popen(args[0], argv,
                              subprocess.PIPE if input_data is not None else subprocess.DEVNULL,
                              subprocess.PIPE, subprocess.PIPE, extra_files)
        stdout, stderr = self._communicate(process, argv, _bytes(input_data), self.timeout)
        completed = _Completed(argv, process.returncode, _text(stdout), _text(stderr))
        if completed.exit_status != 0:
            raise self._failure(args[0], argv, completed.exit_status, completed.stdout,
                                completed.stderr, completed.stderr)
        return completed

    def _capture_many(self, calls, workers):
        """_capture of each call (a tuple of args), at most ``workers`` at a time: a _Completed or a RuncError each.

        From this one thread when the host allows (see _spawn), else from a thread per call.
        """
        # Imported here: most runs make no such calls, and every module's start-up pays for its imports.
        from concurrent.futures import ThreadPoolExecutor
        from ansible_collections.oci_runtime.runc.plugins.module_utils import _spawn

        argvs = [self.argv(*args) for args in calls]
        if self.work_dir or self.setpgid or self.pdeath_signal is not None or not _spawn.available():
            def capture(args):
                try:
                    return self._capture(*args)
                except RuncError as error:
                    return error
            with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
                return list(pool.map(capture, calls))
        self.commands_run.extend(list(argv) for argv in argvs)
        environment = {key: value for key, value in os.environ.items() if key != 'NOTIFY_SOCKET'}
        results = []
        for args, outcome in zip(calls, _spawn.run_many(argvs, environment, max(1, workers), self.timeout)):
            argv = outcome.argv
            if outcome.start_error is not None:
                results.append(RuncError('cannot run the runtime %r: %s' % (
                    self.command, outcome.start_error.strerror or outcome.start_error), argv=argv))
            elif outcome.timed_out:
                results.append(_timed_out(argv, self.timeout, outcome.stdout, outcome.stderr))
            elif outcome.exit_status != 0:
                stderr = _text(outcome.stderr)
                results.append(self._failure(args[0], argv, outcome.exit_status, _text(outcome.stdout),
                                             stderr, stderr))
            else:
                results.append(_Completed(argv, 0, _text(outcome.stdout), _text(outcome.stderr)))
        return results

    def _with_container_io(self, args, io, detach, extra_files=(), log_file=None):
        """Run a command whose stdio belongs to a container process.

        Returns a ProcessResult; raises RuncError when the runtime itself
        logged an error, whatever the exit status (which is the container
        process's own for foreground calls).
        """
        if detach and io.stdin_data is not None:
            raise RuncError('stdin data cannot be given to a detached process: '
                            'nothing would be left to write it once the runtime returns')
        private_log = None
        log_path = log_file or self.log
        if not log_path:
            handle, private_log = tempfile.mkstemp(prefix='runc-log-', suffix='.json')
            os.close(handle)
            log_path = private_log
        log_offset = _size(log_path)
        argv = self.argv(*args, log_file=log_path)
        opened = []
        try:
            stdin = subprocess.PIPE if io.stdin_data is not None else subprocess.DEVNULL
            stdout = _output_target(io.stdout_path, detach, opened)
            stderr = _output_target(io.stderr_path, detach, opened)
            process = self._popen(args[0], argv, stdin, stdout, stderr, extra_files)
            for handle in opened:
                handle.close()
            stdout_data, stderr_data = self._communicate(
                process, argv, _bytes(io.stdin_data), self.timeout)
            log_text = _read_from(log_path, log_offset)
        finally:
            for handle in opened:
                handle.close()
            if private_log:
                os.unlink(private_log)
        stdout_text = None if stdout_data is None else _text(stdout_data)
        stderr_text = None if stderr_data is None else _text(stderr_data)
        if log_error_messages(log_text) or (detach and process.returncode != 0):
            raise self._failure(args[0], argv, process.returncode, stdout_text or '',
                                stderr_text or '', log_text + '\n' + (stderr_text or ''))
        return ProcessResult(process.returncode, stdout_text, stderr_text)

    # -- inventory ----------------------------------------------------------------

    def list(self):
        """All containers under the root, as runc's state dicts."""
        if self.root and not os.path.isdir(self.root):
            # runc would create the folder; a query must not change the host.
            return []
        listed = self._json('list', '--format', 'json') or []
        if not isinstance(listed, list):
            raise self._not_runc('list', 'a list of containers', listed)
        for entry in listed:
            self._check_state(entry, 'list')
        return listed

    def state(self, container_id):
        """The state of one container (id, pid, status, bundle, rootfs, created, annotations)."""
        validate_container_id(container_id)
        return self._check_state(self._json('state', container_id), 'state')

    # What every state runc prints holds, with its type: callers rely on them.
    _STATE_FIELDS = (('id', str), ('pid', int), ('status', str), ('bundle', str), ('created', str))

    def _check_state(self, state, subcommand):
        if not isinstance(state, dict):
            raise self._not_runc(subcommand, 'a container state', state)
        for field, kind in self._STATE_FIELDS:
            if not isinstance(state.get(field), kind) or isinstance(state.get(field), bool):
                raise self._not_runc(subcommand, 'a container state with a %s %s' % (kind.__name__, field), state)
        if not isinstance(state.get('annotations') or {}, dict):
            raise self._not_runc(subcommand, 'a container state whose annotations are a dict', state)
        return state

    def _not_runc(self, subcommand, expected, printed):
        return RuncError('%s %s printed %s, not %s as runc does' % (
            os.path.basename(self.command), subcommand, json.dumps(printed)[:200], expected),
            argv=self.argv(subcommand), exit_status=0)

    # -- lifecycle ------------------------------------------------------------------

    def create(self, container_id, bundle, options=None):
        """Create a container from a bundle; its process waits for start()."""
        validate_container_id(container_id)
        options = options or CreateOptions()
        args = ['create', '--bundle', _absolute(bundle)] + options.args('create') + [container_id]
        self._with_container_io(args, options.io, True, options.extra_files)

    def start(self, container_id):
        validate_container_id(container_id)
        self._capture('start', container_id)

    def run(self, container_id, bundle, options=None):
        """create + start (+ delete unless keep), returning how the process ended.

        Detached runs return exit status 0 once the container is running.
        """
        validate_container_id(container_id)
        options = options or CreateOptions()
        args = ['run', '--bundle', _absolute(bundle)] + options.args('run') + [container_id]
        return self._with_container_io(args, options.io, options.detach, options.extra_files)

    def run_process(self, container_id, bundle, options, log_file):
        """Start ``runc run`` in the foreground and return (process, argv) at once; the caller waits.

        go-runc's Run with its started channel: the caller bounds the job's time and signals the
        container itself. The container's stdout and stderr go to options.io's files, never to
        pipes (a process the container leaves behind would hold them open: runc issue 1721), and
        runc's own messages to log_file.
        """
        validate_container_id(container_id)
        if not options.io.stdout_path or not options.io.stderr_path:
            raise RuncError('run_process needs files for the container\'s stdout and stderr, not pipes')
        argv = self.argv('run', '--bundle', _absolute(bundle), *options.args('run'), container_id, log_file=log_file)
        opened = []
        try:
            stdout = _output_target(options.io.stdout_path, True, opened)
            stderr = _output_target(options.io.stderr_path, True, opened)
            return self._popen('run', argv, subprocess.DEVNULL, stdout, stderr, options.extra_files), argv
        finally:
            for handle in opened:
                handle.close()

    def exec(self, container_id, process, options=None):
        """Run an additional process described by a full OCI process dict."""
        validate_container_id(container_id)
        options = options or ExecOptions()
        handle, process_file = tempfile.mkstemp(prefix='runc-process-', suffix='.json')
        try:
            with os.fdopen(handle, 'w') as process_json:
                json.dump(process, process_json)
            args = ['exec', '--process', process_file] + options.args() + [container_id]
            return self._with_container_io(args, options.io, options.detach, options.extra_files,
                                           log_file=options.log_file)
        finally:
            os.unlink(process_file)

    def delete(self, container_id, options=None):
        validate_container_id(container_id)
        self._capture('delete', *(options or DeleteOptions()).args(), container_id)

    def kill(self, container_id, sig=signal.SIGTERM, options=None):
        """Send a signal (number or name) to the container's init, or to all with all=True."""
        validate_container_id(container_id)
        number = parse_signal(sig)
        self._capture('kill', *(options or KillOptions()).args(), container_id, str(number))

    def pause(self, container_id):
        validate_container_id(container_id)
        self._capture('pause', container_id)

    def resume(self, container_id):
        validate_container_id(container_id)
        self._capture('resume', container_id)

    def update(self, container_id, resources):
        """Apply OCI linux.resources to a live container (``update --resources=-``)."""
        validate_container_id(container_id)
        if not isinstance(resources, dict):
            raise RuncError('resources must be a dict of OCI linux.resources, not %s'
                            % type(resources).__name__)
        self._capture('update', '--resources=-', container_id, input_data=json.dumps(resources))

    # -- processes and statistics ------------------------------------------------------

    def ps(self, container_id):
        """The host pids of every process in the container."""
        validate_container_id(container_id)
        return self._json('ps', '--format', 'json', container_id) or []

    def top(self, container_id, ps_args=None):
        """The container's processes as ps sees them: {'headers': [...], 'processes': [[...]]}.

        ``ps_args`` is a list, or a string split like a command line; nothing
        is passed when it is empty (runc then uses ``ps -ef``).
        """
        validate_container_id(container_id)
        if isinstance(ps_args, str):
            ps_args = shlex.split(ps_args)
        completed = self._capture('ps', '--format', 'table', container_id, *(ps_args or []))
        try:
            return parse_ps_table(completed.stdout)
        except OutputParseError as exc:
            raise RuncError('runc ps: %s' % exc, argv=completed.argv, exit_status=0,
                            stdout=completed.stdout, stderr=completed.stderr)

    def stats(self, container_id):
        """One ``events --stats`` sample: the ``data`` object as runc printed it."""
        validate_container_id(container_id)
        return self._stats_data(container_id, self._capture('events', '--stats', container_id))

    def stats_of(self, container_ids, workers=8):
        """``stats`` of each container, ``workers`` runtimes at a time: {id: data, or the RuncError}."""
        results = {}
        valid_ids = []
        for container_id in container_ids:
            try:
                validate_container_id(container_id)
                valid_ids.append(container_id)
            except RuncError as error:
                results[container_id] = error   # that container's error only; the others are asked
        completed = self._capture_many([('events', '--stats', container_id) for container_id in valid_ids], workers)
        for container_id, outcome in zip(valid_ids, completed):
            try:
                if isinstance(outcome, RuncError):
                    raise outcome
                results[container_id] = self._stats_data(container_id, outcome)
            except RuncError as error:
                results[container_id] = error
        return results

    def _stats_data(self, container_id, completed):
        event = self._parsed(completed, 'events')
        if not isinstance(event, dict) or not isinstance(event.get('data'), dict):
            raise RuncError('runc events --stats printed no stats for %s: %r'
                            % (container_id, event), argv=completed.argv)
        return event['data']

    def events(self, container_id, interval=5.0):
        """Yield events (stats every ``interval`` seconds, OOM notices) until closed.

        Lines that are not JSON arrive as ``{'type': 'error', ...}`` events;
        a runtime that exits with an error raises RuncError after its last
        event. Closing the generator stops the runtime.
        """
        process, argv = self.events_process(container_id, interval, stderr=subprocess.PIPE)
        return self._event_stream(process, argv, container_id)

    def events_process(self, container_id, interval, stderr=subprocess.DEVNULL):
        """Start ``runc events`` and return (process, argv): for a caller that reads its stdout with its own
        deadline (select), where the events() generator would block."""
        validate_container_id(container_id)
        if not interval or interval <= 0:
            raise RuncError('invalid events interval %r: it must be positive' % (interval,))
        # Go durations carry sub-second intervals that whole seconds would lose.
        milliseconds = max(1, int(round(interval * 1000)))
        argv = self.argv('events', '--interval', '%dms' % milliseconds, container_id)
        return self._popen('events', argv, subprocess.DEVNULL, subprocess.PIPE, stderr), argv

    def _event_stream(self, process, argv, container_id):
        finished = False
        try:
            for raw_line in process.stdout:
                line = raw_line.decode('utf-8', 'replace').strip()
                if not line:
                    continue
                try:
                    event = json.loads(line)
                    if not isinstance(event, dict):
                        raise ValueError('an event must be a JSON object')
                except ValueError as exc:
                    event = {'type': 'error', 'id': container_id,
                             'error': 'cannot decode event: %s' % exc, 'raw': line[:1000]}
                yield event
            stderr = _text(process.stderr.read())
            process.wait()
            finished = True
            if process.returncode != 0:
                raise self._failure('events', argv, process.returncode, '', stderr, stderr)
        finally:
            if not finished:
                self._stop(process)
                process.wait()
            process.stdout.close()
            process.stderr.close()

    # -- checkpoint / restore -------------------------------------------------------------

    def checkpoint(self, container_id, options=None):
        """Dump the container with CRIU (``--leave-running`` keeps it running)."""
        validate_container_id(container_id)
        options = options or CheckpointOptions()
        options.validate()
        status_files = []
        if options.status_file:
            status_files.append(os.open(options.status_file, os.O_WRONLY | os.O_CREAT, 0o600))
        elif options.status_fd is not None:
            status_files.append(options.status_fd)
        try:
            self._capture('checkpoint', *options.args(), container_id, extra_files=status_files)
        except RuncError as exc:
            if (options.pre_dump or options.parent_path) and exc.runc_message \
                    and _NO_MEMORY_TRACKING.search(exc.runc_message):
                exc.message = ('%s (pre-dump and parent_path need memory change tracking, which '
                               'this kernel lacks: it is built without CONFIG_MEM_SOFT_DIRTY)'
                               % exc.message)
                exc.args = (exc.message,)
            raise
        finally:
            if options.status_file:
                os.close(status_files[0])

    def restore(self, container_id, bundle, options=None):
        """Restore a container from a checkpoint image; returns a ProcessResult."""
        validate_container_id(container_id)
        options = options or RestoreOptions()
        options.validate()
        args = ['restore'] + options.args() + ['--bundle', _absolute(bundle), container_id]
        return self._with_container_io(args, options.io, options.detach)

    # -- about the runtime ------------------------------------------------------------------

    def spec(self, bundle, rootless=False):
        """Write the runtime's default config.json into the bundle folder (``runc spec``)."""
        self._capture('spec', '--bundle', _absolute(bundle), *(['--rootless'] if rootless else []))

    def version(self):
        """runtime, runc (version), commit, spec and other details of ``--version``."""
        completed = self._capture('--version')
        try:
            return parse_version(completed.stdout)
        except OutputParseError as exc:
            raise RuncError('%s --version: %s' % (self.command, exc), argv=completed.argv,
                            exit_status=0, stdout=completed.stdout, stderr=completed.stderr)

    def features(self):
        """What the runtime implements (``runc features``, runc 1.1 and later)."""
        return self._json('features')

    def _json(self, *args):
        return self._parsed(self._capture(*args), args[0])

    @staticmethod
    def _parsed(completed, subcommand):
        """The JSON a call printed on stdout."""
        try:
            return parse_json_output(completed.stdout, subcommand)
        except OutputParseError as exc:
            raise RuncError(str(exc), argv=completed.argv, exit_status=0,
                            stdout=completed.stdout, stderr=completed.stderr)


def _timed_out(argv, timeout, stdout, stderr):
    return RuncError('%s %s timed out after %s seconds' % (os.path.basename(argv[0]), subcommand_of(argv), timeout),
                     argv=argv, stdout=_text(stdout), stderr=_text(stderr), timed_out=True)


def _output_target(path, detach, opened):
    if path:
        handle = open(path, 'ab')
        opened.append(handle)
        return handle
    return subprocess.DEVNULL if detach else subprocess.PIPE


def _size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _read_from(path, offset):
    try:
        with open(path, 'rb') as log:
            log.seek(offset)
            return _text(log.read())
    except OSError:
        return ''


def _bytes(data):
    if data is None or isinstance(data, bytes):
        return data
    return data.encode('utf-8')


def _text(data):
    if data is None:
        return ''
    if isinstance(data, bytes):
        return data.decode('utf-8', 'replace')
    return data
