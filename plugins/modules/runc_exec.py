#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: runc_exec
short_description: Run a process in a running OCI container with runc exec
version_added: 0.1.0
description:
  - Runs a process inside a running container (C(runc exec)) and returns its exit status and output.
  - The process starts from the container's own process settings (environment, user, additional
    groups, capabilities, C(noNewPrivileges), rlimits, AppArmor profile, SELinux label, working
    directory) it was made with, with the options below applied on top, as C(runc exec) does on the
    command line. They are read from the collection's record of the container in the runc root, or,
    for a container made without the collection, from the bundle's C(config.json). It never gets more privilege than the container's own
    process unless O(user), O(capabilities) or O(no_new_privileges) ask for it.
  - When there is no record and the bundle's C(config.json) is missing, unreadable, not JSON or has no
    C(process) object, or
    when C(runc state) names no absolute bundle, the task fails and nothing runs; no default settings
    take their place. So it does when the process settings the task reads or changes have a shape the
    OCI spec does not allow (C(env) not a list of strings, C(user) or C(capabilities) not objects, a
    capability set not a list of names when O(capabilities) is given); the message names the field.
  - O(env), O(secret_env), O(cwd), O(user), O(capabilities) and O(no_new_privileges) are the options of
    M(oci_runtime.runc.runc_container) of those names, with the same merge rules; their base is the
    container's own process instead of the runtime's default spec.
  - Like M(ansible.builtin.command), it always reports a change; use C(changed_when) to say otherwise.
author:
  - oci_runtime.runc developers (@oci-runtime)
extends_documentation_fragment:
  - oci_runtime.runc.runtime
attributes:
  check_mode:
    support: none
    description: Nothing runs in check mode; the task is reported as skipped.
  diff_mode:
    support: none
    description: Running a process has nothing to compare.
options:
  name:
    description: Id of a running container.
    type: str
    required: true
    aliases: [id]
  argv:
    description: Command line of the process.
    type: list
    elements: str
    required: true
  env:
    description: Environment variables, added to or overriding the container's.
    type: dict
  secret_env:
    description:
      - Environment variables whose values are secret (passwords, tokens), added to or overriding the
        container's.
      - Their values never appear in the task's result, messages or logs, nor on the runtime's command
        line; the process description runc reads is a file only root can read, in a folder only root
        can enter, removed when the task ends.
      - A name may not be in both O(env) and O(secret_env).
    type: dict
  cwd:
    description: Working directory inside the container; the container's own by default.
    type: str
  user:
    description:
      - User and groups the process runs as (C(process.user)); the fields given replace those of the
        container's process, the others stay the container's (O(user.uid) alone keeps the container's
        group and additional groups).
      - Give O(user.name) or O(user.uid), not both.
    type: dict
    suboptions:
      name:
        description:
          - V(user) or V(user:group), resolved from C(/etc/passwd) and C(/etc/group) of the container's
            rootfs (as C(runc state) names it) on the managed host, with the user's supplementary groups
            in place of the container's. An unknown name fails the task, and nothing runs.
        type: str
      uid:
        description: User id.
        type: int
      gid:
        description: Group id.
        type: int
      additional_gids:
        description: Supplementary group ids (C(process.user.additionalGids)), in place of the container's.
        type: list
        elements: int
      umask:
        description:
          - Refused by this module, which shares the suboptions of O(user) with
            M(oci_runtime.runc.runc_container); C(runc exec) applies no umask to the process it starts.
            Set it in the command instead, for example V(sh -c 'umask 027; exec ...').
        type: raw
  capabilities:
    description:
      - Capabilities of the process, relative to the container's process (C(process.capabilities)).
        O(capabilities.drop) applies first, to every capability set the container's process has; then
        O(capabilities.add), to those sets but the inheritable one (bounding, effective, permitted, and
        ambient where it has it).
      - A process of a user other than root keeps only its ambient capabilities, which the kernel honours
        only when they are inheritable too; it gets an added capability only where the container's
        process makes it inheritable.
      - Names with or without C(CAP_), in any case.
      - Before 0.2.0 this was a list of names added; give O(capabilities.add) instead.
    type: dict
    suboptions:
      add:
        description: Capabilities to grant.
        type: list
        elements: str
      drop:
        description: Capabilities to take away; V(ALL) takes every one, so that O(capabilities.add) lists the
          only ones left.
        type: list
        elements: str
  no_new_privileges:
    description: Set the no_new_privs bit of the process (C(process.noNewPrivileges)); the container's setting
      by default.
    type: bool
  stdin:
    description: Data written to the standard input of the process, which then sees end of file.
    type: str
  timeout:
    description:
      - Seconds the process may run. After that it is killed (SIGKILL) and the task fails.
      - V(0) waits as long as it takes.
    type: float
    default: 0
  detach:
    description:
      - Start the process and return at once with its pid (RV(pid)), without waiting for it.
      - Its output goes to C(/dev/null).
    type: bool
    default: false
  check_rc:
    description: Fail when the process exits with a status other than 0 (the message starts with C(argv:)).
    type: bool
    default: true
  strip_empty_ends:
    description: Remove empty lines at the end of RV(stdout) and RV(stderr), as M(ansible.builtin.command) does.
    type: bool
    default: true
notes:
  - Every failure's message starts with the option at fault, for example C(name:) for a container that
    does not exist or whose settings cannot be read, C(argv:) for a process runc cannot start,
    C(runtime_path:) for a runtime that does not answer as runc does.
seealso:
  - module: oci_runtime.runc.runc_container
'''

EXAMPLES = r'''
- name: Read a file in the container
  oci_runtime.runc.runc_exec:
    name: web
    root: /run/runc-apps
    argv: [cat, /etc/hostname]
  register: hostname
  changed_when: false

- name: Run a migration as an unprivileged user, with a time limit
  oci_runtime.runc.runc_exec:
    name: app
    argv: [/app/migrate, --up]
    user:
      uid: 1000
      gid: 1000
      additional_gids: [2000]
    env:
      DATABASE_URL: postgres://db/app
    secret_env:
      DATABASE_PASSWORD: "{{ vault_database_password }}"
    timeout: 300

- name: Run as a user named in the container's /etc/passwd, without any capability
  oci_runtime.runc.runc_exec:
    name: app
    argv: [/app/report]
    user:
      name: app
    capabilities:
      drop: [ALL]
    no_new_privileges: true

- name: Change the MTU, as root with one capability more than the container's process has
  oci_runtime.runc.runc_exec:
    name: app
    argv: [ip, link, set, eth0, mtu, '1400']
    user:
      uid: 0
      gid: 0
    capabilities:
      add: [NET_ADMIN]

- name: Feed a script through stdin, and accept a non-zero exit
  oci_runtime.runc.runc_exec:
    name: app
    argv: [sh]
    stdin: |
      test -f /tmp/ready
    check_rc: false
  register: ready
'''

RETURN = r'''
rc:
  description: Exit status of the process; 0 when detached.
  returned: when the process ran
  type: int
  sample: 0
stdout:
  description: Standard output of the process.
  returned: when the process ran
  type: str
  sample: web-1
stdout_lines:
  description: RV(stdout) split into lines.
  returned: when the process ran
  type: list
  elements: str
  sample: [web-1]
stderr:
  description: Standard error of the process.
  returned: when the process ran
  type: str
  sample: ''
stderr_lines:
  description: RV(stderr) split into lines.
  returned: when the process ran
  type: list
  elements: str
  sample: []
pid:
  description: Host pid of the detached process.
  returned: when O(detach=true)
  type: int
  sample: 4711
cmd:
  description: The runtime command that ran the process.
  returned: always
  type: list
  elements: str
  sample: [runc, --root, /run/runc-apps, exec, --process, /tmp/runc-exec-1a2b/runc-process-3c4d.json, web]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci_runtime.runc.plugins.module_utils._exec import ExecRunner
from ansible_collections.oci_runtime.runc.plugins.module_utils._options import EXEC, argument_spec


def main():
    # Without check mode support, Ansible skips the task in check mode.
    module = AnsibleModule(argument_spec=argument_spec(EXEC), supports_check_mode=False)
    ExecRunner(module).run()


if __name__ == '__main__':
    main()
