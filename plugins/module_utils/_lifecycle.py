# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Container lifecycle steps built from several runtime calls."""

from __future__ import annotations

import os
import signal
import time

from ansible_collections.oci_runtime.runc.plugins.module_utils.runc import KillOptions, RuncError

# Statuses of a container whose process exists (frozen or not).
ALIVE = ('running', 'paused')
# After SIGKILL, how long to wait for the runtime to report the container stopped.
KILL_GRACE_SECONDS = 10.0


def current_state(runc, container_id):
    """``runc state`` of the container, or None when it does not exist."""
    if runc.root and not os.path.isdir(runc.root):
        # No container without a root, and runc would create the folder.
        return None
    try:
        return runc.state(container_id)
    except RuncError as error:
        if error.container_missing:
            return None
        raise


def state_facts(state):
    """What a module returns about a container in a few words (None when it does not exist)."""
    return None if state is None else {key: state.get(key) for key in ('id', 'pid', 'status', 'bundle', 'created')}


def wait_for_status(runc, container_id, statuses, timeout):
    """Poll until the container's status is one of statuses; returns its state (None if gone)."""
    deadline = time.monotonic() + timeout
    while True:
        state = current_state(runc, container_id)
        if state is None or state['status'] in statuses:
            return state
        if time.monotonic() >= deadline:
            return state
        time.sleep(0.05)


def _signal(runc, container_id, sig, kill_all):
    try:
        runc.kill(container_id, sig, KillOptions(all=kill_all))
    except RuncError as error:
        # The process may have exited between our look and the signal.
        state = current_state(runc, container_id)
        if state is not None and state['status'] != 'stopped':
            raise error


def stop(runc, container_id, kill_signal=signal.SIGTERM, timeout=10.0, kill_all=False):
    """Stop the container's process: kill_signal, up to timeout seconds, then SIGKILL.

    A paused container is resumed first: frozen processes cannot act on a
    signal (on cgroup v1 not even on SIGKILL) until they are thawed.
    Raises RuncError if the container is still not stopped after SIGKILL.
    """
    state = current_state(runc, container_id)
    if state is None or state['status'] == 'stopped':
        return state
    if state['status'] == 'paused':
        runc.resume(container_id)
    _signal(runc, container_id, kill_signal, kill_all)
    state = wait_for_status(runc, container_id, ('stopped',), timeout)
    if state is not None and state['status'] != 'stopped':
        _signal(runc, container_id, signal.SIGKILL, kill_all)
        state = wait_for_status(runc, container_id, ('stopped',), KILL_GRACE_SECONDS)
    if state is not None and state['status'] != 'stopped':
        raise RuncError('container %s is still %s %s seconds after SIGKILL'
                        % (container_id, state['status'], KILL_GRACE_SECONDS))
    return state
