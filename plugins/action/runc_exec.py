# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Refuse runc_exec's pre-0.2.0 option forms on the controller, naming the option; then run the module."""

from __future__ import annotations

from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

from ansible_collections.oci_runtime.runc.plugins.module_utils._exec import old_form_problem


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        # The module itself skips in check mode.
        self._supports_check_mode = True
        self._supports_async = True
        result = super().run(tmp, task_vars)
        del tmp

        problem = old_form_problem(self._task.args)
        if problem:
            result.update(failed=True, changed=False, msg=problem)
            return result
        return merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=self._task.async_val))
