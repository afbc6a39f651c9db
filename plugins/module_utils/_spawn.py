# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Many short commands at a time, from one thread: the runc client's queries of many containers.

A thread per query spends more of the host's CPU on Python than the runtime
spends answering (runc_info's stats of hundreds of containers): here one
thread starts each command with posix_spawn and waits on its pipes and its
pidfd together, so the runtimes run at their own pace.
"""

from __future__ import annotations

import collections
import fcntl
import functools
import os
import selectors
import signal
import time

# Once the runtime was killed for its timeout: how long its pipes may still take to close
# (a child of it may hold them), as the client's single calls wait.
_GRACE = 1.0


@functools.lru_cache(maxsize=1)
def available():
    """posix_spawn and pidfds (Python 3.9, Linux 5.3): without them the caller uses threads."""
    if not (hasattr(os, 'posix_spawnp') and hasattr(os, 'pidfd_open') and hasattr(os, 'waitstatus_to_exitcode')
            and hasattr(signal, 'pidfd_send_signal')):
        return False
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:
        return False
    return True


class Outcome:
    """How one command ended: exit_status (negative: the signal), its output, timed_out."""

    __slots__ = ('argv', 'exit_status', 'stdout', 'stderr', 'timed_out', 'start_error')

    def __init__(self, argv):
        self.argv = argv
        self.exit_status = None
        self.stdout = b''
        self.stderr = b''
        self.timed_out = False
        self.start_error = None   # the OSError of a command that could not be started


class _Running:
    """A started command: its pid, pidfd and pipes, what it printed so far, when it must end."""

    __slots__ = ('outcome', 'pid', 'pidfd', 'open_fds', 'chunks', 'deadline', 'killed')

    def __init__(self, outcome, pid, fds, deadline):
        self.outcome = outcome
        self.pid = pid
        self.pidfd = fds[2]
        self.open_fds = set(fds)
        self.chunks = {'stdout': [], 'stderr': []}
        self.deadline = deadline
        self.killed = False

    @property
    def reaped(self):
        return self.outcome.exit_status is not None

    @property
    def done(self):
        return not self.open_fds and self.reaped

    def close(self, selector, fd):
        if fd in self.open_fds:
            self.open_fds.discard(fd)
            try:
                selector.unregister(fd)
            except KeyError:
                pass
            os.close(fd)

    def kill(self):
        """SIGKILL through the pidfd: never a pid the kernel may have given to another process since."""
        if not self.reaped and self.pidfd in self.open_fds:
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            except OSError:
                pass

    def reap(self):
        try:
            dummy, status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            status = None
        self.outcome.exit_status = os.waitstatus_to_exitcode(status) if status is not None else -signal.SIGKILL


def _inheritable_fds():
    """Descriptors above 2 without close-on-exec (ones this process inherited, say): closed in every command,
    as subprocess's close_fds does."""
    found = []
    for name in os.listdir('/proc/self/fd'):
        fd = int(name)
        if fd <= 2:
            continue
        try:
            if not fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC:
                found.append(fd)
        except OSError:
            pass   # the listing's own descriptor, closed since
    return found


def _start(argv, env, inheritable=()):
    """(pid, (stdout read end, stderr read end, pidfd)); stdin is /dev/null, no other descriptor is passed."""
    out_read, out_write = os.pipe()
    try:
        err_read, err_write = os.pipe()
    except BaseException:
        os.close(out_read)
        os.close(out_write)
        raise
    try:
        # Descriptors Python opens are close-on-exec, the others are closed: the command gets 0, 1 and 2 only.
        pid = os.posix_spawnp(argv[0], argv, env, file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, out_write, 1),
            (os.POSIX_SPAWN_DUP2, err_write, 2)] + [(os.POSIX_SPAWN_CLOSE, fd) for fd in inheritable])
    except BaseException:
        os.close(out_read)
        os.close(err_read)
        raise
    finally:
        os.close(out_write)
        os.close(err_write)
    try:
        pidfd = os.pidfd_open(pid)
    except BaseException:
        # Out of descriptors, say: the command must not run on unwatched.
        os.kill(pid, signal.SIGKILL)   # not reaped yet: the pid is still this child's
        os.waitpid(pid, 0)
        os.close(out_read)
        os.close(err_read)
        raise
    return pid, (out_read, err_read, pidfd)


def run_many(argvs, env, workers, timeout=None):
    """Run each argv, at most ``workers`` at a time; their Outcomes, in the order of argvs.

    A command past ``timeout`` seconds is killed (timed_out). One that exited but
    whose pipes another process still holds is given up on at its deadline with
    what it printed. Whatever happens, no command is left running or unreaped and
    no descriptor is left open when this returns or raises.
    """
    outcomes = [Outcome(list(argv)) for argv in argvs]
    inheritable = _inheritable_fds()
    waiting = collections.deque(outcomes)
    running = []
    selector = selectors.DefaultSelector()
    try:
        while waiting or running:
            while waiting and len(running) < workers:
                outcome = waiting.popleft()
                try:
                    pid, fds = _start(outcome.argv, env, inheritable)
                except OSError as error:
                    outcome.start_error = error
                    continue
                entry = _Running(outcome, pid, fds, None if timeout is None else time.monotonic() + timeout)
                running.append(entry)
                for fd, stream in zip(fds, ('stdout', 'stderr', None)):
                    selector.register(fd, selectors.EVENT_READ, (entry, stream))
            if not running:
                continue   # every command left could not be started
            for key, dummy in selector.select(_wait_time(running)):
                _serve(selector, key)
            for entry in [entry for entry in running if entry.done]:
                _finish(running, entry)
            now = time.monotonic()
            for entry in [entry for entry in running if entry.deadline is not None and now >= entry.deadline]:
                _expire(selector, entry, now)
                if entry.done:
                    _finish(running, entry)
    finally:
        for entry in running:
            entry.kill()
        for entry in running:
            try:
                if not entry.reaped:
                    entry.reap()
            finally:
                for fd in list(entry.open_fds):
                    entry.close(selector, fd)
        selector.close()
    return outcomes


def _finish(running, entry):
    running.remove(entry)
    entry.outcome.stdout = b''.join(entry.chunks['stdout'])
    entry.outcome.stderr = b''.join(entry.chunks['stderr'])


def _wait_time(running):
    deadlines = [entry.deadline for entry in running if entry.deadline is not None]
    return max(0.0, min(deadlines) - time.monotonic()) if deadlines else None


def _serve(selector, key):
    """Read what a pipe holds, or reap a command whose pidfd says it exited."""
    entry, stream = key.data
    if stream is None:
        entry.reap()
        entry.close(selector, key.fd)
        return
    data = os.read(key.fd, 65536)
    if data:
        entry.chunks[stream].append(data)
    else:
        entry.close(selector, key.fd)


def _expire(selector, entry, now):
    """At the deadline: kill a command still running; past the grace after that, or once it
    exited, give up on its pipes (a process it left may hold them)."""
    if not entry.reaped and not entry.killed:
        entry.killed = True
        entry.outcome.timed_out = True
        entry.kill()
        entry.deadline = now + _GRACE
        return
    entry.deadline = None
    for fd in list(entry.open_fds):
        if fd != entry.pidfd:
            entry.close(selector, fd)
