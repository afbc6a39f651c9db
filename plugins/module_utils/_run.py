# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""runc_run's logic: a container run to completion, a job (go-runc's Run), with runc_container's config."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid

from ansible_collections.oci_runtime.runc.plugins.module_utils._container import ContainerManager
from ansible_collections.oci_runtime.runc.plugins.module_utils._containers import ItemModule
from ansible_collections.oci_runtime.runc.plugins.module_utils._lifecycle import (
    KILL_GRACE_SECONDS,
    current_state,
    state_facts,
    stop,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils._option import CONTAINER, RUN
from ansible_collections.oci_runtime.runc.plugins.module_utils._options import flag_values, rows, writes_config
from ansible_collections.oci_runtime.runc.plugins.module_utils._runc_output import log_error_messages
from ansible_collections.oci_runtime.runc.plugins.module_utils._task import TaskError
from ansible_collections.oci_runtime.runc.plugins.module_utils.runc import (
    CreateOptions,
    DeleteOptions,
    ProcessIO,
    RuncError,
    signal_name,
    subcommand_of,
)


def guard(params):
    """Why the job is skipped (creates exists, removes does not), as ansible.builtin.command says it; or None.

    Both are glob patterns, as the command module's are.
    """
    if params['creates'] and glob.glob(params['creates']):
        return 'skipped, since %s exists' % params['creates']
    if params['removes'] and not glob.glob(params['removes']):
        return 'skipped, since %s does not exist' % params['removes']
    return None


def container_params(params, container_id):
    """The job as a runc_container task: its config options, the rest at runc_container's defaults."""
    composed = {row.name: row.spec.get('default') for row in rows(CONTAINER)}
    composed.update((name, value) for name, value in params.items() if name in composed)
    composed.update(name=container_id, state='present', restart='no')
    return composed


class JobManager(ContainerManager):
    """Composes the job's config.json as runc_container would, then runs the container to its end."""

    def __init__(self, module):
        self.job_params = module.params
        container_id = module.params['name'] or 'run-%s' % uuid.uuid4().hex[:12]
        # runc_container's view of the task; its warnings are the module's to show.
        self.item_module = ItemModule(module, container_params(module.params, container_id))
        super().__init__(self.item_module)

    def failing_option(self, error):
        return 'bundle' if subcommand_of(error.argv or []) == 'run' else super().failing_option(error)

    def validate(self):
        super().validate()
        if self.current_state() is not None:
            raise TaskError('name: container %s exists in %s already; runc_run runs a container of its own and '
                            'never deletes one it did not make: give another name, or none'
                            % (self.container_id, self.root))

    def creates_lock(self):
        return not self.check_mode

    def manage(self):
        if current_state(self.runc, self.container_id) is not None:
            # Again under the lock: a task that held it first may have made a container of that id.
            raise TaskError('name: container %s exists in %s already; runc_run runs a container of its own and '
                            'never deletes one it did not make: give another name, or none'
                            % (self.container_id, self.root))
        if self.check_mode:
            return dict(changed=False, skipped=True, name=self.container_id, actions=[],
                        msg='the job would run (check mode runs nothing)')
        if writes_config(self.params):
            self.write_config(self.desired)
        return self.run_job()

    def finish(self, lock):
        if self.check_mode:
            return
        self.default_spec.store()
        # The container is gone (or kept stopped, for runc_info): its lock file goes either way.
        lock.release(remove=True)

    def run_job(self):
        params = self.job_params
        folder = tempfile.mkdtemp(prefix='runc-run-')   # 0700: the output may hold what is not for others
        self.made = False
        try:
            io = ProcessIO(stdout_path=os.path.join(folder, 'stdout'), stderr_path=os.path.join(folder, 'stderr'))
            # runc writes the pid file only once it made the container: the proof that the container is this
            # job's, and never one that took the id first (runc run then fails, and nothing is deleted).
            pid_file = os.path.join(folder, 'pid')
            options = CreateOptions(io=io, keep=params['keep'], pid_file=pid_file, **flag_values(RUN, 'run', params))
            log_file = os.path.join(folder, 'runtime.log')
            started = time.monotonic()
            process, argv = self.runc.run_process(self.container_id, self.bundle, options, log_file)
            try:
                stopped = self.wait(process, pid_file)
            finally:
                self.made = os.path.exists(pid_file)
            duration = time.monotonic() - started
            with open(log_file, 'rb') as stream:
                runtime_errors = log_error_messages(stream.read().decode('utf-8', 'replace'))
            outputs = {}
            for stream_name in ('stdout', 'stderr'):
                with open(os.path.join(folder, stream_name), 'rb') as stream:
                    outputs[stream_name] = stream.read().decode('utf-8', 'replace')
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            self.remove_unless_kept()
        # 128 + the signal, as a shell says it, for a runc that had to be killed itself.
        rc = process.returncode if process.returncode >= 0 else 128 - process.returncode
        result = dict(changed=True, name=self.container_id, rc=rc, duration=round(duration, 3),
                      stdout=outputs['stdout'], stderr=outputs['stderr'],
                      stdout_lines=outputs['stdout'].splitlines(), stderr_lines=outputs['stderr'].splitlines(),
                      timed_out=stopped is not None, kept=bool(params['keep']), actions=self.actions(),
                      container=None)
        if params['keep']:
            result['container'] = state_facts(current_state(self.runc, self.container_id))
        if runtime_errors and stopped is None:
            raise RuncError('%s failed: %s' % (os.path.basename(self.runc.command), '; '.join(runtime_errors)),
                            argv=argv, exit_status=process.returncode, stdout=outputs['stdout'],
                            stderr=outputs['stderr'], runc_message='; '.join(runtime_errors))
        if stopped is not None:
            result.update(failed=True, msg='timeout: the job ran longer than %s seconds; %s'
                          % (params['timeout'], stopped))
        elif rc != 0 and params['check_rc']:
            result.update(failed=True, msg='non-zero return code %d' % rc)
        return result

    def wait(self, process, pid_file):
        """Wait for runc run to end; past the timeout, stop the job. None, or what stopping it took."""
        timeout = self.job_params['timeout'] or None
        try:
            process.wait(timeout=timeout)
            return None
        except subprocess.TimeoutExpired:
            return self.stop_job(process, pid_file)
        except BaseException:
            # Interrupted: the container goes with the task, never left running unseen.
            self.stop_job(process, pid_file)
            raise

    def stop_job(self, process, pid_file):
        """kill_signal, stop_timeout, then SIGKILL to every process of the container; runc run then ends.

        A container still being made is waited for first (a signal would find nothing to stop).
        """
        params = self.job_params
        deadline = time.monotonic() + KILL_GRACE_SECONDS
        while process.poll() is None and not os.path.exists(pid_file) and time.monotonic() < deadline:
            time.sleep(0.05)
        how = 'runc was killed before it made the container'
        if process.poll() is None and os.path.exists(pid_file):
            stop(self.runc, self.container_id, self.kill_signal, params['stop_timeout'], kill_all=True)
            how = 'its container was stopped (%s, then SIGKILL after %s seconds)' % (
                signal_name(self.kill_signal) or 'signal %d' % self.kill_signal, params['stop_timeout'])
        try:
            process.wait(timeout=KILL_GRACE_SECONDS + params['stop_timeout'])
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        return how + ('' if params['keep'] else ' and deleted')

    def remove_unless_kept(self):
        """Without keep, no container of this job is left: runc run deletes it, and what it left is deleted
        here; a container of that id this job did not make (no pid file of its own) is never touched."""
        if self.job_params['keep'] or not getattr(self, 'made', False):
            return
        state = current_state(self.runc, self.container_id)
        if state is not None:
            self.runc.delete(self.container_id, DeleteOptions(force=True))
