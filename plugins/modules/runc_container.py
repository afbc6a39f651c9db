#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: runc_container
short_description: Manage the lifecycle and configuration of an OCI container with runc
version_added: 0.1.0
description:
  - Creates, starts, pauses, resumes, stops and deletes a container with runc (or a runtime with the
    same command line, such as crun), and keeps its OCI configuration as the task describes it.
  - Reads the container first (C(runc state)) and changes only what differs. A second identical run
    reports no change and calls no runtime command that changes anything.
  - With O(spec) or any of the config options (O(args), O(env), ...), the module writes
    C(<bundle>/config.json) from the runtime's default spec, C(runc spec), merged with them. With
    O(bundle) alone, the bundle's C(config.json) is used as it is.
  - A difference in O(resources) that C(runc update) can apply is applied to the live container (same
    pid); any other difference re-creates the container, unless O(recreate=never).
  - The config is checked on the controller against the OCI runtime-spec JSON schema before anything
    changes (see O(schema_path)).
author:
  - oci_runtime.runc developers (@oci-runtime)
extends_documentation_fragment:
  - oci_runtime.runc.runtime
attributes:
  check_mode:
    support: full
    description: No runtime call that changes a container and no file write; RV(actions) lists the
      commands that would run.
  diff_mode:
    support: full
    description: Before and after show the status and the whole config, not only the first difference.
  action_group:
    support: full
    description: Use C(group/oci_runtime.runc.runc) in C(module_defaults) to set the runtime options once.
    membership:
      - oci_runtime.runc.runc
options:
  name:
    description: Container id. Letters, digits, V(_), V(+), V(-) and V(.); not V(.) or V(..) alone.
    type: str
    required: true
    aliases: [id]
  state:
    description:
      - V(running) the container's process runs; V(paused) it exists and is frozen.
      - V(present) the container exists. A new one is created but not started; an existing one keeps its
        status, also when it has to be re-created (a stopped one is made anew and stopped again).
      - V(stopped) the container exists and its process is not running. A missing container is created
        and stopped without ever running its process.
      - V(absent) the container is stopped (O(kill_signal), O(stop_timeout), then SIGKILL) and deleted.
      - runc cannot start a stopped container again, so a stopped container asked to be V(running) or
        V(paused) is deleted and created anew, whatever O(recreate) says.
    type: str
    choices: [present, running, paused, stopped, absent]
    default: running
  bundle:
    description:
      - Absolute path of the OCI bundle folder. Needed whenever the container has to be created.
      - With O(spec) or a config option, the module creates the folder (mode 0700) when it is missing
        and writes its C(config.json) (mode 0600, atomically) whenever the content differs. It never
        overwrites a C(config.json) it did not write (one without the C(oci_runtime.runc.config-digest)
        annotation); the task fails instead, before anything changes.
      - Without them, the bundle's own C(config.json) is used unchanged.
      - A different bundle than the existing container's re-creates the container.
    type: path
  spec:
    description:
      - OCI runtime config, deep-merged over the runtime's default spec with C(process.terminal) false.
        Dicts merge key by key; lists and other values replace; a V(null) value removes the key.
      - The config options below are applied after O(spec) and win over the same fields in it.
    type: dict
  args:
    description: Command line of the container's process (C(process.args)).
    type: list
    elements: str
  env:
    description:
      - Environment variables (C(process.env)), added to or overriding those of the default spec.
      - Values must be strings or numbers; quote V(yes), V(no) and V(null).
    type: dict
  secret_env:
    description:
      - Environment variables whose values are secrets (passwords, tokens), added like O(env).
      - The values reach the container's C(config.json) (mode 0600) and its process, and never a return
        value, a diff, a log line or a warning. Their names (not values) are kept in the annotation
        C(oci_runtime.runc.secret-env), so that M(oci_runtime.runc.runc_info) masks them too.
      - A name may not be in both O(env) and O(secret_env).
    type: dict
  cwd:
    description: Working directory of the process inside the container (C(process.cwd)).
    type: str
  hostname:
    description: Host name of the container (C(hostname)).
    type: str
  rootfs:
    description:
      - Root filesystem folder (C(root.path)), absolute or relative to O(bundle). It must exist.
      - The default spec uses V(rootfs).
    type: str
  readonly_rootfs:
    description:
      - Mount the root filesystem read-only (C(root.readonly)).
      - When not set, the runtime's default applies (runc's default spec is read-only).
    type: bool
  annotations:
    description: Annotations of the container, merged with those of O(spec).
    type: dict
  mounts:
    description:
      - Mounts added to those of the default spec and O(spec) (C(mounts)); one with the C(destination)
        of an existing mount replaces it in its place in the list, since mount order matters (a mount
        on C(/dev) after C(/dev/pts) would hide it).
      - "Each is an OCI mount, for example V({destination: /data, type: bind, source: /srv/data,
        options: [rbind, rw]})."
    type: list
    elements: dict
  cgroups_path:
    description:
      - cgroup of the container (C(linux.cgroupsPath)).
      - Containers with the same id on several runc roots of one machine need different paths.
    type: str
  resources:
    description:
      - OCI C(linux.resources), merged with those of O(spec).
      - Changes to C(memory.limit), C(memory.reservation), C(memory.swap), C(cpu.*), C(blockIO.weight)
        and C(pids.limit) are applied in place with C(runc update); removing one of them, or changing
        anything else (devices, hugepage limits, ...), re-creates the container.
      - Numbers may be given as text (V("{{ limit }}") renders as text before ansible-core 2.19); fields
        the OCI spec types as strings (C(cpu.cpus), C(cpu.mems), ...) stay text.
      - If C(runc update) refuses a value (a memory limit below the current usage, say), the task fails
        and C(config.json) keeps the values the container really runs with.
    type: dict
  recreate:
    description:
      - V(auto) re-creates the container when its config differs from the task in a way
        C(runc update) cannot apply.
      - V(never) fails instead, listing the differences.
      - V(always) re-creates an existing container on every run.
    type: str
    choices: [auto, never, always]
    default: auto
  runtime_change:
    description:
      - What to do with an existing container when the runtime changed since it was created (another
        O(runtime_path), or a runtime whose default spec, C(runc spec), differs, as after an upgrade).
      - V(keep) leaves it running; the task's options are compared over the default spec the container
        was made from, so a runtime upgrade re-creates nothing.
      - V(recreate) re-creates it over the new runtime's default spec (only containers whose config the
        module wrote; the reasons are in RV(recreate_reasons)).
    type: str
    choices: [keep, recreate]
    default: keep
  kill_signal:
    description: Signal that asks the process to stop, a name (V(SIGTERM), V(TERM)) or a number.
    type: raw
    default: SIGTERM
  stop_timeout:
    description: Seconds to wait after O(kill_signal) before sending SIGKILL.
    type: float
    default: 10
  kill_all:
    description: Send the stop signals to every process of the container (C(runc kill --all)).
    type: bool
    default: false
  force:
    description: With O(state=absent), delete a running container at once with C(runc delete --force)
      (SIGKILL), without O(kill_signal) and O(stop_timeout).
    type: bool
    default: false
  pid_file:
    description: File the runtime writes the container's pid to on creation (C(--pid-file)).
    type: path
  no_pivot:
    description: Do not use pivot_root to jail the process (C(--no-pivot)), for a rootfs on a ramdisk.
    type: bool
    default: false
  no_new_keyring:
    description: Do not create a new session keyring for the container (C(--no-new-keyring)).
    type: bool
    default: false
  console_socket:
    description:
      - Path of an AF_UNIX socket that receives the pty master of a terminal container
        (C(--console-socket)). Required when C(process.terminal) is true.
    type: path
  stdout_path:
    description:
      - File the container's standard output is appended to; relative paths are relative to O(bundle).
      - Without it, output goes to C(/dev/null). Never a pipe, which would block the runtime.
    type: str
  stderr_path:
    description: Like O(stdout_path), for standard error.
    type: str
  lock_timeout:
    description:
      - Seconds to wait for another task managing the same container (a lock file in the runc root
        serialises them).
    type: float
    default: 120
  schema_path:
    description:
      - Folder of the OCI runtime-spec JSON schema (C(config-schema.json) and the files it refers to)
        on the controller.
      - Defaults to the schema of Debian's golang-github-opencontainers-specs-dev package when it is
        installed on the controller, otherwise to a compact schema of the collection's own.
      - Checking needs the jsonschema Python package on the controller, not on the managed hosts.
    type: path
  validate_spec:
    description: Check the config against the schema on the controller before anything changes.
    type: bool
    default: true
notes:
  - The module stores digests of the config it created the container from as annotations
    (C(oci_runtime.runc.config-digest), C(oci_runtime.runc.resources-digest)), so C(runc state) alone
    tells whether a container matches. Resource updates applied later are recorded in
    C(<root>/.oci_runtime_runc.<name>.json); C(<root>/.oci_runtime_runc.<name>.lock) serialises tasks.
  - The runtime's default spec is cached per runtime path in C(<root>/.oci_runtime_runc~default-spec.*.json).
  - The record of each container holds the default spec it was made from; an existing container is
    compared with the task over that spec, never over today's (see O(runtime_change) and the
    collection's docs/idempotency.md).
  - When re-creating fails (create or start), the previous container is made again as it was, with its
    config.json, create options, output files and status, paused included.
seealso:
  - module: oci_runtime.runc.runc_exec
  - name: OCI runtime specification
    description: What a config.json may hold.
    link: https://github.com/opencontainers/runtime-spec/blob/main/config.md
'''

EXAMPLES = r'''
- name: Run a web server from a busybox bundle, with its own runc root
  oci_runtime.runc.runc_container:
    name: web
    root: /run/runc-apps
    bundle: /srv/containers/web
    args: [httpd, -f, -p, "8080"]
    env:
      TZ: UTC
    readonly_rootfs: true
    resources:
      memory:
        limit: 134217728

- name: Raise the memory limit of the live container (runc update, same pid)
  oci_runtime.runc.runc_container:
    name: web
    root: /run/runc-apps
    bundle: /srv/containers/web
    args: [httpd, -f, -p, "8080"]
    env:
      TZ: UTC
    readonly_rootfs: true
    resources:
      memory:
        limit: 268435456

- name: Use a bundle whose config.json is managed elsewhere
  oci_runtime.runc.runc_container:
    name: batch
    bundle: /srv/containers/batch
    state: present

- name: Pause, then remove with a gentle stop
  oci_runtime.runc.runc_container:
    name: web
    root: /run/runc-apps
    state: "{{ item }}"
    kill_signal: SIGINT
    stop_timeout: 30
  loop: [paused, absent]

- name: Set the runtime options once for a whole block
  module_defaults:
    group/oci_runtime.runc.runc:
      root: /run/runc-apps
      runtime_path: /usr/local/bin/runc
  block:
    - name: Make sure the worker runs
      oci_runtime.runc.runc_container:
        name: worker
        bundle: /srv/containers/worker
        spec:
          process:
            args: [sh, -c, "exec worker --queue jobs"]
            capabilities:
              bounding: [CAP_NET_BIND_SERVICE]
          linux:
            seccomp: null
'''

RETURN = r'''
container:
  description: The container after the task (before it in check mode); null when it does not exist.
  returned: always
  type: dict
  contains:
    id:
      description: Container id.
      type: str
      sample: web
    pid:
      description: Host pid of the container's init process; 0 when stopped.
      type: int
      sample: 4242
    status:
      description: Runtime status.
      type: str
      sample: running
    bundle:
      description: Bundle folder.
      type: str
      sample: /srv/containers/web
    rootfs:
      description: Root filesystem folder on the host.
      type: str
      sample: /srv/containers/web/rootfs
    created:
      description: Creation time, RFC 3339.
      type: str
      sample: "2026-11-28T10:21:50.351504889Z"
    annotations:
      description: Annotations of the config the container was created from.
      type: dict
      sample: {"oci_runtime.runc.config-digest": "5c0f..."}
    owner:
      description: Owner of the container's state, as runc reports it.
      type: str
      sample: ""
actions:
  description:
    - Every runtime command that changed the container, as argv lists, in order.
    - In check mode, the commands that would run.
  returned: always
  type: list
  elements: list
  sample: [["runc", "--root", "/run/runc-apps", "update", "--resources=-", "web"]]
recreate_reasons:
  description: Why the container was (or would be) re-created, each starting with the option or part of the
    config at the origin; empty when it was not.
  returned: always
  type: list
  elements: str
  sample: ["config: process.args"]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci_runtime.runc.plugins.module_utils._container import ContainerManager
from ansible_collections.oci_runtime.runc.plugins.module_utils._options import CONTAINER, argument_spec


def main():
    # schema_path and validate_spec are the action plugin's: it checks the
    # config on the controller before this module runs.
    module = AnsibleModule(argument_spec=argument_spec(CONTAINER), supports_check_mode=True)
    ContainerManager(module).run()


if __name__ == '__main__':
    main()
