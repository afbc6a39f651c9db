# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An action plugin that checks the task's arguments on the controller before the module runs."""

from __future__ import annotations

from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash


class CheckedAction(ActionBase):
    """Fails the task with problem()'s message, or runs the module as it is."""

    TRANSFERS_FILES = False

    def problem(self, task_args):
        """A message naming the option at fault, or None to run the module."""
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = True
        self._supports_async = True
        result = super().run(tmp, task_vars)
        del tmp

        problem = self.problem(self._task.args)
        if problem:
            result.update(failed=True, changed=False, msg=problem)
            return result
        return merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=self._task.async_val))
