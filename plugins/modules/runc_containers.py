#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: runc_containers
short_description: Converge every container of a project on a host in one task
version_added: 0.2.0
description:
  - Each item of O(containers) is a M(oci_runtime.runc.runc_container) task, with that module's options
    and that module's decisions (the same comparison, the same re-creation rules, the same refusals). This
    module runs them in one module run per host instead of one per item, which is what makes a loop of
    tens of containers slow.
  - Reads every container with a single C(runc list). A container whose task needs nothing is left alone
    without any other runtime call.
  - Independent containers are created, started, stopped and deleted in parallel (O(max_workers)).
  - Every container the module makes carries the annotation C(oci_runtime.runc.project) with O(project).
    With O(prune), the containers of the project the list no longer names are removed; a container
    without that annotation (made by hand, by another project, by runc_container) is never touched.
  - One item's failure does not stop the others. The task fails at the end naming each failed item and
    why, and reports what was done to the others.
  - See docs/containers.md.
author:
  - oci_runtime.runc developers (@oci-runtime)
extends_documentation_fragment:
  - oci_runtime.runc.runtime
attributes:
  check_mode:
    support: full
    description: As in M(oci_runtime.runc.runc_container), for every item; RV(containers[].actions) lists
      the commands that would run.
  diff_mode:
    support: full
    description: One before/after pair per item that changes, headed by the container's name.
options:
  project:
    description:
      - Name of the set of containers this task manages, recorded as the annotation
        C(oci_runtime.runc.project) of each (so every item's C(config.json) is written by the collection; an
        item without config options gets V(spec={})).
      - No white space or commas.
    type: str
    required: true
  containers:
    description:
      - The project's containers, each a dict of M(oci_runtime.runc.runc_container) options (V(name),
        V(state), V(bundle), V(args), V(env), V(resources), V(network), ...), checked as that module checks
        them. The runtime options (V(root), V(runtime_path), ...) are the task's own, not an item's.
      - Each item's config is checked against the OCI runtime-spec schema on the controller, as
        runc_container's is; a problem fails the task before anything changes, naming each item at fault.
      - Two items with one name, or with one bundle, are refused. An item naming a container of another
        project fails (remove it there first); a container without the annotation is taken over (re-created
        with it).
      - With the runtime option V(log) set, the items run one at a time (the runtime's log is read back by
        position).
    type: list
    elements: dict
    default: []
  defaults:
    description: Options applied to every item that does not set them itself (the same options as an item's).
    type: dict
    default: {}
  prune:
    description:
      - Remove (V(state=absent), with the stop options of O(defaults)) the containers whose
        C(oci_runtime.runc.project) annotation is O(project) and that O(containers) does not name. They are
        removed before the items are converged (an item may take over a port or a bundle of theirs).
      - Skipped, with a warning, when an item gives no name the module can read.
    type: bool
    default: false
  max_workers:
    description: How many items are converged at the same time.
    type: int
    default: 8
seealso:
  - module: oci_runtime.runc.runc_container
    description: One container; the same options and decisions, per item here.
'''

EXAMPLES = r'''
- name: The shop's containers on this host, converged together
  oci_runtime.runc.runc_containers:
    project: shop
    prune: true
    defaults:
      stop_timeout: 5
      network:
        mode: cni
        name: shop-net
    containers:
      - name: shop-web
        bundle: /srv/shop/web
        args: [httpd, -f, -p, "80", -h, /www]
        network:
          mode: cni
          name: shop-net
          ports:
            - {host_port: 8080, container_port: 80}
      - name: shop-worker
        bundle: /srv/shop/worker
        env: {QUEUE: orders}
        memory: 256M
      - name: shop-cache
        bundle: /srv/shop/cache
        state: stopped
  register: shop

- name: Show what changed
  ansible.builtin.debug:
    msg: "{{ shop.summary }}"
'''

RETURN = r'''
containers:
  description:
    - One entry per item, in the order of O(containers), then one per pruned container. Each holds what
      M(oci_runtime.runc.runc_container) returns (RV(containers[].container), RV(containers[].network),
      RV(containers[].actions), RV(containers[].recreate_reasons), RV(containers[].supervision)), the item's own
      RV(containers[].changed),
      and for a failed item RV(containers[].failed) and RV(containers[].msg).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The container's id (for an item too bad to have one, where it is in the list).
      type: str
    changed:
      description: Whether this item changed the host (or would, in check mode).
      type: bool
    failed:
      description: Present and true for an item that failed.
      type: bool
    msg:
      description: Why the item failed, starting with the option at fault.
      type: str
    container:
      description: The container after the task, as runc_container returns it; null when it does not exist.
      type: dict
    network:
      description: The container's network, as runc_container returns it.
      type: dict
    actions:
      description: The commands that changed something (planned ones in check mode), as argv lists.
      type: list
      elements: list
    recreate_reasons:
      description: Why the container was (or would be) re-created.
      type: list
      elements: str
    supervision:
      description: The systemd unit that runs the container (an item with V(restart)), as runc_container returns it.
      type: dict
  sample:
    - name: shop-web
      changed: true
      container: {id: shop-web, status: running, pid: 4242, bundle: /srv/shop/web}
      actions: [["runc", "create", "--bundle", "/srv/shop/web", "shop-web"], ["runc", "start", "shop-web"]]
      recreate_reasons: []
summary:
  description:
    - Names of the containers by what happened to them (or would, in check mode). V(created), V(recreated) and V(removed) (pruned ones
      too) are alone; an existing container can be in V(updated) (resources applied in place, or anything
      else brought in line without a re-creation), V(started) and V(stopped) at once. V(unchanged) ones
      needed nothing; V(failed) ones are named in the failure message too.
  returned: always
  type: dict
  contains:
    created:
      description: Made by this task.
      type: list
      elements: str
    recreated:
      description: Deleted and made again.
      type: list
      elements: str
    updated:
      description: Changed in place.
      type: list
      elements: str
    started:
      description: Started or resumed.
      type: list
      elements: str
    stopped:
      description: Stopped or paused.
      type: list
      elements: str
    removed:
      description: Removed (by their item's V(state=absent), or by O(prune)).
      type: list
      elements: str
    unchanged:
      description: Needed nothing.
      type: list
      elements: str
    failed:
      description: Failed.
      type: list
      elements: str
  sample: {created: [shop-web], recreated: [], updated: [shop-worker], started: [], stopped: [], removed: [],
           unchanged: [shop-cache], failed: []}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci_runtime.runc.plugins.module_utils._containers import ContainersManager
from ansible_collections.oci_runtime.runc.plugins.module_utils._options import CONTAINERS, argument_spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(CONTAINERS), supports_check_mode=True)
    ContainersManager(module).run()


if __name__ == '__main__':
    main()
