# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: runc
short_description: Run tasks in runc containers
version_added: 0.4.0
description:
  - Runs Ansible's commands in a running container of a runc root with C(runc exec), and moves files in and
    out through C(runc exec) too (C(cat) inside the container). Paths are resolved inside the container,
    its symlinks and mounts, never the host's.
  - The containers may run on the controller's machine, or on another host reached with the OpenSSH client
    (O(runc_host)); one SSH connection per host is shared by all of its containers.
  - Every process starts as the container's own process does (user, capabilities, no_new_privileges,
    AppArmor profile, SELinux label), unless O(remote_user) names another user.
  - Containers without Python work with M(ansible.builtin.raw) and M(ansible.builtin.script); other modules
    need Python in the container. Pipelining is supported.
author:
  - oci_runtime.runc developers (@oci-runtime)
options:
  remote_addr:
    description: The container's id.
    type: str
    default: inventory_hostname
    vars:
      - name: inventory_hostname
      - name: ansible_host
      - name: ansible_runc_container
  root:
    description:
      - The runc root the container lives in (runc's C(--root)); the runtime's default when not set.
      - The same option as the modules' O(oci_runtime.runc.runc_container#module:root).
    type: path
    vars:
      - name: ansible_runc_root
  runtime_path:
    description: The runtime to run (runc, or a CLI-compatible one such as crun), on the host of the containers.
    type: str
    default: runc
    vars:
      - name: ansible_runc_runtime_path
  remote_user:
    description:
      - The user the container's processes run as, by name (looked up in the container's C(/etc/passwd) and
        C(/etc/group)) or as C(uid) or C(uid:gid).
      - A name or a bare uid gets the primary group and the supplementary groups the container's files give it;
        a uid without an entry in C(/etc/passwd) must be given with its gid (runc would keep the container's,
        group 0 for most).
      - A container whose own process has additional groups (C(process.user.additionalGids)) is refused, because
        runc exec keeps them for every user.
      - When not set, the container's own user.
    type: str
    vars:
      - name: ansible_user
      - name: ansible_runc_user
    keyword:
      - name: remote_user
  cwd:
    description: The working folder of the container's processes; the container's own when not set.
    type: str
    vars:
      - name: ansible_runc_cwd
  env:
    description:
      - Environment variables given to every process, over the container's own; values are strings or numbers.
      - They are on the runtime's command line, which C(ps) shows on the host of the container, so they are not
        for secrets. Logs show their names only.
    type: dict
    default: {}
    vars:
      - name: ansible_runc_env
  runc_host:
    description:
      - The host the containers run on, reached with ssh (C(host) or C(user@host), or a name of
        C(~/.ssh/config)); the controller's machine when not set.
      - The SSH connection is shared (ControlMaster) and kept 60 seconds after its last use.
    type: str
    vars:
      - name: ansible_runc_host
  runc_ssh_args:
    description:
      - More arguments of ssh for O(runc_host), such as C(-p 2222) or C(-i KEY), before the host.
      - Options and their values only; a host, a command or an option without its value is refused.
    type: list
    elements: str
    default: []
    vars:
      - name: ansible_runc_ssh_args
  runc_ssh_executable:
    description: The OpenSSH client to run for O(runc_host).
    type: str
    default: ssh
    vars:
      - name: ansible_runc_ssh_executable
  runc_ssh_control_path_dir:
    description:
      - The folder of the shared SSH connections' sockets, as the ssh connection's own setting.
      - At most 72 bytes long on Linux (68 on macOS), since a socket's path has at most 107 (103), unless
        O(runc_ssh_args) choose a socket of their own (C(-o ControlPath=...) or C(-S)); 89 (85) with
        C(-o ControlMaster=no) there (and no C(-M)), which makes no socket (nor the folder) and opens an SSH
        connection per runc call.
    type: path
    default: ~/.ansible/cp
    env:
      - name: ANSIBLE_SSH_CONTROL_PATH_DIR
    vars:
      - name: ansible_runc_ssh_control_path_dir
  runc_timeout:
    description:
      - Seconds the runtime (and the SSH hop) may take for its own queries (the container's state, its
        C(/etc/passwd)); not a limit of the tasks' commands.
    type: int
    default: 30
    vars:
      - name: ansible_runc_timeout
notes:
  - C(become) works with a become method the container has that asks for no password (sudo with NOPASSWD, su run as
    root); the connection answers no password prompt.
  - O(remote_user) changes the uid and gids only; the container's capability sets and other restrictions stay, and
    the kernel gives a user other than root none of them effective (unless ambient), root all of them.
  - A uid given without a gid never gets the container's gid (as runc's C(exec --user UID) would keep it, group 0
    for most); such a uid needs an entry in the container's C(/etc/passwd), or an explicit gid.
  - Every task asks C(runc state) once (a connection lasts one task); with O(remote_user), two C(runc exec) more
    read C(/etc/passwd) and C(/etc/group), and the container's C(config.json) is read on its host.
seealso:
  - plugin: oci_runtime.runc.runc_containers
    plugin_type: inventory
  - module: oci_runtime.runc.runc_exec
'''

EXAMPLES = r'''
# inventory.ini: containers of the controller's machine, and one on another host
# [web]
# web-1 ansible_connection=oci_runtime.runc.runc ansible_runc_root=/run/runc-apps
# db-1  ansible_connection=oci_runtime.runc.runc ansible_runc_root=/run/runc-apps ansible_runc_host=admin@db.example.org

- name: Configure what runs inside the containers
  hosts: web
  gather_facts: false
  tasks:
    - name: Without Python in the container
      ansible.builtin.raw: cat /etc/os-release
      changed_when: false

    - name: With Python, as a user of the container
      ansible.builtin.copy:
        src: app.conf
        dest: /etc/app/app.conf
        mode: "0640"
      remote_user: app
'''

import json
import os
import re
import subprocess
import tempfile

from ansible.errors import AnsibleConnectionFailure, AnsibleError, AnsibleFileNotFound
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.connection import ConnectionBase
from ansible.utils.display import Display

from ansible_collections.oci_runtime.runc.plugins.module_utils._runc_output import (
    OutputParseError,
    parse_json_output,
    runtime_message,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils.runc import RuncError, validate_container_id
from ansible_collections.oci_runtime.runc.plugins.plugin_utils._runc_hop import (
    HopError,
    failure_of,
    hop_argv,
    run,
    runtime_argv,
    ssh_args_of,
)

display = Display()

_MAX_CONFIG = 4 * 1024 * 1024
_NUMERIC_USER = re.compile(r'^(\d+)(?::(\d+))?$')
_ENV_NAME = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')


def passwd_entry(passwd_text, user):
    """(uid, gid, name) of user (a name, or a uid as digits) in /etc/passwd text, or None."""
    numeric = user.isdigit()
    for line in passwd_text.splitlines():
        fields = line.split(':')
        if len(fields) < 4 or not fields[2].isdigit() or not fields[3].isdigit():
            continue
        # Digits are a uid, never a name: a line named "1000" must not stand for uid 1000.
        if (fields[2] if numeric else fields[0]) == user:
            return int(fields[2]), int(fields[3]), fields[0]
    return None


def supplementary_gids(group_text, name, primary_gid):
    """The gids of /etc/group whose member list names the user, but the primary one."""
    gids = []
    for line in group_text.splitlines():
        fields = line.split(':')
        if len(fields) < 4 or not fields[2].isdigit():
            continue
        if name in fields[3].split(',') and int(fields[2]) != primary_gid and int(fields[2]) not in gids:
            gids.append(int(fields[2]))
    return gids


class Connection(ConnectionBase):
    """Commands and files of a runc container, through runc exec."""

    transport = 'oci_runtime.runc.runc'
    has_pipelining = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._user_flags = None
        self._user_key = None
        self._state = None   # runc state of the container, read when connecting

    # -- where and as whom ----------------------------------------------------------------------

    def _container(self):
        container_id = self.get_option('remote_addr')
        try:
            validate_container_id(container_id)
        except RuncError as error:
            raise AnsibleConnectionFailure('remote_addr: %s' % error)
        if container_id.startswith('-'):
            raise AnsibleConnectionFailure('remote_addr: %r would be read by runc as an option' % container_id)
        return container_id

    def _hop(self):
        """hop_argv's host, ssh_args, ssh_executable, control_path_dir and connect timeout."""
        host = self.get_option('runc_host')
        if host is not None and (not host or host.startswith('-')):
            raise AnsibleConnectionFailure('runc_host: %r is not a host name' % (host,))
        try:
            ssh_args = ssh_args_of(self.get_option('runc_ssh_args') or [], 'runc_ssh_args')
        except HopError as error:
            raise AnsibleConnectionFailure(str(error))
        return (host, ssh_args, self.get_option('runc_ssh_executable'),
                self.get_option('runc_ssh_control_path_dir'), self.get_option('runc_timeout'))

    def _runtime(self, *args):
        """argv of a runtime call, on the containers' host."""
        argv = runtime_argv(self.get_option('runtime_path'), self.get_option('root'), *args)
        return self._hopped(argv)

    def _hopped(self, argv):
        try:
            return hop_argv(argv, *self._hop())
        except HopError as error:
            raise AnsibleConnectionFailure('runc_ssh_control_path_dir: %s' % error)

    def _where(self):
        root = self.get_option('root') or "the runtime's default root"
        host = self.get_option('runc_host')
        return '%s%s' % (root, ' on %s' % host if host else '')

    def _call(self, argv, stdin=None, input_data=None, stdout=subprocess.PIPE, timeout=None, runtime_log=None):
        """Run argv; a failure of the runtime (or ssh) itself is a connection error.

        With runtime_log (the file runc's own --log went to), only what runc logged there
        says it failed: a command of the container cannot pass for runc on stderr.
        """
        try:
            status, out, err = run(argv, stdin=stdin, input_data=input_data, stdout=stdout, timeout=timeout)
        except (HopError, OSError) as error:
            raise AnsibleConnectionFailure('container %s in %s: %s' % (self._container(), self._where(), error))
        if runtime_log is not None:
            with open(runtime_log, 'rb') as log:
                logged = log.read(_MAX_CONFIG)
            message = failure_of(status, logged, False)
        else:
            message = failure_of(status, err, bool(self.get_option('runc_host')))
        if message:
            raise AnsibleConnectionFailure('container %s in %s: %s' % (self._container(), self._where(), message))
        return status, out, err

    def _connect(self):
        if self._connected:
            return self
        super()._connect()
        container_id = self._container()
        if self.get_option('runc_timeout') < 1:
            raise AnsibleConnectionFailure('runc_timeout: %s is not a number of seconds (1 or more)'
                                           % self.get_option('runc_timeout'))
        root = self.get_option('root')
        if root is not None and not self.get_option('runc_host') and not os.path.isdir(root):
            # runc would make it, and say the container does not exist.
            raise AnsibleConnectionFailure('root: %s is not a folder on this machine' % root)
        status, out, err = self._call(self._runtime('state', container_id), timeout=self.get_option('runc_timeout'))
        if status != 0:
            raise AnsibleConnectionFailure('container %s in %s: runc state failed (exit status %d): %s' % (
                container_id, self._where(), status, runtime_message(to_text(err)) or 'no message'))
        try:
            state = parse_json_output(to_text(out), 'state')
        except OutputParseError as error:
            raise AnsibleConnectionFailure('container %s in %s: %s' % (container_id, self._where(), error))
        if not isinstance(state, dict) or state.get('status') != 'running':
            raise AnsibleConnectionFailure('container %s in %s is %s, not running: runc exec needs a running '
                                           'container' % (container_id, self._where(),
                                                          state.get('status') if isinstance(state, dict) else '?'))
        display.vvv('RUNC CONNECTION to container %s in %s' % (container_id, self._where()), host=container_id)
        self._state = state
        self._connected = True
        return self

    def _exec_flags(self, masked=False):
        """--user, --additional-gids, --cwd and --env of every exec (env values masked for logs)."""
        flags = list(self._user_exec_flags())
        if self.get_option('cwd'):
            flags += ['--cwd', self.get_option('cwd')]
        for name, value in sorted((self.get_option('env') or {}).items()):
            if not _ENV_NAME.match(str(name)):
                raise AnsibleConnectionFailure('env: %r is not a variable name' % (name,))
            if isinstance(value, bool) or not isinstance(value, (str, int, float)) or '\0' in str(value):
                raise AnsibleConnectionFailure('env: the value of %s must be a string or a number' % name)
            flags += ['--env', '%s=%s' % (name, '********' if masked else value)]
        return flags

    def _user_exec_flags(self):
        user = self.get_option('remote_user')
        if user is not None:
            user = str(user)
        if self._user_flags is not None and self._user_key == user:
            return self._user_flags
        # Kept only once resolved: a failed lookup never leaves the previous user's flags in place.
        self._user_key, self._user_flags = None, None
        flags = self._resolve_user(user) if user else []
        self._user_key, self._user_flags = user, flags
        return flags

    def _read_container_file(self, path):
        """A file read inside the container as its own user (its /etc/passwd, say)."""
        status, out, err = self._call(self._runtime('exec', self._container(), 'cat', path),
                                      timeout=self.get_option('runc_timeout'))
        if status != 0:
            return None
        return to_text(out, errors='surrogate_or_replace')

    def _resolve_user(self, user):
        self._refuse_kept_groups(user)
        numeric = _NUMERIC_USER.match(user)
        if numeric and numeric.group(2) is not None:
            return ['--user', user]
        passwd = self._read_container_file('/etc/passwd')
        entry = passwd_entry(passwd or '', user)
        if entry is None:
            if numeric:
                raise AnsibleConnectionFailure(
                    'remote_user: uid %s has no entry in the /etc/passwd of container %s; give it as uid:gid '
                    '(runc would keep the container\'s gid)' % (user, self._container()))
            raise AnsibleConnectionFailure('remote_user: no user %r in the /etc/passwd of container %s%s'
                                           % (user, self._container(),
                                              '' if passwd is not None else ' (it cannot be read there)'))
        uid, gid, name = entry
        flags = ['--user', '%d:%d' % (uid, gid)]
        for extra in supplementary_gids(self._read_container_file('/etc/group') or '', name, gid):
            flags += ['--additional-gids', str(extra)]
        return flags

    def _refuse_kept_groups(self, user):
        """runc exec --user keeps the container process's additionalGids: another user must not get them."""
        bundle = (self._state or {}).get('bundle')
        if not isinstance(bundle, str) or not bundle.startswith('/'):
            raise AnsibleConnectionFailure('remote_user: cannot tell the groups container %s runs with (runc state '
                                           'names no bundle)' % self._container())
        # At most 4 MiB: a config.json that is a link to /dev/zero must not fill the controller's memory.
        status, out, err = self._call(self._hopped(['head', '-c', str(_MAX_CONFIG + 1), '--', bundle + '/config.json']),
                                      timeout=self.get_option('runc_timeout'))
        try:
            config = json.loads(to_text(out)) if status == 0 and len(out) <= _MAX_CONFIG else None
            kept = ((config.get('process') or {}).get('user') or {}).get('additionalGids') or []
        except (ValueError, AttributeError):
            config = kept = None
        if not isinstance(config, dict) or not isinstance(kept, list):
            raise AnsibleConnectionFailure('remote_user: cannot read the config.json of container %s in %s (%s)'
                                           % (self._container(), bundle, to_text(err).strip() or 'not a JSON object'))
        if kept:
            raise AnsibleConnectionFailure(
                'remote_user: container %s runs with the additional groups %s, which runc exec keeps for every user; '
                'a task as %s would get them too. Run it as the container\'s own user, or make the container without '
                'them' % (self._container(), ', '.join(str(gid) for gid in kept), user))

    def _exec_argv(self, command, runtime_log=None):
        log_flags = ['--log', runtime_log, '--log-format', 'json'] if runtime_log else []
        return self._runtime(*(log_flags + ['exec'] + self._exec_flags() + [self._container()] + list(command)))

    def _exec(self, command, **call_options):
        """_call of runc exec: on this machine with runc's own log in a file of its own (see _call)."""
        if self.get_option('runc_host'):
            return self._call(self._exec_argv(command), **call_options)
        handle, runtime_log = tempfile.mkstemp(prefix='runc-connection-', suffix='.log')
        os.close(handle)
        try:
            return self._call(self._exec_argv(command, runtime_log), runtime_log=runtime_log, **call_options)
        finally:
            os.unlink(runtime_log)

    # -- Ansible's calls --------------------------------------------------------------------------

    def exec_command(self, cmd, in_data=None, sudoable=False):
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        if sudoable and self.become and self.become.expect_prompt():
            raise AnsibleConnectionFailure('become: the runc connection answers no password prompt; use a become '
                                           'method the container allows without a password (become_password is set)')
        executable = self._play_context.executable or '/bin/sh'
        command = [executable, '-c', to_text(cmd)]
        # The log names the env variables only, before the command is quoted for an SSH hop.
        shown = self._runtime('exec', *(self._exec_flags(masked=True) + [self._container()] + command))
        display.vvv('EXEC %s' % shown, host=self._container())
        return self._exec(command, input_data=to_bytes(in_data) if in_data is not None else None)

    def put_file(self, in_path, out_path):
        super().put_file(in_path, out_path)
        display.vvv('PUT %s TO %s' % (in_path, out_path), host=self._container())
        if not os.path.isfile(to_bytes(in_path, errors='surrogate_or_strict')):
            raise AnsibleFileNotFound('file or module does not exist: %s' % in_path)
        # cat runs inside the container: out_path is resolved there, and nothing else is written.
        command = ['/bin/sh', '-c', 'cat > "$1"', 'sh', to_text(out_path)]
        try:
            with open(to_bytes(in_path, errors='surrogate_or_strict'), 'rb') as source:
                status, dummy, err = self._exec(command, stdin=source)
        except OSError as error:
            raise AnsibleError('failed to read %s: %s' % (in_path, error.strerror or error))
        if status != 0:
            raise AnsibleError('failed to transfer %s to %s in container %s: %s'
                               % (in_path, out_path, self._container(), to_text(err).strip() or 'exit %d' % status))

    def fetch_file(self, in_path, out_path):
        super().fetch_file(in_path, out_path)
        display.vvv('FETCH %s TO %s' % (in_path, out_path), host=self._container())
        command = ['cat', '--', to_text(in_path)]
        b_out_path = to_bytes(out_path, errors='surrogate_or_strict')
        partial = None
        try:
            # A file of its own (O_EXCL, never through a link), renamed over out_path once complete.
            handle, partial = tempfile.mkstemp(dir=os.path.dirname(b_out_path) or b'.', prefix=b'.runc-fetch-')
            with os.fdopen(handle, 'wb') as target:
                status, dummy, err = self._exec(command, stdout=target)
            if status != 0:
                raise AnsibleError('failed to fetch %s from container %s: %s'
                                   % (in_path, self._container(), to_text(err).strip() or 'exit %d' % status))
            os.rename(partial, b_out_path)
            partial = None
        except OSError as error:
            raise AnsibleError('failed to write %s: %s' % (out_path, error.strerror or error))
        finally:
            if partial is not None and os.path.lexists(partial):
                os.unlink(partial)

    def reset(self):
        """Forget the container's state and user, and end the shared SSH connection (meta: reset_connection)."""
        host, ssh_args, ssh_executable, control_path_dir, dummy = self._hop()
        if host:
            try:
                run(hop_argv(['true'], host, ssh_args, ssh_executable, control_path_dir)[:-3]
                    + ['-O', 'exit', host], timeout=self.get_option('runc_timeout'))
            except (HopError, OSError):
                pass   # no master, or it is gone already
        self.close()

    def close(self):
        self._connected = False
        self._state = None
        self._user_flags = None
        self._user_key = None
