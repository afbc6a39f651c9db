# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""runc_exec's logic: build the OCI process from the container's own, run it, report it."""

from __future__ import annotations

import contextlib
import copy
import math
import os
import shutil
import signal
import tempfile

from ansible_collections.oci_runtime.runc.plugins.module_utils._container_config import (
    ConfigError,
    apply_rows,
    hide_secrets,
    read_config_file,
    secret_env_names,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils._lifecycle import current_state
from ansible_collections.oci_runtime.runc.plugins.module_utils._options import EXEC
from ansible_collections.oci_runtime.runc.plugins.module_utils._options_process import CAPABILITY_SETS
from ansible_collections.oci_runtime.runc.plugins.module_utils._runc_root import NotAnObject, Record
from ansible_collections.oci_runtime.runc.plugins.module_utils._runtime_options import (
    effective_root,
    error_result,
    runc_from_params,
    runtime_fault,
    runtime_option_problem,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils._task import TaskError, checked_id
from ansible_collections.oci_runtime.runc.plugins.module_utils.runc import (
    ExecOptions,
    ProcessIO,
    RuncError,
    read_pid_file,
)


class ExecError(Exception):
    """Bad input, or a container whose process settings cannot be used; the message names the option."""


def old_form_problem(task_args):
    """A message for the forms of options that versions before 0.2.0 took, or None.

    Ansible's own message for a list where a dict is due names no option; the
    action plugin checks the task's arguments with this before the module runs.
    """
    capabilities = task_args.get('capabilities')
    if isinstance(capabilities, (list, tuple)):
        return 'capabilities: give a dict with add and/or drop, for example {add: [NET_ADMIN]}'
    if 'additional_gids' in task_args:
        return 'additional_gids: give user.additional_gids instead, for example user: {additional_gids: [2000]}'
    return None


def container_process(container_id, bundle, recorded=None):
    """The process object the container was made with, which the exec'd process starts from.

    The collection's record of the container (``recorded``, its config) is
    what the container runs with, as runc's own ``exec`` without ``--process``
    uses what it was made with; the bundle's config.json may have been
    changed since. Without a record, config.json. Never a default in their
    place: a default would run as root with every default capability, more
    than the container's own process may have.
    """
    if isinstance(recorded, dict) and isinstance(recorded.get('process'), dict):
        return copy.deepcopy(recorded['process'])
    if not isinstance(bundle, str) or not os.path.isabs(bundle):
        # Never a config.json of the current folder in its place.
        raise ExecError('name: cannot read the process settings of container %s: runc state names %s as its '
                        'bundle, not an absolute path' % (container_id, 'no folder' if not bundle else repr(bundle)))
    path = os.path.join(bundle, 'config.json')
    problem = 'name: cannot read the process settings of container %s from %s: ' % (container_id, path)
    try:
        config = read_config_file(path)
    except OSError as error:
        raise ExecError(problem + (error.strerror or str(error)))
    except NotAnObject:
        raise ExecError(problem + 'it has no process object')
    except ValueError as error:
        raise ExecError(problem + 'not JSON (%s)' % error)
    process = config.get('process')
    if not isinstance(process, dict):
        raise ExecError(problem + 'it has no process object')
    return copy.deepcopy(process)


def container_secrets(state, process):
    """Values of the container's own secret_env variables: the process may print them, the result must not."""
    names = secret_env_names({'annotations': state.get('annotations')})
    entries = process.get('env') if isinstance(process.get('env'), list) else []
    values = []
    for entry in entries:
        if isinstance(entry, str) and '=' in entry:
            name, value = entry.split('=', 1)
            if value and (names is None or name in names):
                values.append(value)
    return values


def _shape(value):
    """What a JSON value is, in words, for messages."""
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'a boolean'
    if isinstance(value, (int, float)):
        return 'a number'
    if isinstance(value, str):
        return 'a string'
    if isinstance(value, list):
        return 'a list'
    return 'an object'


def process_problem(process, params):
    """What makes the container's process unusable for this exec, in words; None when it is usable.

    Only what build_process reads or changes is checked: the rest goes to
    runc as the container has it, and runc judges it.
    """
    if not isinstance(process, dict):
        return 'the process is %s, not an object' % _shape(process)
    env = process.get('env')
    if env is not None:
        if not isinstance(env, list):
            return 'process.env is %s, not a list of KEY=VALUE strings' % _shape(env)
        for position, entry in enumerate(env):
            if not isinstance(entry, str):
                # Not quoted: the container's environment may hold secrets.
                return 'process.env holds %s at position %d, not a KEY=VALUE string' % (_shape(entry), position)
    for field in ('user', 'capabilities'):
        if field in process and not isinstance(process[field], dict):
            return 'process.%s is %s, not an object' % (field, _shape(process[field]))
    if params['capabilities']:
        for capability_set in CAPABILITY_SETS:
            members = process.get('capabilities', {}).get(capability_set, [])
            if not isinstance(members, list):
                return ('process.capabilities.%s is %s, not a list of capability names, so capabilities cannot '
                        'be added to or dropped from it' % (capability_set, _shape(members)))
            for member in members:
                if not isinstance(member, str):
                    return ('process.capabilities.%s holds %s, not only capability names'
                            % (capability_set, _shape(member)))
    return None


def _no_nul(option, text):
    if '\0' in text:
        raise ExecError('%s: %r holds a NUL character, which no process can receive' % (option, text[:50]))


def _env_names(option, variables):
    for key in variables:
        if not key or '=' in key or '\0' in key:
            raise ExecError('%s: invalid variable name %r' % (option, key[:50]))


def _checked_secret_env(secret_env):
    """secret_env as names and strings; no message ever quotes a value."""
    _env_names('secret_env', secret_env)
    checked = {}
    for key, value in secret_env.items():
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ExecError('secret_env: the value of %s must be a string or a number (quote it)' % key)
        checked[key] = str(value)
        if '\0' in checked[key]:
            raise ExecError('secret_env: the value of %s holds a NUL character' % key)
    return checked


def validate(params):
    """Refuse bad input before anything runs; the message starts with the option."""
    if not params['argv'] or not params['argv'][0]:
        raise ExecError('argv: the command line must not be empty')
    for arg in params['argv']:
        _no_nul('argv', arg)
    if params['env']:
        _env_names('env', params['env'])
        for value in params['env'].values():
            _no_nul('env', str(value))
    if params['secret_env']:
        _checked_secret_env(params['secret_env'])
        both = sorted(set(params['env'] or {}) & set(params['secret_env']))
        if both:
            raise ExecError('secret_env: %s also in env; give each variable once' % ', '.join(both))
    if params['cwd'] is not None:
        _no_nul('cwd', params['cwd'])
        if not params['cwd'].startswith('/'):
            raise ExecError('cwd: %r must be an absolute path inside the container' % params['cwd'])
    if (params['user'] or {}).get('umask') is not None:
        # runc exec (1.1) sets no umask for the process it starts, whatever the process description says.
        raise ExecError("user.umask: runc exec applies no umask to the process; set it in the command "
                        "(sh -c 'umask 027; ...')")
    # The rows over an empty process: ids and capability names are checked before runc state runs.
    # No name is resolved here (no rootfs yet); build_process resolves it from the container's.
    apply_options({'process': {}}, params, rootfs=None)
    if params['stdin'] is not None and params['detach']:
        raise ExecError('stdin: a detached process cannot be given input')
    if math.isnan(params['timeout']) or params['timeout'] < 0 or math.isinf(params['timeout']):
        raise ExecError('timeout: %s is not a number of seconds; give 0 to wait as long as it takes'
                        % params['timeout'])


def apply_options(config, params, rootfs):
    """Lay the task's options over config ({'process': ...}) through runc_exec's config rows, in table order.

    The rows are runc_container's: env, then secret_env (so that a secret wins
    over the container's entry of that name), cwd, user, capabilities,
    no_new_privileges. ``rootfs`` is where user names resolve; None resolves none.
    """
    secrets = [str(value) for value in (params.get('secret_env') or {}).values()]
    try:
        apply_rows(config, params, EXEC, {'params': params, 'bundle': None, 'rootfs': rootfs})
    except ConfigError as error:
        # No message of the rows quotes a value of secret_env; this does not rely on it.
        raise ExecError(hide_secrets(str(error), secrets))
    return config


def build_process(base, params, rootfs=None):
    """The OCI process to exec: the container's, with the task's options on top.

    Only what the task asks for changes; user, capabilities, noNewPrivileges,
    rlimits, AppArmor profile and SELinux label stay the container's.
    ``rootfs`` is the container's root folder on the host (runc state's
    rootfs), where O(user.name) resolves.
    """
    problem = process_problem(base, params)
    if problem:
        raise ExecError('name: the process settings in the config.json of container %s are unusable: %s'
                        % (params.get('name'), problem))
    if (params.get('user') or {}).get('name') and not (isinstance(rootfs, str) and os.path.isabs(rootfs)):
        # Never a name resolved to root in its place.
        raise ExecError('user.name: cannot resolve %r: runc state names no absolute rootfs for container %s'
                        % (params['user']['name'], params.get('name')))
    process = apply_options({'process': copy.deepcopy(base)}, params, rootfs)['process']
    process['args'] = list(params['argv'])
    process['terminal'] = False
    process.pop('consoleSize', None)
    return process


@contextlib.contextmanager
def temporary_files_in(folder):
    """Make the client's temporary files (the process JSON, its private log) in folder.

    The process JSON holds secret_env's values: it belongs in a folder only
    root can enter, not in the shared temporary folder.
    """
    previous = tempfile.tempdir
    tempfile.tempdir = folder
    try:
        yield
    finally:
        tempfile.tempdir = previous


class ExecRunner:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.runc = None
        self.secrets = [str(value) for value in (self.params['secret_env'] or {}).values()]

    def fail(self, msg, **extra):
        self.module.fail_json(**hide_secrets(dict(extra, msg=msg, cmd=self.cmd()), self.secrets))

    def cmd(self):
        return self.runc.commands_run[-1] if self.runc and self.runc.commands_run else []

    def run(self):
        params = self.params
        container_id = params['name']
        problem = runtime_option_problem(params)
        if problem:
            self.fail(problem)
        try:
            checked_id(container_id)
            validate(params)
        except (TaskError, ExecError) as error:
            self.fail(str(error))
        self.runc = runc_from_params(params)
        try:
            state = current_state(self.runc, container_id)
        except RuncError as error:
            self.fail(runtime_fault(error, 'name'), **error_result(error))
        if state is None:
            self.fail('name: container %s does not exist' % container_id)
        if not isinstance(state, dict) or not isinstance(state.get('status'), str) \
                or not isinstance(state.get('bundle'), str):
            self.fail('runtime_path: %s state %s printed no status and bundle: %r'
                      % (params['runtime_path'], container_id, state))
        if state['status'] != 'running':
            self.fail('name: container %s is %s, not running' % (container_id, state['status']))
        try:
            record = Record(effective_root(params), container_id).load(state['created']) or {}
            base = container_process(container_id, state['bundle'], record.get('config'))
            self.secrets += container_secrets(state, base)
            process = build_process(base, params, state.get('rootfs'))
        except ExecError as error:
            self.fail(str(error))
        self.module.exit_json(**hide_secrets(self.exec(container_id, process), self.secrets))

    def exec(self, container_id, process):
        """Run the process; the result to return, or a failure."""
        params = self.params
        # The process gets the task's time limit, not the runtime's.
        self.runc.timeout = params['timeout'] or None
        try:
            private = tempfile.mkdtemp(prefix='runc-exec-')
        except OSError as error:
            self.fail('name: cannot make a private folder to run a process in container %s: %s'
                      % (container_id, error.strerror or error))
        pid_file = os.path.join(private, 'pid')
        pid = None
        try:
            with temporary_files_in(private):
                outcome = self.runc.exec(container_id, process, ExecOptions(
                    pid_file=pid_file, detach=params['detach'], io=ProcessIO(stdin_data=params['stdin'])))
            if params['detach']:
                pid = read_pid_file(pid_file)
        except RuncError as error:
            if error.timed_out:
                self.fail('timeout: the process ran longer than %s seconds and was killed%s'
                          % (params['timeout'], self.kill_left_over(pid_file)), **error_result(error))
            if error.argv is None or error.exit_status is None:
                self.fail(runtime_fault(error, 'argv'), **error_result(error))
            self.fail('argv: cannot run the process in container %s: %s' % (container_id, error),
                      **error_result(error))
        except OSError as error:
            self.fail('name: cannot run a process in container %s: %s' % (container_id, error.strerror or error))
        finally:
            shutil.rmtree(private, ignore_errors=True)

        stdout, stderr = outcome.stdout or '', outcome.stderr or ''
        if params['strip_empty_ends']:
            stdout, stderr = stdout.rstrip('\r\n'), stderr.rstrip('\r\n')
        result = dict(changed=True, cmd=self.cmd(), rc=outcome.exit_status, stdout=stdout, stderr=stderr)
        result['stdout_lines'] = result['stdout'].splitlines()
        result['stderr_lines'] = result['stderr'].splitlines()
        if pid is not None:
            result['pid'] = pid
        if params['check_rc'] and outcome.exit_status != 0:
            self.fail('argv: the process exited with status %d' % outcome.exit_status, **result)
        # Ansible takes a non-zero rc for failure unless told otherwise.
        return dict(result, failed=False)

    @staticmethod
    def kill_left_over(pid_file):
        """The runtime was killed; its process may live on inside the container."""
        try:
            pid = read_pid_file(pid_file)
            os.kill(pid, signal.SIGKILL)
        except (RuncError, OSError):
            return ''
        return ' (pid %d)' % pid
