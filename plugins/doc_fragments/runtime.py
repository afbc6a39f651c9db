# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The runtime options shared by every module, and the action group every module
    # is in: set them once for a play with module_defaults and group/oci_runtime.runc.runc.
    DOCUMENTATION = r'''
attributes:
  action_group:
    support: full
    description: Use C(group/oci_runtime.runc.runc) in C(module_defaults) to set the runtime options once.
    membership:
      - oci_runtime.runc.runc
options:
  runtime_path:
    description:
      - The runtime binary, a name looked up on E(PATH) or an absolute path. It must not be empty.
      - Any runtime with runc's command line works, for example C(crun).
    type: str
    default: runc
  root:
    description:
      - The runtime's state folder (C(--root)).
      - Defaults to the runtime's own default, C(/run/runc) for runc run as root.
      - Use a folder of your own to keep the containers of a play apart from everybody else's.
      - It must be an absolute path, and a folder if it exists; anything else fails the task before
        anything runs.
    type: path
  debug:
    description: Make the runtime log at debug level (C(--debug)).
    type: bool
    default: false
  log:
    description:
      - File the runtime logs to (C(--log)).
      - Without it, the collection gives each container-starting call a private log of its own to
        read the runtime's error message from.
    type: path
  log_format:
    description: Format of the runtime's log (C(--log-format)).
    type: str
    choices: [text, json]
  systemd_cgroup:
    description: Let systemd manage the container's cgroups (C(--systemd-cgroup)).
    type: bool
    default: false
  rootless:
    description:
      - Whether the runtime runs rootless (C(--rootless)). V(auto) lets the runtime decide.
    type: str
    choices: [auto, 'true', 'false']
    default: auto
  runtime_timeout:
    description:
      - Seconds one runtime call may take before it is killed and the task fails.
      - V(0) means no limit. A negative number fails the task before anything runs.
    type: float
    default: 600
notes:
  - Set these options once for many tasks with C(module_defaults) and the action group
    C(group/oci_runtime.runc.runc).
'''
