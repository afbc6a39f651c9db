#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: runc_wait
short_description: Wait until a container reaches a status, is OOM-killed, or a statistic crosses a threshold
version_added: 0.3.0
description:
  - Waits for one condition of a container, reading C(runc state) and C(runc events) (the stream of
    events and statistics go-runc's Events gives), and returns what satisfied it.
  - O(status) waits for a status (V(absent) when the container does not exist); O(oom) for an OOM event;
    O(memory_above) and O(pids_above) sample the statistics every O(interval) seconds.
  - At O(timeout) the task fails, naming the last status seen. It changes nothing, so it runs in check
    mode too.
  - See docs/jobs.md.
author:
  - oci_runtime.runc developers (@oci-runtime)
extends_documentation_fragment:
  - oci_runtime.runc.runtime
attributes:
  check_mode:
    support: full
    description: The module only reads, so check mode waits as well.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
options:
  name:
    description: Id of the container.
    type: str
    required: true
    aliases: [id]
  status:
    description:
      - Wait until the container's status is this one; V(absent) until it does not exist.
      - One of O(status), O(oom), O(memory_above) and O(pids_above) is required, and only one.
    type: str
    choices: [running, paused, stopped, absent]
  oom:
    description:
      - Wait for an OOM event (C(runc events)), the kernel's OOM killer acting in the container's memory
        cgroup. Fails as soon as the container stops without one.
    type: bool
    default: false
  memory_above:
    description: Wait until the container's memory usage is above this size (bytes, or a number with k, m, g or t).
    type: str
  pids_above:
    description: Wait until the container has more processes than this.
    type: int
  interval:
    description: Seconds between statistics samples (and of C(runc events --interval)).
    type: float
    default: 1
  timeout:
    description: Seconds to wait before the task fails.
    type: float
    default: 60
notes:
  - Whether an OOM event is reported depends on the kernel and the cgroup version; C(docs/jobs.md) says what
    was seen here.
seealso:
  - module: oci_runtime.runc.runc_run
  - module: oci_runtime.runc.runc_info
'''

EXAMPLES = r'''
- name: Wait until the job container has ended
  oci_runtime.runc.runc_wait:
    name: shop-backup
    status: stopped
    timeout: 3600

- name: Fail the play when the web container is OOM-killed during the load test
  oci_runtime.runc.runc_wait:
    name: shop-web
    oom: true
    timeout: 300
  register: oom
  failed_when: oom is succeeded
  ignore_errors: true

- name: Wait until the cache has warmed up past 200 MiB
  oci_runtime.runc.runc_wait:
    name: shop-cache
    memory_above: 200m
    interval: 2
    timeout: 120
'''

RETURN = r'''
name:
  description: Id of the container.
  returned: success
  type: str
condition:
  description: The condition that held, V(status), V(oom), V(memory_above) or V(pids_above).
  returned: success
  type: str
event:
  description:
    - What satisfied the condition, the container's state for V(status) (C(status) V(absent) when it does not
      exist), the C(runc events) event for V(oom), the statistics (C(runc events --stats) data) with C(value) and
      C(threshold) for the thresholds.
  returned: success
  type: dict
  sample: {type: oom, id: shop-web}
state:
  description: The container's last state read (C(id), C(pid), C(status), C(bundle), C(created)); null when absent.
  returned: success
  type: dict
elapsed:
  description: Seconds waited.
  returned: success
  type: float
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci_runtime.runc.plugins.module_utils._options import WAIT, argument_spec
from ansible_collections.oci_runtime.runc.plugins.module_utils._runtime_options import (
    error_result,
    runc_from_params,
    runtime_fault,
    runtime_option_problem,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils._task import TaskError
from ansible_collections.oci_runtime.runc.plugins.module_utils._lifecycle import state_facts
from ansible_collections.oci_runtime.runc.plugins.module_utils._wait import Waiter
from ansible_collections.oci_runtime.runc.plugins.module_utils.runc import RuncError


def main():
    module = AnsibleModule(argument_spec=argument_spec(WAIT), supports_check_mode=True)
    problem = runtime_option_problem(module.params)
    if problem:
        module.fail_json(msg=problem, changed=False)
    waiter = Waiter(runc_from_params(module.params), module.params)
    try:
        module.exit_json(**waiter.wait())
    except TaskError as error:
        module.fail_json(msg=str(error), changed=False, state=state_facts(waiter.last_state))
    except RuncError as error:
        module.fail_json(msg=runtime_fault(error, 'name'), changed=False, state=state_facts(waiter.last_state),
                         **error_result(error))


if __name__ == '__main__':
    main()
