# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rows of the option table for resources in plain units (memory: 512M, cpus: 1.5), and comparisons."""

from __future__ import annotations

RESOURCE_ROWS = []
