# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check runc_run's config on the controller as runc_container's is checked, then run the module."""

from __future__ import annotations

from ansible_collections.oci_runtime.runc.plugins.action.runc_container import ActionModule as ContainerAction
from ansible_collections.oci_runtime.runc.plugins.module_utils._option import RUN


class ActionModule(ContainerAction):
    MODULE = RUN
