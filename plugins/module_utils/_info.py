# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""runc_info's logic: one ``runc list``, then the asked-for parts, concurrently."""

from __future__ import annotations

import os
import re

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.oci_runtime.runc.plugins.module_utils._runtime_options import (
    effective_root,
    error_result,
    runc_from_params,
    runtime_fault,
    runtime_option_problem,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils.runc import RuncError, validate_container_id

STATE_KEYS = ('id', 'pid', 'status', 'bundle', 'rootfs', 'created', 'owner', 'annotations')
# A container whose cgroup still exists can be asked for processes and stats.
LIVE = ('created', 'running', 'pausing', 'paused')
# NAME=value words in ps output (its ``e`` flag appends the environment), for mask_env.
ENV_ASSIGNMENT = re.compile(r'(?<![^\s])([A-Za-z_][A-Za-z0-9_]*)=\S*')


def _config_tools():
    """_container_config, imported by the runs that read configs only: a query of states or stats
    starts faster without it (and the option table and the network code it brings)."""
    from ansible_collections.oci_runtime.runc.plugins.module_utils import _container_config
    return _container_config


def container_entry(state):
    entry = {key: state.get(key) for key in STATE_KEYS}
    entry['annotations'] = entry['annotations'] or {}
    entry['exists'] = True
    return entry


def matches(state, statuses, annotations):
    if statuses and state.get('status') not in statuses:
        return False
    present = state.get('annotations') or {}
    return all(present.get(key) == str(value) for key, value in (annotations or {}).items())


class InfoGatherer:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.gather = set(self.params['gather'])
        self.runc = None
        self.stats = {}   # container id -> its stats, or the RuncError of their query

    def validate(self):
        problem = runtime_option_problem(self.params)
        if problem:
            self.module.fail_json(msg=problem)
        for name in self.params['name'] or []:
            try:
                validate_container_id(name)
            except RuncError as error:
                self.module.fail_json(msg='name: %s' % error)
        for value in self.params['ps_args'] or []:
            if '\0' in value:
                self.module.fail_json(msg='ps_args: %r holds a NUL character' % value[:50])
        if self.params['max_workers'] < 1:
            self.module.fail_json(msg='max_workers: must be at least 1')

    def listed(self):
        """``runc list``; the client refuses anything but a list of runc's container states."""
        return self.runc.list()

    def selected(self, listed):
        """The containers the task asks about, in a stable order."""
        by_id = {state['id']: state for state in listed}
        statuses, annotations = self.params['status'], self.params['annotations']
        if self.params['name'] is None:
            return [container_entry(by_id[cid]) for cid in sorted(by_id)
                    if matches(by_id[cid], statuses, annotations)]
        entries = []
        for name in self.params['name']:
            if name not in by_id:
                entries.append({'id': name, 'exists': False})
            elif matches(by_id[name], statuses, annotations):
                entries.append(container_entry(by_id[name]))
        return entries

    def details(self, entry):
        """The gathered parts of one container; runs in a worker thread."""
        container_id = entry['id']
        parts = {}
        if 'config' in self.gather:
            parts['config'] = self.read_config(entry)
        if 'network' in self.gather:
            from ansible_collections.oci_runtime.runc.plugins.module_utils._network import network_of
            try:
                config = _config_tools().read_config_file(os.path.join(entry.get('bundle') or '', 'config.json'))
            except (OSError, ValueError, RecursionError):
                config = None
            parts['network'] = network_of(config, effective_root(self.params), container_id) if config else None
        live = entry['status'] in LIVE
        try:
            if 'processes' in self.gather:
                top = self.runc.top(container_id, self.params['ps_args']) if live else None
                parts['processes'] = {'pids': self.runc.ps(container_id) if live else [],
                                      'top': self.masked_top(entry, top) if top else top}
            if 'stats' in self.gather:
                stats = self.stats.get(container_id) if live else None
                if isinstance(stats, RuncError):
                    raise stats
                parts['stats'] = stats
        except RuncError as error:
            if error.container_missing:
                # Deleted between `runc list` and this query.
                return {'exists': False}
            if 'not running' not in (error.runc_message or ''):
                return dict(parts, errors=[str(error)])
            # Stopped between `runc list` and this query.
            parts['status'] = 'stopped'
            if 'processes' in self.gather:
                parts['processes'] = {'pids': [], 'top': None}
            if 'stats' in self.gather:
                parts['stats'] = None
        return parts

    def details_of(self, entries, workers):
        """details() of each entry: a container per thread when processes, configs or networks are read
        (the stats are in already)."""
        if not self.gather & {'processes', 'config', 'network'}:
            return [self.details(entry) for entry in entries]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(self.details, entries))

    def masked_top(self, entry, top):
        """ps output with environment values masked, as in configs: ps_args such as ``e`` show them."""
        tools = _config_tools()
        if self.params['mask_env']:
            names = None
        else:
            try:
                names = tools.secret_env_names(tools.read_config_file(os.path.join(entry.get('bundle') or '',
                                                                                   'config.json')))
            except (OSError, ValueError):
                names = []
            if names == []:
                return top
        pattern = ENV_ASSIGNMENT if names is None else re.compile(
            r'(?<![^\s])(%s)=\S*' % '|'.join(re.escape(name) for name in names))
        top['processes'] = [[pattern.sub(lambda found: found.group(1) + '=' + tools.MASKED_VALUE, cell)
                             if isinstance(cell, str) else cell for cell in row] for row in top['processes']]
        return top

    def read_config(self, entry):
        """The bundle's config.json, its secret env values masked (every env value with mask_env)."""
        tools = _config_tools()
        path = os.path.join(entry.get('bundle') or '', 'config.json')
        try:
            config = tools.read_config_file(path)
        except (OSError, ValueError):
            return None
        if self.params['mask_env']:
            return tools.mask_env(config)
        # None (a malformed annotation cannot say which values are secret) masks them all.
        return tools.mask_env(config, tools.secret_env_names(config))

    def add_supervision(self, entries):
        """The systemd unit of each supervised container (runc_container restart), with its states; else None."""
        if not entries:
            return
        from ansible_collections.oci_runtime.runc.plugins.module_utils import _supervision as supervision
        root = effective_root(self.params)
        units = {}
        for entry in entries:
            name = supervision.unit_name(root, entry['id'])
            entry['supervision'] = None
            try:
                ours = supervision.read_unit(supervision.unit_path(name))[1]
            except supervision.TaskError as error:
                self.module.warn('container %s: %s' % (entry['id'], error))
                continue
            if ours:
                units[name] = entry
        if not units:
            return
        try:
            shown = supervision.Systemctl(self.module, report=None).show(*units)
        except supervision.TaskError as error:
            self.module.warn('cannot read the state of the containers\' units: %s' % error)
            shown = {}
        for name, entry in units.items():
            values = shown.get(name, {})
            entry['supervision'] = supervision.unit_facts(name, values)

    def runtime(self):
        runtime = {}
        if 'version' in self.gather:
            runtime['version'] = self.runc.version()
        if 'features' in self.gather:
            runtime['features'] = self.runc.features()
        return runtime

    def run(self):
        self.validate()
        self.runc = runc_from_params(self.params)
        try:
            containers = self.selected(self.listed())
            existing = [entry for entry in containers if entry['exists']]
            if existing and self.gather & {'processes', 'stats', 'config', 'network'}:
                workers = min(self.params['max_workers'], len(existing))
                if 'stats' in self.gather:
                    # Queried together, from one thread: at the runtime's own pace (see _spawn).
                    self.stats = self.runc.stats_of([entry['id'] for entry in existing if entry['status'] in LIVE],
                                                    workers)
                for entry, parts in zip(existing, self.details_of(existing, workers)):
                    if parts.get('exists') is False:
                        # Gone since `runc list`: reported like a missing name.
                        container_id = entry['id']
                        entry.clear()
                        entry['id'] = container_id
                    entry.update(parts)
        except RuncError as error:
            self.module.fail_json(msg=runtime_fault(error, 'root'), **error_result(error))
        self.add_supervision([entry for entry in containers if entry.get('exists')])
        try:
            runtime = self.runtime()
        except RuncError as error:
            self.module.fail_json(msg=runtime_fault(error, 'gather'), **error_result(error))
        self.module.exit_json(changed=False, containers=containers, runtime=runtime)
