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
    if not (hasattr(os, 'posix_spawnp') and hasattr(os, 'pidfd_open') and hasattr(os, 'waitstatus_to_exitcode')):
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
    __slots__ = ('outcome', 'pid', 'open_fds', 'chunks', 'deadline', 'killed')

    def __init__(self, outcome, pid, deadline):
        self.outcome = outcome
        self.pid = pid
        self.open_fds = 0
        self.chunks = {'stdout': [], 'stderr': []}
        self.deadline = deadline
        self.killed = False

    @property
    def done(self):
        return self.open_fds == 0 and self.outcome.exit_status is not None


def _start(argv, env):
    """(pid, (stdout read end, stderr read end, pidfd)); stdin is /dev/null, no other descriptor is passed."""
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    try:
        # Descriptors Python opens are close-on-exec: the command gets 0, 1 and 2 only.
        pid = os.posix_spawnp(argv[0], argv, env, file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, out_write, 1),
            (os.POSIX_SPAWN_DUP2, err_write, 2)])
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
        _kill(pid)
        os.waitpid(pid, 0)
        os.close(out_read)
        os.close(err_read)
        raise
    return pid, (out_read, err_read, pidfd)


def run_many(argvs, env, workers, timeout=None):
    """Run each argv, at most ``workers`` at a time; their Outcomes, in the order of argvs.

    A command past ``timeout`` seconds is killed (timed_out); whatever happens,
    no command is left running or unreaped when this returns or raises.
    """
    outcomes = [Outcome(list(argv)) for argv in argvs]
    waiting = collections.deque(outcomes)
    running = []
    selector = selectors.DefaultSelector()
    try:
        while waiting or running:
            while waiting and len(running) < workers:
                outcome = waiting.popleft()
                try:
                    pid, fds = _start(outcome.argv, env)
                except OSError as error:
                    outcome.start_error = error
                    continue
                entry = _Running(outcome, pid, None if timeout is None else time.monotonic() + timeout)
                running.append(entry)
                for fd, stream in zip(fds, ('stdout', 'stderr', None)):
                    selector.register(fd, selectors.EVENT_READ, (entry, stream))
                entry.open_fds = len(fds)
            if not running:
                continue   # every command left could not be started
            for key, dummy in selector.select(_wait_time(running)):
                _serve(selector, key)
            now = time.monotonic()
            for entry in running:
                if entry.deadline is not None and now >= entry.deadline:
                    _expire(selector, entry, now)
            for entry in [entry for entry in running if entry.done]:
                running.remove(entry)
                entry.outcome.stdout = b''.join(entry.chunks['stdout'])
                entry.outcome.stderr = b''.join(entry.chunks['stderr'])
    finally:
        for entry in running:
            _kill(entry.pid)
        for key in list(selector.get_map().values()):
            entry, stream = key.data
            if stream is None and entry.outcome.exit_status is None:
                os.waitpid(entry.pid, 0)
            selector.unregister(key.fd)
            os.close(key.fd)
        selector.close()
    return outcomes


def _wait_time(running):
    deadlines = [entry.deadline for entry in running if entry.deadline is not None]
    return max(0.0, min(deadlines) - time.monotonic()) if deadlines else None


def _serve(selector, key):
    """Read what a pipe holds, or reap a command whose pidfd says it exited."""
    entry, stream = key.data
    if stream is None:
        dummy, status = os.waitpid(entry.pid, 0)
        entry.outcome.exit_status = os.waitstatus_to_exitcode(status)
        data = b''
    else:
        data = os.read(key.fd, 65536)
        entry.chunks[stream].append(data)
    if not data:
        selector.unregister(key.fd)
        os.close(key.fd)
        entry.open_fds -= 1


def _expire(selector, entry, now):
    """Kill a command past its timeout; past the grace after that, give up on its pipes."""
    if not entry.killed:
        entry.killed = True
        entry.outcome.timed_out = True
        _kill(entry.pid)
        entry.deadline = now + _GRACE
        return
    entry.deadline = None
    for key in list(selector.get_map().values()):
        if key.data[0] is entry and key.data[1] is not None:
            selector.unregister(key.fd)
            os.close(key.fd)
            entry.open_fds -= 1


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
