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

import os

from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.oci_runtime.runc.plugins.module_utils._container import ContainerManager
from ansible_collections.oci_runtime.runc.plugins.module_utils._container_config import (
    ANNOTATION_CONFIG_DIGEST,
    ANNOTATION_PROJECT,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils._option import ALL, CONTAINER
from ansible_collections.oci_runtime.runc.plugins.module_utils._options import (
    argument_spec,
    not_a_dict_problem,
    rows,
    writes_config,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils._runc_root import DefaultSpec
from ansible_collections.oci_runtime.runc.plugins.module_utils._runtime_options import (
    effective_root,
    error_result,
    runc_from_params,
    runtime_fault,
    runtime_option_problem,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils.runc import RuncError, subcommand_of

# The runtime options are the task's, shared by every item; the others (and their aliases) are an item's.
RUNTIME_OPTIONS = frozenset(row.name for row in rows(CONTAINER) if row.modules == ALL)
ITEM_OPTIONS = frozenset(name for row in rows(CONTAINER) if row.name not in RUNTIME_OPTIONS
                         for name in [row.name] + list(row.spec.get('aliases') or []))
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

    def get_bin_path(self, *args, **kwargs):
        return self._module.get_bin_path(*args, **kwargs)

    def run_command(self, *args, **kwargs):
        return self._module.run_command(*args, **kwargs)


def raw_name(item):
    """The name an item gives, when it gives one as a string (under the option or its alias)."""
    if not isinstance(item, dict):
        return None
    name = item.get('name', item.get('id'))
    return name if isinstance(name, str) else None


def item_label(index, item):
    name = raw_name(item)
    return 'containers[%d]' % index + (' (%s)' % name if name is not None else '')


class ContainersManager:
    """Converges the items of a project and, with prune, removes the project's other containers."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.validator = ArgumentSpecValidator(argument_spec(CONTAINER))

    # -- input ---------------------------------------------------------------------------------

    def task_problem(self):
        """What makes the whole task impossible before any item is read (nothing is done then), or None."""
        problem = runtime_option_problem(self.params)
        if problem:
            return problem
        project = self.params['project']
        if not project or any(character.isspace() or character in ',\0' for character in project):
            return 'project: %r must be a non-empty name without white space or commas' % (project,)
        if self.params['max_workers'] < 1:
            return 'max_workers: must be at least 1'
        unknown = sorted(set(self.params['defaults']) - ITEM_OPTIONS)
        if unknown:
            return self.unknown_message('defaults', unknown)
        if {'name', 'id'} & set(self.params['defaults']):
            return 'defaults: name is each item\'s own; give it in the items'
        return None

    @staticmethod
    def items_problem(entries):
        """Two items on one container, or on one bundle: refused as a whole, before anything is done."""
        names, bundles = {}, {}
        for index, (name, params, _problem, _before) in enumerate(entries):
            if name is not None and name in names:
                return ('containers: containers[%d] and containers[%d] name the same container %s; give each '
                        'container once' % (names[name], index, name))
            if name is not None:
                names[name] = index
            bundle = os.path.realpath(params['bundle']) if params and params.get('bundle') else None
            if bundle is not None and bundle in bundles:
                return ('containers: containers[%d] and containers[%d] have the same bundle %s; each container '
                        'whose config the module writes needs a bundle of its own' % (bundles[bundle], index, bundle))
            if bundle is not None:
                bundles[bundle] = index
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

    def validate(self, merged):
        """runc_container's argument check of merged options; its secrets join the values never shown."""
        validated = self.validator.validate(merged)
        # Secrets given in any form (a dict, "NAME=value" strings); an empty one hides nothing.
        self.module.no_log_values.update(value for value in validated._no_log_values if value)
        return validated

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
        problem = not_a_dict_problem(merged)
        if problem:
            return None, '%s: %s' % (label, problem)
        validated = self.validate(merged)
        if validated.error_messages:
            return None, '%s: %s' % (label, '; '.join(validated.error_messages))
        params = validated.validated_parameters
        if params['state'] != 'absent' and params['bundle'] and not writes_config(params):
            # The project is an annotation of config.json: the collection writes it for every item
            # with a bundle (one without names an existing container, which keeps its config).
            params['spec'] = {}
        params['project'] = self.params['project']
        return params, None

    def prune_params(self, container_id):
        """(params, problem) of a state=absent task for a container of the project the list no longer names."""
        defaults = self.params['defaults']
        item = {name: defaults[name] for name in _STOP_OPTIONS if defaults.get(name) is not None}
        item.update(name=container_id, state='absent')
        validated = self.validate(dict(item, **self.runtime_values()))
        if validated.error_messages:
            return None, 'prune: %s' % '; '.join(validated.error_messages)
        return validated.validated_parameters, None

    def runtime_values(self):
        return {name: self.params[name] for name in RUNTIME_OPTIONS if self.params[name] is not None}

    # -- the task ------------------------------------------------------------------------------

    def converge_item(self, job):
        params, listed, default_spec, listed_all = job
        item_module = ItemModule(self.module, params)
        try:
            result = ContainerManager(item_module, listed=listed, default_spec=default_spec,
                                      listed_all=listed_all).outcome()
        except BaseException as error:  # pylint: disable=broad-except
            # Whatever one item meets must not take the others' results with it.
            result = dict(failed=True, changed=False, actions=[],
                          msg='name: %s: %s' % (type(error).__name__, error))
        if item_module.warnings:
            result['warnings'] = item_module.warnings
        return result

    def converge(self, jobs, workers):
        if not jobs:
            return []
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
            return list(pool.map(self.converge_item, jobs))

    def run(self):
        problem = self.task_problem()
        if problem:
            self.module.fail_json(msg=problem, changed=False, containers=[], summary={})
        runc = runc_from_params(self.params)
        try:
            listed = runc.list()
        except RuncError as error:
            self.module.fail_json(msg=runtime_fault(error, 'root'), changed=False, containers=[], summary={},
                                  **error_result(error))
        by_id = {state['id']: state for state in listed}
        default_spec = DefaultSpec(runc, effective_root(self.params), rootless=self.params['rootless'] == 'true')

        items = []   # (name, params or None, problem or None, state before)
        for index, item in enumerate(self.params['containers']):
            params, problem = self.item_params(index, item)
            name = (params['name'] or None) if params else raw_name(item)
            before = by_id.get(name) if name is not None else None
            other_project = ((before or {}).get('annotations') or {}).get(ANNOTATION_PROJECT)
            if problem is None and other_project not in (None, self.params['project']):
                problem = ('%s: container %s belongs to project %s; remove it there first (its task with '
                           'state=absent, or its prune)' % (item_label(index, item), name, other_project))
            items.append((name, params, problem, before))
        problem = self.items_problem(items)
        if problem:
            self.module.fail_json(msg=problem, changed=False, containers=[], summary={})

        pruned = []
        if self.params['prune']:
            if any(name is None for name, _params, _problem, _before in items):
                self.module.warn('prune: skipped, an item gives no name the module can read, and its container '
                                 'must not be taken for one the list no longer names')
            else:
                named = {name for name, _params, _problem, _before in items}
                for container_id in sorted(by_id):
                    state = by_id[container_id]
                    annotations = state.get('annotations') or {}
                    # The project's annotation on a config the collection wrote (with its digest): a
                    # config.json of somebody else's that copies the annotation is not the project's.
                    if container_id not in named and annotations.get(ANNOTATION_PROJECT) == self.params['project'] \
                            and ANNOTATION_CONFIG_DIGEST in annotations:
                        params, problem = self.prune_params(container_id)
                        pruned.append((container_id, params, problem, state))

        # A set --log is one file for every runtime call, read back by position: one call at a time then.
        workers = 1 if self.params['log'] else self.params['max_workers']
        # The pruned first: an item may take over a port or a bundle of theirs.
        entries = pruned + items
        outcomes = iter(self.converge([(params, before, default_spec, listed) for _name, params, problem, before
                                       in pruned if problem is None], workers)
                        + self.converge([(params, before, default_spec, listed) for _name, params, problem, before
                                         in items if problem is None], workers))
        containers, summary, diffs = {}, {key: [] for key in SUMMARY_KEYS}, []
        for position, (name, params, problem, before) in enumerate(entries):
            result = dict(failed=True, msg=problem, changed=False, actions=[]) if problem else next(outcomes)
            label = name if name is not None else 'containers[%d]' % (position - len(pruned))
            result['name'] = label
            for message in result.pop('warnings', []):
                self.module.warn('%s: %s' % (label, message))
            diff = result.pop('diff', None)
            if diff is not None and result['changed']:
                diffs.append(dict(diff, before_header=label, after_header=label))
            containers[position] = result
            for kind in self.kinds_of_change(result, before, params['state'] if params else None):
                summary[kind].append(label)
        # Reported in the list's order, the pruned after.
        ordered = [containers[position] for position in range(len(pruned), len(entries))] + \
            [containers[position] for position in range(len(pruned))]
        outcome = dict(changed=any(result['changed'] for result in ordered), containers=ordered, summary=summary)
        if diffs:
            outcome['diff'] = diffs
        failed = [result for result in ordered if result.get('failed')]
        if failed:
            self.module.fail_json(msg='containers: %d of %d failed: %s' % (
                len(failed), len(ordered),
                '; '.join(result['msg'] if result['msg'].startswith(('containers[', 'prune:')) else
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
        subcommands = {subcommand_of(argv) for argv in result['actions']}
        kinds = []
        # A supervised item's systemctl start and stop count as runc's start and kill.
        if subcommands & {'start', 'resume'} and not subcommands & {'kill', 'stop'}:
            kinds.append('started')
        if subcommands & {'kill', 'pause', 'stop'}:
            kinds.append('stopped')
        # Anything else a task brought in line (an update, config.json, a network bound again).
        return kinds + ['updated'] if 'update' in subcommands or not kinds else kinds
