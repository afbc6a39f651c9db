# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: runc_containers
short_description: The containers of runc roots as inventory hosts
version_added: 0.4.0
description:
  - Lists the containers of one or more runc roots with C(runc list), on the controller's machine and on other
    hosts reached with ssh, and makes each a host reached with the P(oci_runtime.runc.runc#connection) connection.
  - Host variables C(runc_id), C(runc_status), C(runc_pid), C(runc_bundle), C(runc_created), C(runc_annotations),
    C(runc_root) and C(runc_host), and the connection's own (C(ansible_connection), C(ansible_runc_container),
    C(ansible_runc_root), C(ansible_runc_runtime_path), C(ansible_runc_host), C(ansible_runc_ssh_args)).
  - The inventory host name is the container id for containers of the controller's machine, and
    C(ID@HOST) for those of another host, after O(prefix).
  - The configuration file's name must end with C(runc.yml) or C(runc.yaml).
author:
  - oci_runtime.runc developers (@oci-runtime)
extends_documentation_fragment:
  - constructed
  - inventory_cache
options:
  plugin:
    description: The name of this plugin.
    type: str
    required: true
    choices: [oci_runtime.runc.runc_containers]
  roots:
    description: The runc roots to list; the runtime's default root when empty.
    type: list
    elements: path
    default: []
  runtime_path:
    description: The runtime to run on each host (runc, or a CLI-compatible one such as crun).
    type: str
    default: runc
  hosts:
    description:
      - Hosts whose containers are listed too, reached with ssh as the connection's O(oci_runtime.runc.runc#connection:runc_host)
        reaches them; every root of O(roots) is listed on each.
    type: list
    elements: dict
    default: []
    suboptions:
      host:
        description: C(host) or C(user@host), or a name of C(~/.ssh/config).
        type: str
        required: true
      ssh_args:
        description:
          - More arguments of ssh, such as C(-p 2222).
          - Options and their values only; a host, a command or an option without its value is refused.
        type: list
        elements: str
        default: []
  local:
    description: List the roots on the controller's machine too (set V(false) to list only O(hosts)).
    type: bool
    default: true
  status:
    description: Only containers in these states; every state when empty.
    type: list
    elements: str
    choices: [created, running, pausing, paused, stopped]
    default: [running]
  id_pattern:
    description: Only containers whose id matches this regular expression (searched, not anchored).
    type: str
  annotations:
    description: Only containers with every one of these annotations, of these values.
    type: dict
    default: {}
  ssh_control_path_dir:
    description:
      - The folder of the shared SSH connections' sockets, as the ssh connection's own setting.
      - At most 72 bytes long on Linux (68 on macOS), since a socket's path has at most 107 (103), unless a
        host's C(ssh_args) choose a socket of their own (C(-o ControlPath=...) or C(-S)); 89 (85) with
        C(-o ControlMaster=no) there (and no C(-M)), which makes no socket (nor the folder) and opens an SSH
        connection per runc call.
    type: path
    default: ~/.ansible/cp
    env:
      - name: ANSIBLE_SSH_CONTROL_PATH_DIR
  prefix:
    description:
      - Put before every inventory host name, so that sources whose roots hold the same container ids make
        different hosts (an id found twice is refused otherwise, across sources too).
    type: str
    default: ''
  timeout:
    description: Seconds one C(runc list) (with its SSH hop) may take.
    type: int
    default: 30
'''

EXAMPLES = r'''
---
# runc.yml: the running containers of two roots, grouped by their project
plugin: oci_runtime.runc.runc_containers
roots: [/run/runc-apps, /run/runc-db]
keyed_groups:
  - key: runc_annotations['oci_runtime.runc.project'] | default('none')
    prefix: project

---
# fleet.runc.yml: the containers of other hosts, reached with ssh
plugin: oci_runtime.runc.runc_containers
local: false
roots: [/run/runc-apps]
hosts:
  - host: admin@web1.example.org
  - host: web2
    ssh_args: [-p, "2222"]
id_pattern: ^web-
groups:
  stopped_ones: runc_status == 'stopped'
'''

import json
import os
import re

from ansible.errors import AnsibleParserError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.oci_runtime.runc.plugins.module_utils._runc_output import runtime_message
from ansible_collections.oci_runtime.runc.plugins.plugin_utils._runc_hop import HopError, hop_argv, run, runtime_argv, ssh_args_of

NAME = 'oci_runtime.runc.runc_containers'


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = NAME

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(('runc.yml', 'runc.yaml'))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        if self.get_option('timeout') < 1:
            raise AnsibleParserError('timeout: %s is not a number of seconds (1 or more)' % self.get_option('timeout'))
        try:
            self._id_pattern = re.compile(self.get_option('id_pattern') or '')
        except re.error as error:
            raise AnsibleParserError('id_pattern: %r is not a regular expression: %s'
                                     % (self.get_option('id_pattern'), error))
        if not isinstance(self.get_option('annotations'), dict) or not all(
                isinstance(value, (str, int, float, bool)) for value in self.get_option('annotations').values()):
            raise AnsibleParserError('annotations: give a dict of annotation names and their values')
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option('cache') and cache
        listed = None
        if use_cache:
            try:
                listed = self._cache[cache_key]
            except KeyError:
                listed = None
        if listed is None:
            listed = self._list_everything()
            if self.get_option('cache'):
                self._cache[cache_key] = listed
        self._populate(listed)

    # -- reading ------------------------------------------------------------------------------------

    def _places(self):
        """(host or None, ssh_args) of every host whose roots are listed."""
        places = [(None, [])] if self.get_option('local') else []
        for index, entry in enumerate(self.get_option('hosts')):
            if not isinstance(entry, dict):
                raise AnsibleParserError('hosts[%d]: give a dict with host (and ssh_args), not %r' % (index, entry))
            host = entry.get('host')
            if not isinstance(host, str) or not host or host.startswith('-'):
                raise AnsibleParserError('hosts[%d]: host must be a host name, not %r' % (index, host))
            try:
                places.append((host, ssh_args_of(entry.get('ssh_args') or [], 'hosts[%d].ssh_args' % index)))
            except HopError as error:
                raise AnsibleParserError(str(error))
        return places

    def _list_everything(self):
        """Every container of every root of every place: a list of dicts (JSON, for the cache)."""
        roots = self.get_option('roots') or [None]
        listed = []
        places = self._places()
        for root in roots:
            if root is not None and (not isinstance(root, str) or not root.startswith('/')):
                raise AnsibleParserError('roots: %r is not an absolute path' % (root,))
            if root is not None and (None, []) in places and not os.path.isdir(root):
                # runc list would make it, and list nothing.
                raise AnsibleParserError('roots: %s is not a folder on this machine' % root)
        for host, ssh_args in places:
            for root in roots:
                for state in self._list(host, ssh_args, root):
                    listed.append(dict(state=state, host=host, ssh_args=ssh_args, root=root))
        return listed

    def _list(self, host, ssh_args, root):
        where = '%s%s' % (root or "the runtime's default root", ' on %s' % host if host else '')
        try:
            argv = hop_argv(runtime_argv(self.get_option('runtime_path'), root, 'list', '--format', 'json'),
                            host, ssh_args, control_path_dir=self.get_option('ssh_control_path_dir'),
                            connect_timeout=self.get_option('timeout'))
        except HopError as error:
            raise AnsibleParserError('ssh_control_path_dir: %s' % error)
        try:
            status, out, err = run(argv, timeout=self.get_option('timeout'))
        except HopError as error:
            raise AnsibleParserError('cannot list the containers of %s: %s' % (where, error))
        if status != 0:
            raise AnsibleParserError('cannot list the containers of %s: %s (exit status %d)'
                                     % (where, runtime_message(to_text(err)) or 'no message', status))
        try:
            states = json.loads(to_text(out) or 'null') or []
        except ValueError:
            raise AnsibleParserError('runc list of %s printed no JSON: %r' % (where, to_text(out)[:200]))
        if not isinstance(states, list) or not all(isinstance(state, dict) and isinstance(state.get('id'), str)
                                                   for state in states):
            raise AnsibleParserError('runc list of %s printed no list of containers' % where)
        return states

    # -- the inventory -------------------------------------------------------------------------------

    def _wanted(self, state):
        statuses = self.get_option('status')
        if statuses and state.get('status') not in statuses:
            return False
        if not self._id_pattern.search(state['id']):
            return False
        present = state.get('annotations') or {}
        return all(present.get(name) == (str(value).lower() if isinstance(value, bool) else str(value))
                   for name, value in self.get_option('annotations').items())

    def _populate(self, listed):
        strict = self.get_option('strict')
        origin = {}
        for entry in listed:
            state, host, root = entry['state'], entry['host'], entry['root']
            if not self._wanted(state):
                continue
            name = self.get_option('prefix') + (state['id'] if host is None else '%s@%s' % (state['id'], host))
            place = '%s%s' % (root or 'the default root', ' on %s' % host if host else '')
            known = self.inventory.get_host(name)
            if name in origin or (known is not None and known.vars.get('ansible_connection') == 'oci_runtime.runc.runc'):
                # Never one host for two containers: the last source read would win unsaid.
                raise AnsibleParserError('container %s is in %s and in %s: give the sources different prefix options'
                                         % (state['id'], origin.get(name) or 'another inventory source', place))
            origin[name] = place
            self.inventory.add_host(name)
            # What the runtime printed is the containers', not the user's: never templated (wrap_var;
            # ansible-core 2.19 marks what inventory plugins give untrusted itself).
            variables = wrap_var({
                'runc_id': state['id'], 'runc_status': state.get('status'), 'runc_pid': state.get('pid'),
                'runc_bundle': state.get('bundle'), 'runc_created': state.get('created'),
                'runc_annotations': state.get('annotations') or {},
            })
            variables.update({
                'runc_root': root, 'runc_host': host,
                'ansible_connection': 'oci_runtime.runc.runc', 'ansible_runc_container': variables['runc_id'],
                'ansible_runc_runtime_path': self.get_option('runtime_path'),
            })
            if root:
                variables['ansible_runc_root'] = root
            if host:
                variables['ansible_runc_host'] = host
                variables['ansible_runc_ssh_args'] = entry['ssh_args']
            for key, value in variables.items():
                self.inventory.set_variable(name, key, value)
            self._set_composite_vars(self.get_option('compose'), variables, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option('groups'), variables, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option('keyed_groups'), variables, name, strict=strict)
