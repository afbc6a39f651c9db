# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""runc_containers' logic: one ``runc list``, then runc_container's own decisions for each item, in parallel.

Each item is a runc_container task: its options are checked by runc_container's
argument spec, and a ContainerManager (the class runc_container runs) compares
and converges it, given the state the single ``runc list`` read. Nothing here
decides what a container needs; it only fans the items out and sums them up.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.oci_runtime.runc.plugins.module_utils._container import ContainerManager
from ansible_collections.oci_runtime.runc.plugins.module_utils._container_config import ANNOTATION_PROJECT
from ansible_collections.oci_runtime.runc.plugins.module_utils._option import ALL, CONTAINER
from ansible_collections.oci_runtime.runc.plugins.module_utils._options import argument_spec, rows, writes_config
from ansible_collections.oci_runtime.runc.plugins.module_utils._runc_root import DefaultSpec
from ansible_collections.oci_runtime.runc.plugins.module_utils._runtime_options import (
    effective_root,
    error_result,
    runc_from_params,
    runtime_fault,
    runtime_option_problem,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils.runc import RuncError

# The runtime options are the task's, shared by every item; the others are an item's.
RUNTIME_OPTIONS = frozenset(row.name for row in rows(CONTAINER) if row.modules == ALL)
ITEM_OPTIONS = frozenset(argument_spec(CONTAINER)) - RUNTIME_OPTIONS
# What the summary counts, in the order it lists them.
SUMMARY_KEYS = ('created', 'recreated', 'updated', 'started', 'stopped', 'removed', 'unchanged', 'failed')
# Options of an item that stop a pruned container as its task would.
_STOP_OPTIONS = ('kill_signal', 'stop_timeout', 'kill_all', 'force', 'lock_timeout')


class ItemModule:
    """What a ContainerManager asks of its AnsibleModule, for one item: its params, the modes, warnings."""

    def __init__(self, module, params):
        self.params = params
        self.check_mode = module.check_mode
        self._diff = module._diff
        self._module = module
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)

    def atomic_move(self, source, destination):
        self._module.atomic_move(source, destination)


def item_label(index, item):
    name = item.get('name') if isinstance(item, dict) else None
    return 'containers[%d]' % index + (' (%s)' % name if isinstance(name, str) else '')


class ContainersManager:
    """Converges the items of a project and, with prune, removes the project's other containers."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.validator = ArgumentSpecValidator(argument_spec(CONTAINER))

    # -- input ---------------------------------------------------------------------------------

    def task_problem(self):
        """What makes the whole task impossible (nothing is done then), or None."""
        problem = runtime_option_problem(self.params)
        if problem:
            return problem
        project = self.params['project']
        if not project or any(character.isspace() or character == '\0' for character in project):
            return 'project: %r must be a non-empty name without white space' % (project,)
        if self.params['max_workers'] < 1:
            return 'max_workers: must be at least 1'
        unknown = sorted(set(self.params['defaults']) - ITEM_OPTIONS)
        if unknown:
            return self.unknown_message('defaults', unknown)
        names = {}
        for index, item in enumerate(self.params['containers']):
            name = item.get('name') if isinstance(item, dict) else None
            if isinstance(name, str) and name in names:
                return ('containers: %s and %s name the same container; give each container once'
                        % (item_label(names[name], item), item_label(index, item)))
            names[name] = index
        return None

    @staticmethod
    def unknown_message(where, unknown):
        runtime = [name for name in unknown if name in RUNTIME_OPTIONS]
        others = [name for name in unknown if name not in RUNTIME_OPTIONS]
        parts = []
        if others:
            parts.append('unknown options %s' % ', '.join(others))
        if runtime:
            parts.append('%s %s the task\'s own (the runtime options are shared by every item)'
                         % (', '.join(runtime), 'is' if len(runtime) == 1 else 'are'))
        return '%s: %s' % (where, '; '.join(parts))

    def item_params(self, index, item):
        """(params, None) of one item, checked as runc_container checks its own; (None, message) when bad."""
        label = item_label(index, item)
        if not isinstance(item, dict):
            return None, '%s: expected a dict of runc_container options, got %r' % (label, item)
        unknown = sorted(set(item) - ITEM_OPTIONS)
        if unknown:
            return None, self.unknown_message(label, unknown)
        merged = dict(self.params['defaults'])
        merged.update(item)
        merged.update(self.runtime_values())
        validated = self.validator.validate(merged)
        if validated.error_messages:
            return None, '%s: %s' % (label, '; '.join(validated.error_messages))
        params = validated.validated_parameters
        if params['state'] != 'absent' and not writes_config(params):
            # The project is an annotation of config.json: the collection writes it for every item.
            params['spec'] = {}
        params['project'] = self.params['project']
        return params, None

    def prune_params(self, container_id):
        """A state=absent task for a container of the project the list no longer names."""
        defaults = self.params['defaults']
        item = {name: defaults[name] for name in _STOP_OPTIONS if defaults.get(name) is not None}
        item.update(name=container_id, state='absent')
        return self.validator.validate(dict(item, **self.runtime_values())).validated_parameters

    def runtime_values(self):
        return {name: self.params[name] for name in RUNTIME_OPTIONS if self.params[name] is not None}

    def hide_secrets(self):
        """The secret_env values of every item and of defaults never reach the result or a log."""
        for source in [self.params['defaults']] + [item for item in self.params['containers'] if isinstance(item, dict)]:
            secrets = source.get('secret_env')
            if isinstance(secrets, dict):
                self.module.no_log_values.update(str(value) for value in secrets.values() if value is not None)

    # -- the task ------------------------------------------------------------------------------

    def converge_item(self, job):
        params, listed, default_spec = job
        item_module = ItemModule(self.module, params)
        result = ContainerManager(item_module, listed=listed, default_spec=default_spec).outcome()
        if item_module.warnings:
            result['warnings'] = item_module.warnings
        return result

    def run(self):
        self.hide_secrets()
        problem = self.task_problem()
        if problem:
            self.module.fail_json(msg=problem, changed=False, containers=[], summary={})
        runc = runc_from_params(self.params)
        try:
            listed = runc.list()
        except RuncError as error:
            self.module.fail_json(msg=runtime_fault(error, 'root'), changed=False, **error_result(error))
        by_id = {state['id']: state for state in listed}
        default_spec = DefaultSpec(runc, effective_root(self.params), rootless=self.params['rootless'] == 'true')

        entries = []   # (name, params or None, problem or None, state before)
        for index, item in enumerate(self.params['containers']):
            params, problem = self.item_params(index, item)
            name = params['name'] if params else (item.get('name') if isinstance(item, dict) else None)
            entries.append((name if name is not None else item_label(index, item), params, problem, by_id.get(name)))
        named = {entry[0] for entry in entries}
        if self.params['prune']:
            for container_id in sorted(by_id):
                state = by_id[container_id]
                if container_id not in named and (state.get('annotations') or {}).get(ANNOTATION_PROJECT) \
                        == self.params['project']:
                    entries.append((container_id, self.prune_params(container_id), None, state))

        jobs = [(params, before, default_spec) for _name, params, problem, before in entries if problem is None]
        workers = max(1, min(self.params['max_workers'], len(jobs)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            outcomes = iter(list(pool.map(self.converge_item, jobs)))

        containers, summary, diffs = [], {key: [] for key in SUMMARY_KEYS}, []
        for name, params, problem, before in entries:
            result = dict(failed=True, msg=problem, changed=False, actions=[]) if problem else next(outcomes)
            result['name'] = name
            for message in result.pop('warnings', []):
                self.module.warn('%s: %s' % (name, message))
            if 'diff' in result:
                diffs.append(dict(result.pop('diff'), before_header=name, after_header=name))
            containers.append(result)
            for kind in self.kinds_of_change(result, before, params['state'] if params else None):
                summary[kind].append(name)
        outcome = dict(changed=any(result['changed'] for result in containers), containers=containers,
                       summary=summary)
        if diffs:
            outcome['diff'] = diffs
        if summary['failed']:
            failed = [result for result in containers if result.get('failed')]
            self.module.fail_json(msg='containers: %d of %d failed: %s' % (
                len(failed), len(containers),
                '; '.join(result['msg'] if result['msg'].startswith('containers[') else
                          '%s: %s' % (result['name'], result['msg']) for result in failed)),
                **outcome)
        self.module.exit_json(**outcome)

    @staticmethod
    def kinds_of_change(result, before, wanted):
        """The summary lists an item belongs to, by what happened (or would, in check mode) to it."""
        if result.get('failed'):
            return ['failed']
        if not result['changed']:
            return ['unchanged']
        if wanted == 'absent':
            return ['removed']
        if before is None:
            return ['created']
        if result.get('recreate_reasons'):
            return ['recreated']
        subcommands = {word for argv in result['actions'] for word in argv[1:]}
        kinds = [kind for kind, words in (('started', {'start', 'resume'}), ('stopped', {'kill', 'pause'}))
                 if subcommands & words]
        # Anything else a task brought in line (an update, config.json, a network bound again).
        return kinds + ['updated'] if 'update' in subcommands or not kinds else kinds
