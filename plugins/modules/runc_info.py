#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: runc_info
short_description: Report the containers of a runc root, their processes, statistics and config
version_added: 0.1.0
description:
  - Lists the containers runc knows under a root folder (one C(runc list)) and gathers more about
    each on request, many containers at a time.
  - Works with any runc root, also those of containerd (C(/run/containerd/runc/<namespace>)), podman
    or runc itself.
  - Never changes anything.
author:
  - oci_runtime.runc developers (@oci-runtime)
extends_documentation_fragment:
  - oci_runtime.runc.runtime
attributes:
  check_mode:
    support: full
    description: The module only reads; check mode changes nothing about it.
  diff_mode:
    support: N/A
    description: Nothing changes, so there is nothing to compare.
options:
  name:
    description:
      - Containers to report, one id or a list. Without it, every container under O(root).
      - A named container that does not exist is reported with RV(containers[].exists=false), not as a
        failure.
    type: list
    elements: str
    aliases: [id]
  status:
    description: Report only containers in these statuses.
    type: list
    elements: str
    choices: [created, running, pausing, paused, stopped]
  annotations:
    description: Report only containers whose annotations include all of these keys with these values.
    type: dict
  gather:
    description:
      - V(state) the state runc reports, always included.
      - V(processes) the container's pids and the C(runc ps) table (see O(ps_args)).
      - V(stats) the C(runc events --stats) data, every field runc prints.
      - V(config) the C(config.json) of the container's bundle. The values of the environment variables
        that M(oci_runtime.runc.runc_container) got through its C(secret_env) option (named in the
        C(oci_runtime.runc.secret-env) annotation) read C(********); see O(mask_env) to mask every value.
      - V(network) the container's network mode, and for a CNI network its interfaces, addresses and
        published ports.
      - V(version) and V(features) describe the runtime, in RV(runtime).
    type: list
    elements: str
    choices: [state, processes, stats, version, features, config, network]
    default: [state]
  ps_args:
    description: Arguments for C(ps) in the processes table, for example V([-o, "pid,rss,args"]).
      Without them runc uses C(ps -ef).
    type: list
    elements: str
  max_workers:
    description: How many containers are queried at the same time for processes, stats, config and network.
    type: int
    default: 8
  mask_env:
    description:
      - With O(gather=config), report every environment value of RV(containers[].config) as C(********),
        for containers made by anything (containerd, podman, hand-written bundles) that may keep secrets
        in their environment. The names stay.
      - Values named secret by the C(oci_runtime.runc.secret-env) annotation are masked either way.
    type: bool
    default: false
notes:
  - A O(root) that does not exist holds no containers; the module reports an empty list and does not
    create it. A O(root) that is not a folder fails the task.
  - Every failure's message starts with the option at fault, for example C(root:) when C(runc list)
    fails, C(runtime_path:) for a runtime that does not answer as runc does.
  - A container that is deleted or stops while the module gathers is reported as it is found then
    (RV(containers[].exists=false), or status V(stopped)); the module does not fail.
seealso:
  - module: oci_runtime.runc.runc_container
'''

EXAMPLES = r'''
- name: What runs where, and how much memory it uses (ad hoc, on every host)
  # ansible all -m oci_runtime.runc.runc_info -a 'gather=stats root=/run/runc-apps'
  oci_runtime.runc.runc_info:
    root: /run/runc-apps
    gather: [stats]
  register: fleet

- name: Show the memory use of each running container
  ansible.builtin.debug:
    msg: "{{ item.id }}: {{ item.stats.memory.usage.usage }} bytes"
  loop: "{{ fleet.containers | selectattr('status', 'equalto', 'running') }}"
  loop_control:
    label: "{{ item.id }}"

- name: The processes of two containers, with their resident memory
  oci_runtime.runc.runc_info:
    name: [web, worker]
    gather: [processes]
    ps_args: [-o, "pid,rss,args"]

- name: The containers containerd runs in its default namespace
  oci_runtime.runc.runc_info:
    root: /run/containerd/runc/default

- name: The config of every container, without the values of their environment
  oci_runtime.runc.runc_info:
    root: /run/containerd/runc/default
    gather: [config]
    mask_env: true

- name: The runtime's version and features
  oci_runtime.runc.runc_info:
    name: []
    gather: [version, features]
'''

RETURN = r'''
containers:
  description: One entry per container, sorted by id; in the order of O(name) when it is given.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Container id.
      type: str
      returned: always
      sample: web
    exists:
      description: Whether the container exists. False for a named container runc does not know, or
        one deleted while the module gathered; such entries hold only RV(containers[].id) and this.
      type: bool
      returned: always
      sample: true
    pid:
      description: Host pid of the container's init process; 0 when stopped.
      type: int
      returned: when it exists
      sample: 4242
    status:
      description: C(created), C(running), C(pausing), C(paused) or C(stopped).
      type: str
      returned: when it exists
      sample: running
    bundle:
      description: Bundle folder.
      type: str
      returned: when it exists
      sample: /srv/containers/web
    rootfs:
      description: Root filesystem folder.
      type: str
      returned: when it exists
      sample: /srv/containers/web/rootfs
    created:
      description: Creation time, RFC 3339.
      type: str
      returned: when it exists
      sample: "2026-11-28T10:21:50.351504889Z"
    owner:
      description: Owner of the container's state.
      type: str
      returned: when it exists
      sample: root
    annotations:
      description: Annotations of the container's config.
      type: dict
      returned: when it exists
      sample: {"oci_runtime.runc.config-digest": "5c0f..."}
    processes:
      description: Processes of the container; empty when it is stopped.
      type: dict
      returned: when O(gather) includes V(processes) and the container exists
      contains:
        pids:
          description: Host pids of every process.
          type: list
          elements: int
          sample: [4242, 4250]
        top:
          description: The C(runc ps) table; null when the container is stopped.
          type: dict
          contains:
            headers:
              description: Column names.
              type: list
              elements: str
              sample: [UID, PID, PPID, C, STIME, TTY, TIME, CMD]
            processes:
              description: One row per process, the command line whole in the last column.
              type: list
              elements: list
              sample: [[root, "4242", "4200", "0", "10:21", "?", "00:00:00", "httpd -f -p 8080"]]
    stats:
      description: The C(data) of C(runc events --stats) (cpu, memory, pids, blkio, ...); null when
        the container is stopped.
      type: dict
      returned: when O(gather) includes V(stats) and the container exists
      sample: {"memory": {"usage": {"usage": 778240, "limit": 67108864}}, "pids": {"current": 1}}
    config:
      description:
        - The bundle's C(config.json); null when it cannot be read.
        - Environment values named in its C(oci_runtime.runc.secret-env) annotation, and every one with
          O(mask_env=true), read C(********).
      type: dict
      returned: when O(gather) includes V(config) and the container exists
    network:
      description:
        - The container's network, from its C(config.json) and, for a CNI network of
          M(oci_runtime.runc.runc_container), the result its plugins gave (as that module's C(network)
          return value); null when C(config.json) cannot be read.
        - C(mode) is V(none) (a namespace of its own, loopback only), V(host), V(path) (a namespace it
          joined, in C(namespace)) or V(cni) (with C(network), C(interfaces), C(ips) and C(ports)).
      type: dict
      returned: when O(gather) includes V(network) and the container exists
      sample: {mode: cni, namespace: /run/netns/runc-3f1c0a9e-web, network: web-net, ips: [10.88.0.5/16],
               interfaces: [{name: eth0, mac: "0a:58:0a:58:00:05", sandbox: /run/netns/runc-3f1c0a9e-web,
                             addresses: [10.88.0.5/16]}],
               ports: [{host_port: 8080, container_port: 80, protocol: tcp, host_ip: ''}]}
    supervision:
      description:
        - The systemd unit that runs the container, for a container of M(oci_runtime.runc.runc_container)
          with O(oci_runtime.runc.runc_container#module:restart); null for the others.
        - C(unit), C(path), C(restart), C(active_state), C(sub_state), C(unit_file_state), C(main_pid),
          C(restarts) and C(needs_daemon_reload), as that module's C(supervision) return value.
        - C(needs_daemon_reload) V(true) says systemd runs an older unit than the file holds (an edit not
          loaded, or a task stopped before its reload); the next M(oci_runtime.runc.runc_container) task for the
          container reloads systemd.
      type: dict
      returned: when the container exists
      sample: {unit: oci-runc-web-1a2b3c4d.service, path: /etc/systemd/system/oci-runc-web-1a2b3c4d.service,
               restart: always, active_state: active, sub_state: running, unit_file_state: enabled,
               main_pid: 4242, restarts: 1, needs_daemon_reload: false}
    errors:
      description: Queries about this container that failed for another reason than the container
        stopping or going away.
      type: list
      elements: str
      returned: when a query failed
runtime:
  description: About the runtime; empty unless O(gather) includes V(version) or V(features).
  returned: always
  type: dict
  contains:
    version:
      description: C(runc --version), parsed.
      type: dict
      returned: when O(gather) includes V(version)
      contains:
        runtime:
          description: Name the runtime gives itself.
          type: str
          sample: runc
        runc:
          description: Its version.
          type: str
          sample: 1.1.5+ds1
        commit:
          description: Its commit; empty when not printed.
          type: str
          sample: 1.1.5+ds1-1+deb12u1
        spec:
          description: OCI runtime-spec version it implements.
          type: str
          sample: 1.0.2-dev
        details:
          description: Other lines of the output, such as C(go) and C(libseccomp).
          type: dict
          sample: {"go": "go1.19.8", "libseccomp": "2.5.4"}
    features:
      description: C(runc features), as printed.
      type: dict
      returned: when O(gather) includes V(features)
      sample: {"ociVersionMax": "1.0.2-dev", "hooks": ["prestart"]}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci_runtime.runc.plugins.module_utils._info import InfoGatherer
from ansible_collections.oci_runtime.runc.plugins.module_utils._options import INFO, argument_spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(INFO), supports_check_mode=True)
    InfoGatherer(module).run()


if __name__ == '__main__':
    main()
