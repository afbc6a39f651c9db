# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check each item of runc_containers on the controller as runc_container's own task is checked."""

from __future__ import annotations

from ansible_collections.oci_runtime.runc.plugins.action.runc_container import ActionModule as ContainerAction
from ansible_collections.oci_runtime.runc.plugins.module_utils._container_config import hide_secrets
from ansible_collections.oci_runtime.runc.plugins.plugin_utils._checked_action import CheckedAction

# The task's own options: not an item's, never passed to an item's check.
_TASK_OPTIONS = ('project', 'containers', 'defaults', 'prune', 'max_workers')


class ActionModule(CheckedAction):
    def problem(self, task_args):
        containers = task_args.get('containers') or []
        defaults = task_args.get('defaults') or {}
        if not isinstance(containers, list) or not isinstance(defaults, dict):
            return None   # the module's argument check says so, word for word
        shared = {name: value for name, value in task_args.items() if name not in _TASK_OPTIONS}
        problems = []
        secrets = []
        for index, item in enumerate(containers):
            if not isinstance(item, dict):
                continue   # the module names it
            merged = dict(defaults, **item)
            secrets += [str(value) for value in (merged.get('secret_env') or {}).values()]
            problem = ContainerAction._check_config(dict(merged, **shared))
            if problem:
                problems.append('containers[%d] (%s): %s' % (index, item.get('name'), problem))
        message = '; '.join(problems)
        return hide_secrets(message, secrets) if message else None
