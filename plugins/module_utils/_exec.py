# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""runc_exec's logic: build the OCI process from the container's own, run it, report it."""

from __future__ import annotations

import copy
import json
import os
import re
import signal
import tempfile

from ansible_collections.oci_runtime.runc.plugins.module_utils._container_config import ConfigError, merge_env
from ansible_collections.oci_runtime.runc.plugins.module_utils._lifecycle import current_state
from ansible_collections.oci_runtime.runc.plugins.module_utils._runtime_options import (
    error_result,
    runc_from_params,
    runtime_argument_spec,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils._task import TaskError, checked_id
from ansible_collections.oci_runtime.runc.plugins.module_utils.runc import (
    ExecOptions,
    ProcessIO,
    RuncError,
    read_pid_file,
)

CAPABILITY = re.compile(r'^CAP_[A-Z0-9_]+$')
CAPABILITY_SETS = ('bounding', 'effective', 'permitted', 'ambient')
# What runc exec itself falls back to for a container whose config cannot be read.
FALLBACK_PROCESS = {
    'terminal': False, 'cwd': '/', 'user': {'uid': 0, 'gid': 0},
    'env': ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
}


def argument_spec():
    return runtime_argument_spec(
        name=dict(type='str', required=True, aliases=['id']),
        argv=dict(type='list', elements='str', required=True),
        env=dict(type='dict'),
        cwd=dict(type='str'),
        user=dict(type='dict', options=dict(uid=dict(type='int', required=True),
                                            gid=dict(type='int', default=0))),
        additional_gids=dict(type='list', elements='int'),
        capabilities=dict(type='list', elements='str'),
        no_new_privileges=dict(type='bool'),
        stdin=dict(type='str'),
        timeout=dict(type='float', default=0.0),
        detach=dict(type='bool', default=False),
        check_rc=dict(type='bool', default=True),
        strip_empty_ends=dict(type='bool', default=True),
    )


class ExecError(Exception):
    """Bad input; the message names the option."""


def container_process(bundle):
    """The process section of the container's config.json, or runc's fallback."""
    try:
        with open(os.path.join(bundle, 'config.json')) as stream:
            process = json.load(stream).get('process')
    except (OSError, ValueError, AttributeError):
        process = None
    return copy.deepcopy(process) if isinstance(process, dict) else copy.deepcopy(FALLBACK_PROCESS)


def build_process(base, params):
    """The OCI process to exec: the container's, with the task's options on top."""
    process = copy.deepcopy(base)
    process['args'] = list(params['argv'])
    process['terminal'] = False
    if params['env']:
        try:
            process['env'] = merge_env(process.get('env'), params['env'])
        except ConfigError as error:
            raise ExecError(str(error))
    if params['cwd']:
        if not params['cwd'].startswith('/'):
            raise ExecError('cwd: %r must be an absolute path inside the container' % params['cwd'])
        process['cwd'] = params['cwd']
    if params['user']:
        process['user'] = dict(process.get('user') or {}, uid=params['user']['uid'],
                               gid=params['user']['gid'])
    if params['additional_gids'] is not None:
        process.setdefault('user', {'uid': 0, 'gid': 0})['additionalGids'] = list(params['additional_gids'])
    if params['capabilities']:
        capabilities = process.setdefault('capabilities', {})
        for name in params['capabilities']:
            capability = name.upper() if name.upper().startswith('CAP_') else 'CAP_' + name.upper()
            if not CAPABILITY.match(capability):
                raise ExecError('capabilities: %r is not a capability name' % name)
            for capability_set in CAPABILITY_SETS:
                members = capabilities.setdefault(capability_set, [])
                if capability not in members:
                    members.append(capability)
    if params['no_new_privileges'] is not None:
        process['noNewPrivileges'] = params['no_new_privileges']
    return process


class ExecRunner:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.runc = runc_from_params(self.params)

    def fail(self, msg, **extra):
        self.module.fail_json(msg=msg, cmd=self.cmd(), **extra)

    def cmd(self):
        return self.runc.commands_run[-1] if self.runc.commands_run else []

    def run(self):
        params = self.params
        container_id = params['name']
        try:
            checked_id(container_id)
        except TaskError as error:
            self.fail(str(error))
        if not params['argv']:
            self.fail('argv: the command line must not be empty')
        if params['timeout'] < 0:
            self.fail('timeout: must not be negative')
        if params['detach'] and params['stdin'] is not None:
            self.fail('stdin: a detached process cannot be given input')
        try:
            state = current_state(self.runc, container_id)
        except RuncError as error:
            self.fail(str(error), **error_result(error))
        if state is None:
            self.fail('name: container %s does not exist' % container_id)
        if state['status'] != 'running':
            self.fail('name: container %s is %s, not running' % (container_id, state['status']))
        try:
            process = build_process(container_process(state['bundle']), params)
        except ExecError as error:
            self.fail(str(error))

        # The process gets the task's time limit, not the runtime's.
        self.runc.timeout = params['timeout'] or None
        private = tempfile.mkdtemp(prefix='runc-exec-')
        pid_file = os.path.join(private, 'pid')
        try:
            outcome = self.runc.exec(container_id, process, ExecOptions(
                pid_file=pid_file, detach=params['detach'], io=ProcessIO(stdin_data=params['stdin'])))
            pid = read_pid_file(pid_file) if params['detach'] else None
        except RuncError as error:
            if error.timed_out:
                self.fail('timeout: the process ran longer than %s seconds and was killed%s'
                          % (params['timeout'], self.kill_left_over(pid_file)), **error_result(error))
            self.fail(str(error), **error_result(error))
        finally:
            for leftover in os.listdir(private):
                os.unlink(os.path.join(private, leftover))
            os.rmdir(private)

        stdout, stderr = outcome.stdout or '', outcome.stderr or ''
        if params['strip_empty_ends']:
            stdout, stderr = stdout.rstrip('\r\n'), stderr.rstrip('\r\n')
        result = dict(changed=True, cmd=self.cmd(), rc=outcome.exit_status, stdout=stdout, stderr=stderr)
        result['stdout_lines'] = result['stdout'].splitlines()
        result['stderr_lines'] = result['stderr'].splitlines()
        if pid is not None:
            result['pid'] = pid
        if params['check_rc'] and outcome.exit_status != 0:
            self.module.fail_json(msg='the process exited with status %d' % outcome.exit_status, **result)
        # Ansible takes a non-zero rc for failure unless told otherwise.
        self.module.exit_json(failed=False, **result)

    @staticmethod
    def kill_left_over(pid_file):
        """The runtime was killed; its process may live on inside the container."""
        try:
            pid = read_pid_file(pid_file)
            os.kill(pid, signal.SIGKILL)
        except (RuncError, OSError):
            return ''
        return ' (pid %d)' % pid
