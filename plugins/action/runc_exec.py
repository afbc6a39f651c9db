# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Refuse runc_exec's pre-0.2.0 option forms on the controller, naming the option; then run the module."""

from __future__ import annotations

from ansible_collections.oci_runtime.runc.plugins.module_utils._exec import old_form_problem
from ansible_collections.oci_runtime.runc.plugins.plugin_utils._checked_action import CheckedAction


class ActionModule(CheckedAction):
    def problem(self, task_args):
        return old_form_problem(task_args)
