# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check each item of runc_containers on the controller as runc_container's own task is checked.

The items' secret_env values are no_log only once the module has read the
items: a failure of Ansible's own argument check (a bad max_workers, say)
would echo them. Every result is cleaned of them here too.
"""

from __future__ import annotations

from ansible_collections.oci_runtime.runc.plugins.action.runc_container import ActionModule as ContainerAction
from ansible_collections.oci_runtime.runc.plugins.module_utils._container_config import MASKED_VALUE, hide_secrets
from ansible_collections.oci_runtime.runc.plugins.plugin_utils._checked_action import CheckedAction

# The task's own options: not an item's, never passed to an item's check.
_TASK_OPTIONS = ('project', 'containers', 'defaults', 'prune', 'max_workers')


def secret_values(task_args):
    """The secret_env values of the defaults and of every item, in either form (a dict, NAME=value strings)."""
    sources = [task_args.get('defaults')] + list(task_args.get('containers') or [])
    values = set()
    for source in sources:
        secrets = source.get('secret_env') if isinstance(source, dict) else None
        if isinstance(secrets, dict):
            values.update(str(value) for value in secrets.values() if value not in (None, ''))
        elif isinstance(secrets, list):
            values.update(entry.split('=', 1)[1] for entry in secrets
                          if isinstance(entry, str) and '=' in entry and entry.split('=', 1)[1])
    return sorted(values, key=len, reverse=True)


def without_secrets(value, secrets):
    """value with every secret in its strings masked, at any depth."""
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, MASKED_VALUE)
        return value
    if isinstance(value, dict):
        return {key: without_secrets(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [without_secrets(item, secrets) for item in value]
    return value


class ActionModule(CheckedAction):
    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        secrets = secret_values(self._task.args)
        return without_secrets(result, secrets) if secrets else result

    def problem(self, task_args):
        containers = task_args.get('containers') or []
        defaults = task_args.get('defaults') or {}
        if not isinstance(containers, list) or not isinstance(defaults, dict):
            return None   # the module's argument check says so, word for word
        shared = {name: value for name, value in task_args.items() if name not in _TASK_OPTIONS}
        problems = []
        for index, item in enumerate(containers):
            if not isinstance(item, dict):
                continue   # the module names it
            merged = dict(defaults)
            merged.update(item)
            merged.update(shared)
            try:
                problem = ContainerAction._check_config(merged)
            except (TypeError, ValueError, AttributeError):
                problem = None   # options of other shapes: the module's own check names them
            if problem:
                problems.append('containers[%d] (%s): %s' % (index, item.get('name'), problem))
        message = '; '.join(problems)
        return hide_secrets(message, secret_values(task_args)) if message else None
