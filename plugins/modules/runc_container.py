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
  - oci_runtime.runc.container_config
attributes:
  check_mode:
    support: full
    description: No runtime call that changes a container and no file write; RV(actions) lists the
      commands that would run.
  diff_mode:
    support: full
    description: Before and after show the status and the whole config, not only the first difference.
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
        annotation); the task fails instead, before anything changes. Nor does it write one inside the runc
        root, or into the container's rootfs folder itself.
      - Without them, the bundle's own C(config.json) is used unchanged.
      - For a bundle made by M(oci_runtime.runc.runc_bundle), O(spec) and the config options are laid over the
        config made from the image instead of the runtime's default spec (the image's args, env, user and so
        on stay unless the task sets them), and a new image content in the bundle re-creates the container.
      - A different bundle than the existing container's re-creates the container.
    type: path
  network:
    description:
      - The container's network (see docs/networking.md). runc configures no network itself; the module
        sets the network entry of C(linux.namespaces) and, for V(cni), makes and configures the namespace.
      - Not together with a V(network) entry of O(namespaces). A change re-creates the container.
    type: dict
    suboptions:
      mode:
        description:
          - V(none), a network namespace of the container's own with only a loopback interface (runc's
            default); V(host), the host's network (as O(namespaces) V(network=host), with the host's
            C(/etc/resolv.conf) and C(/etc/hosts)); V(path), join the namespace at O(network.path);
            V(cni), a namespace the module makes, C(/run/netns/runc-<8 hex of the root>-<name>), configured
            by the plugins of a CNI network before C(runc create).
          - With V(cni) the module runs the plugins with C(ADD) (the result is kept in
            C(/var/lib/oci-runtime-runc/networks/), so that later runs can C(CHECK) it and C(DEL) it, after
            a reboot too), C(DEL) before the container is re-created or removed, and removes the namespace.
            A namespace file removed behind the module's back while the container runs is bound again;
            a failed C(CHECK) re-creates the container with a new set-up.
          - A plugin failing leaves nothing behind (its own C(DEL) runs, the namespace and the state file go);
            the error names the plugin and carries its message.
        type: str
        choices: [none, host, path, cni]
        default: none
      path:
        description: The network namespace to join with O(network.mode=path), such as V(/run/netns/blue).
        type: path
      name:
        description:
          - With O(network.mode=cni), the name of a network whose config list (C(.conflist)) or single config
            (C(.conf), C(.json)) is in O(network.config_dir); the first file holding it, by file name.
          - Exactly one of O(network.name) and O(network.config) is required with V(cni).
        type: str
      config:
        description:
          - With O(network.mode=cni), the network's config list given inline (C(cniVersion), C(name),
            C(plugins)), or one plugin's config. cniVersion 0.3.0 or later.
        type: dict
      config_dir:
        description: Where O(network.name) is looked up.
        type: path
        default: /etc/cni/net.d
      plugin_dirs:
        description: Folders of the CNI plugin programs (C(CNI_PATH)); every plugin of the network must be
          in one of them before anything is done.
        type: list
        elements: path
        default: [/usr/lib/cni, /opt/cni/bin, /usr/libexec/cni]
      interface:
        description: Name of the container's interface (C(CNI_IFNAME)).
        type: str
        default: eth0
      ports:
        description:
          - Ports of the host published to the container (the C(portMappings) capability, which the portmap
            plugin serves); the network must have a plugin with that capability.
          - A host port another container of the collection publishes, or that a process of the host
            listens on, is refused before anything changes.
        type: list
        elements: dict
        suboptions:
          host_port:
            description: Port on the host, 1 to 65535.
            type: int
            required: true
          container_port:
            description: Port in the container, 1 to 65535.
            type: int
            required: true
          protocol:
            description: Protocol of the port.
            type: str
            choices: [tcp, udp, sctp]
            default: tcp
          host_ip:
            description: Address of the host the port is published on; empty for every address.
            type: str
            default: ''
      timeout:
        description: Seconds each plugin call may take before it is killed and the task fails.
        type: float
        default: 60.0
  comparisons:
    description:
      - What the comparison with an existing container leaves out. Keys are option names (V(env),
        V(hostname), V(memory), ...; each stands for its place in the config, V(env) and V(secret_env) for
        the whole C(process.env)) or dotted paths of the OCI config (V(process.env),
        V(linux.resources.memory)); values are V(strict) (the default) or V(ignore).
      - An ignored part is taken out of both the existing container's config and the task's before they
        are compared, so a difference there neither re-creates nor updates the container; C(config.json)
        and the diff keep showing what the container runs with. A container re-created for another
        reason gets the task's values.
      - The create options O(no_pivot), O(no_new_keyring), O(stdout_path) and O(stderr_path) may be
        ignored too.
      - An option stands for its main place only, and a whole one; what it also writes elsewhere is still
        compared. V(volumes), V(tmpfs) and V(mounts) all stand for the whole C(mounts) list; V(namespaces)
        for C(linux.namespaces), not the mounts and host name it may change; V(devices) for
        C(linux.devices), not their C(linux.resources.devices) rules. A path into a list
        (V(process.env.FOO)) is refused, since only a whole list can be ignored.
      - Needs the config the container was made with (the collection's record, or the bundle's
        C(config.json) for a container made without it); without it, the module warns and compares the
        whole config.
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
    description:
      - Signal that asks the process to stop, a name (V(SIGTERM), V(TERM)) or a number.
      - Without it, the image's StopSignal for a bundle made by M(oci_runtime.runc.runc_bundle), else
        V(SIGTERM).
    type: raw
  stop_timeout:
    description:
      - Seconds to wait after O(kill_signal) before sending SIGKILL.
      - For a supervised container (O(restart)), the unit's C(TimeoutStopSec=), at least a second (it also
        bounds the C(runc delete) after the stop); V(0) stops it with SIGKILL at once.
    type: float
    default: 10
  kill_all:
    description: Send the stop signals to every process of the container (C(runc kill --all)).
    type: bool
    default: false
  restart:
    description:
      - Whether systemd brings the container back when its process exits and at boot
        (see the supervision guide, C(docs/supervision.md)).
      - V(on-failure) and V(always) have the module write, enable and start a systemd service unit
        C(oci-runc-<name>-<hash of the root>.service) in C(/etc/systemd/system) that runs the
        container (C(runc run --detach)) with that C(Restart=) policy. systemd then starts it at boot
        and after each crash (after O(restart_sec), at most O(start_limit_burst) times in
        O(start_limit_interval)).
      - With it, O(state=running) means the unit is enabled and running the container;
        O(state=stopped) that the unit is stopped and disabled (stopping it deletes the container);
        O(state=absent) that neither the unit nor the container exists. O(state=present) and
        O(state=paused) are refused.
      - V(no) runs the container with runc alone; for a container a unit of the collection's runs,
        the unit is stopped and removed and the container made again without it. Quote it in YAML
        (V("no")) or use V(false).
      - Unset, the task keeps what runs the container now (its unit, with the unit's policy, or runc
        alone), so that a task written without this option never takes a container from systemd.
      - The host must run systemd as PID 1; elsewhere the task fails, never ignoring the option.
        A unit of that name the collection did not write is never touched (the task fails).
    type: str
    choices: ['no', on-failure, always]
  restart_sec:
    description:
      - Seconds systemd waits before it starts the container again (C(RestartSec=)).
      - Unset, what the container's unit has, else V(1).
    type: float
  start_limit_burst:
    description:
      - How many starts systemd allows in O(start_limit_interval) (C(StartLimitBurst=)); then it gives up
        until the next task, which starts the unit again.
      - Unset, what the container's unit has, else V(5).
    type: int
  start_limit_interval:
    description:
      - The window of O(start_limit_burst) in seconds (C(StartLimitIntervalSec=)); V(0) removes the limit.
      - Unset, what the container's unit has, else V(10).
    type: float
  force:
    description:
      - With O(state=absent), delete a running container at once with C(runc delete --force)
        (SIGKILL), without O(kill_signal) and O(stop_timeout).
      - With O(state=absent), a CNI network whose plugins fail C(DEL) is removed anyway (its namespace and
        state file, with a warning); without it the task fails and keeps them for the next run to try again.
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

- name: Run a worker as an unprivileged user with only the capability it needs
  oci_runtime.runc.runc_container:
    name: worker
    bundle: /srv/containers/worker
    args: [worker, --listen, ":80"]
    user:
      name: www-data
      umask: "0027"
    capabilities:
      drop: [ALL]
      add: [NET_BIND_SERVICE]
    no_new_privileges: true
    rlimits:
      nofile: 4096
      nproc: {soft: 256, hard: 512}
    sysctls:
      net.ipv4.ip_unprivileged_port_start: 0
    masked_paths:
      paths: [/proc/interrupts]

- name: Limits in plain units, like docker_container's; a change is applied in place
  oci_runtime.runc.runc_container:
    name: web
    root: /run/runc-apps
    bundle: /srv/containers/web
    args: [httpd, -f, -p, "8080"]
    memory: 512M
    memory_swap: 1G
    cpus: 1.5
    cpu_shares: 512
    cpuset_cpus: 0-1
    pids_limit: 200

- name: Leave the environment and the hostname out of the comparison with the running container
  oci_runtime.runc.runc_container:
    name: web
    root: /run/runc-apps
    bundle: /srv/containers/web
    args: [httpd, -f, -p, "8080"]
    env:
      BUILD: "{{ build_id }}"
    comparisons:
      env: ignore
      hostname: ignore

- name: A cache on the host's network, with a data folder, a tmpfs and FUSE
  oci_runtime.runc.runc_container:
    name: cache
    bundle: /srv/containers/cache
    args: [cache-server, --listen, "127.0.0.1:11211"]
    namespaces:
      network: host          # also mounts the host's /etc/resolv.conf and /etc/hosts read-only
    volumes:
      - /srv/cache/data:/data                 # rbind,rw
      - /srv/cache/conf:/etc/cache:ro,nosuid,nodev
    tmpfs:
      /tmp: "size=64m,mode=1777"
      /run: ""
    devices:
      - /dev/fuse
      - path: /dev/net/tun
        permissions: rw

- name: A web server on the CNI network web-net of /etc/cni/net.d, its port 80 published on the host's 8080
  oci_runtime.runc.runc_container:
    name: web
    bundle: /srv/containers/web
    args: [httpd, -f, -p, "80", -h, /www]
    network:
      mode: cni
      name: web-net
      ports:
        - {host_port: 8080, container_port: 80}
  register: web

- name: Show where it answers
  ansible.builtin.debug:
    msg: "{{ web.network.ips }}"

- name: Join a network namespace made with ip netns add blue
  oci_runtime.runc.runc_container:
    name: blue-worker
    bundle: /srv/containers/blue-worker
    args: [worker]
    namespaces:
      network: /run/netns/blue
      uts: host

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
    - With O(restart), the C(systemctl) commands too, and V([write, PATH]) or V([rm, PATH]) for the unit file.
  returned: always
  type: list
  elements: list
  sample: [["runc", "--root", "/run/runc-apps", "update", "--resources=-", "web"]]
network:
  description:
    - The container's network when O(network) is set or it has a cni network; null otherwise, and when the
      container does not exist.
    - With V(cni), what the plugins set up (in check mode, before a set-up, no interfaces or addresses yet).
  returned: always
  type: dict
  contains:
    mode:
      description: V(none), V(host), V(path) or V(cni).
      type: str
    namespace:
      description: Path of the network namespace (null for V(none) and V(host)).
      type: str
    network:
      description: Name of the CNI network.
      type: str
    interfaces:
      description: The container's interfaces of the CNI result, each with its C(name), C(mac), C(sandbox) and
        C(addresses).
      type: list
      elements: dict
    ips:
      description: The container's addresses, with prefix length.
      type: list
      elements: str
    ports:
      description: The published ports (C(host_port), C(container_port), C(protocol), C(host_ip)).
      type: list
      elements: dict
    unchecked:
      description: Plugins left out of C(CHECK), because their C(CHECK) failed right after their C(ADD)
        (see docs/networking.md).
      type: list
      elements: str
  sample: {mode: cni, unchecked: [], namespace: /run/netns/runc-3f1c0a9e-web, network: web-net, ips: [10.88.0.5/16],
           interfaces: [{name: eth0, mac: "0a:58:0a:58:00:05", sandbox: /run/netns/runc-3f1c0a9e-web,
                         addresses: [10.88.0.5/16]}],
           ports: [{host_port: 8080, container_port: 80, protocol: tcp, host_ip: ''}]}
recreate_reasons:
  description: Why the container was (or would be) re-created, each starting with the option or part of the
    config at the origin; empty when it was not.
  returned: always
  type: list
  elements: str
  sample: ["config: process.args"]
supervision:
  description:
    - The systemd unit that runs the container, when O(restart) is not V(no) and O(state) is not V(absent);
      null otherwise.
    - Its states as C(systemctl show) reports them after the task (in check mode, before it).
  returned: always
  type: dict
  contains:
    unit:
      description: The unit's name.
      type: str
    path:
      description: The unit file.
      type: str
    restart:
      description: The C(Restart=) policy.
      type: str
    active_state:
      description: C(ActiveState), for example V(active), V(inactive), V(failed); null when it was not read.
      type: str
    sub_state:
      description: C(SubState), for example V(running), V(dead), V(auto-restart).
      type: str
    unit_file_state:
      description: C(UnitFileState), V(enabled) or V(disabled).
      type: str
    main_pid:
      description: The unit's main process, the container's init (null when none).
      type: int
    restarts:
      description: How often systemd restarted the container since the unit was last started by hand (C(NRestarts)).
      type: int
    needs_daemon_reload:
      description:
        - Whether the unit file is newer than what systemd loaded (C(NeedDaemonReload)); the module reloads
          systemd when it is, so it is V(false) after a task that was not run in check mode.
        - Null when it was not read.
      type: bool
  sample: {unit: oci-runc-web-1a2b3c4d.service, path: /etc/systemd/system/oci-runc-web-1a2b3c4d.service,
           restart: always, active_state: active, sub_state: running, unit_file_state: enabled, main_pid: 4242,
           restarts: 0, needs_daemon_reload: false}
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
