# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""runc_wait's logic: until a container's condition holds (go-runc's Events, as a playbook's "wait until")."""

from __future__ import annotations

import json
import os
import select
import time

from ansible_collections.oci_runtime.runc.plugins.module_utils._config_merge import ConfigError
from ansible_collections.oci_runtime.runc.plugins.module_utils._lifecycle import current_state, state_facts
from ansible_collections.oci_runtime.runc.plugins.module_utils._options_resources import parse_size
from ansible_collections.oci_runtime.runc.plugins.module_utils._task import TaskError, checked_id
from ansible_collections.oci_runtime.runc.plugins.module_utils.runc import RuncError

CONDITIONS = ('status', 'oom', 'memory_above', 'pids_above')
# How often runc state is read while waiting for a status, at most (a status change is cheap to see).
STATUS_POLL_SECONDS = 0.1


class Waiter:
    """Waits for one condition of one container; read only, so check mode runs it too."""

    def __init__(self, runc, params):
        self.runc = runc
        self.params = params
        self.container_id = params['name']
        self.last_state = None
        self.started = time.monotonic()
        self.deadline = self.started + params['timeout']

    def validate(self):
        checked_id(self.container_id)
        # Identity, not equality: pids_above 0 is a condition (0 == False).
        given = [name for name in CONDITIONS if self.params[name] is not None and self.params[name] is not False]
        if len(given) != 1:
            raise TaskError('%s: give exactly one condition to wait for (%s)'
                            % ('/'.join(given) if given else 'status', ', '.join(CONDITIONS)))
        self.condition = given[0]
        if self.condition == 'memory_above':
            try:
                self.threshold = parse_size(self.params['memory_above'], 'memory_above')
            except ConfigError as error:
                raise TaskError(str(error))
        elif self.condition == 'pids_above':
            if self.params['pids_above'] < 0:
                raise TaskError('pids_above: %d is negative' % self.params['pids_above'])
            self.threshold = self.params['pids_above']
        if self.params['interval'] <= 0:
            raise TaskError('interval: %s is not a positive number of seconds' % self.params['interval'])

    def wait(self):
        """The result: what satisfied the condition. Raises TaskError at the timeout or a dead end."""
        self.validate()
        event = getattr(self, 'wait_for_%s' % self.condition)()
        return dict(changed=False, name=self.container_id, condition=self.condition, event=event,
                    state=state_facts(self.last_state), elapsed=round(time.monotonic() - self.started, 3))

    def read_state(self):
        self.last_state = current_state(self.runc, self.container_id)
        return self.last_state

    def status_of(self, state):
        return state['status'] if state else 'absent'

    def timed_out(self, what):
        return TaskError('timeout: %s not seen in %s seconds; the container is %s' % (
            what, self.params['timeout'], self.status_of(self.last_state)))

    def pause(self, seconds):
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(seconds, remaining))
        return True

    # -- the conditions ------------------------------------------------------------------------

    def wait_for_status(self):
        wanted = self.params['status']
        while True:
            state = self.read_state()
            if self.status_of(state) == wanted:
                return state_facts(state) if state else {'id': self.container_id, 'status': 'absent'}
            if not self.pause(min(STATUS_POLL_SECONDS, self.params['interval'])):
                raise self.timed_out('status %s' % wanted)

    def wait_for_stat(self, what, measure):
        """Sample runc events --stats at the interval until measure(stats) is above the threshold."""
        while True:
            state = self.read_state()
            if state is None or state['status'] not in ('running', 'paused', 'created'):
                raise TaskError('name: container %s is %s: it has no statistics, and %s cannot rise any more'
                                % (self.container_id, self.status_of(state), what))
            try:
                stats = self.runc.stats(self.container_id)
            except RuncError as error:
                if self.read_state() is None or self.last_state['status'] == 'stopped':
                    continue   # gone since the state was read: said above, on the next turn
                raise
            value = measure(stats)
            if value is not None and value > self.threshold:
                return dict(stats, value=value, threshold=self.threshold)
            if not self.pause(self.params['interval']):
                raise self.timed_out('%s above %s (last seen: %s)' % (what, self.threshold, value))

    def wait_for_memory_above(self):
        return self.wait_for_stat('memory usage', lambda stats: ((stats.get('memory') or {}).get('usage') or {})
                                  .get('usage'))

    def wait_for_pids_above(self):
        return self.wait_for_stat('the number of processes', lambda stats: (stats.get('pids') or {}).get('current'))

    def wait_for_oom(self):
        """Read runc events until an oom event; between events, the container's status is read too.

        A container that stops without one gets one more interval (at least a second) for the event to
        arrive, then the wait fails: an OOM kill announces itself before the container ends.
        """
        state = self.read_state()
        if state is None or state['status'] == 'stopped':
            raise TaskError('name: container %s is %s: no OOM event can come any more'
                            % (self.container_id, self.status_of(state)))
        process, _argv = self.runc.events_process(self.container_id, self.params['interval'])
        pending = b''
        grace_until = None
        try:
            while True:
                now = time.monotonic()
                if now >= self.deadline:
                    raise self.timed_out('an OOM event')
                readable, _w, _x = select.select([process.stdout], [], [],
                                                 min(self.params['interval'], self.deadline - now))
                if readable:
                    chunk = os.read(process.stdout.fileno(), 65536)
                    pending += chunk
                    *lines, pending = pending.split(b'\n')
                    for event in filter(None, map(oom_event, lines)):
                        return event
                    if not chunk:
                        # runc events ended: the container is gone; what it printed last was read above.
                        self.read_state()
                        raise self.ended_without_oom()
                # Between events and after each: a container that stopped may send none any more.
                if grace_until is None:
                    state = self.read_state()
                    if state is None or state['status'] == 'stopped':
                        grace_until = time.monotonic() + max(1.0, self.params['interval'])
                elif time.monotonic() >= grace_until:
                    self.read_state()
                    raise self.ended_without_oom()
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
            process.stdout.close()

    def ended_without_oom(self):
        return TaskError('name: container %s ended (%s) with no OOM event seen'
                         % (self.container_id, self.status_of(self.last_state)))


def oom_event(line):
    """The event of a line of runc events when it is an oom one, else None."""
    try:
        event = json.loads(line.decode('utf-8', 'replace'))
    except ValueError:
        return None
    return event if isinstance(event, dict) and event.get('type') == 'oom' else None
