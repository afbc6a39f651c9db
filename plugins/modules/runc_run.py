#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: runc_run
short_description: Run a container to completion, a job, and return its exit status and output
version_added: 0.3.0
description:
  - Runs a container from a bundle in the foreground (C(runc run)) until its process exits, and
    returns its exit status, standard output and standard error, like M(ansible.builtin.command) does
    for a command (migrations, backups, batch jobs, smoke tests).
  - The config options are those of M(oci_runtime.runc.runc_container), composed the same way into the
    bundle's C(config.json) (a C(config.json) the collection did not write is never overwritten, and none is
    written inside the runc root or into the rootfs folder itself; give O(bundle) alone to run it as it is).
  - The output goes through files, never through pipes the container could keep open, so a job that
    leaves a process behind or prints a lot never hangs the task.
  - Without O(keep), no container is left, whatever happened; with it, the stopped container stays for
    M(oci_runtime.runc.runc_info).
  - A container of that id that exists already is an error; the module never deletes a container it did not
    make.
  - See docs/jobs.md.
author:
  - oci_runtime.runc developers (@oci-runtime)
extends_documentation_fragment:
  - oci_runtime.runc.runtime
  - oci_runtime.runc.container_config
attributes:
  check_mode:
    support: partial
    description: Check mode runs nothing and says so (as M(ansible.builtin.command) does).
    details: O(creates) and O(removes) are still checked.
  diff_mode:
    support: none
    description: The job's config is not shown.
options:
  name:
    description:
      - Id of the job's container. Without it, C(run-) and 12 random hex digits.
      - A container of that id must not exist.
    type: str
    aliases: [id]
  bundle:
    description: The OCI bundle folder to run (C(--bundle)).
    type: path
    required: true
  timeout:
    description:
      - Seconds the job may run; then its container is stopped with O(kill_signal), SIGKILL after
        O(stop_timeout), and the task fails naming the timeout. V(0) is no limit.
    type: float
    default: 0
  kill_signal:
    description: Signal that asks the job to stop at its O(timeout), a name (V(SIGTERM)) or a number; V(SIGTERM) when unset.
    type: raw
  stop_timeout:
    description: Seconds to wait after O(kill_signal) before SIGKILL, at the O(timeout).
    type: float
    default: 10
  keep:
    description: Keep the stopped container afterwards (C(runc run --keep)), for M(oci_runtime.runc.runc_info).
    type: bool
    default: false
  check_rc:
    description: Fail when the job's exit status is not 0.
    type: bool
    default: true
  creates:
    description:
      - A path (a glob pattern) that, when it exists, means the job was done already; the task then skips it.
      - Give an absolute path; a relative one is relative to the module's working folder on the host.
    type: path
  removes:
    description:
      - A path (a glob pattern) that, when nothing matches it, means the job has nothing to do; the task then
        skips it.
    type: path
  no_pivot:
    description: Do not use pivot_root to jail the process (C(--no-pivot)).
    type: bool
    default: false
  no_new_keyring:
    description: Do not create a new session keyring (C(--no-new-keyring)).
    type: bool
    default: false
  schema_path:
    description: As in M(oci_runtime.runc.runc_container).
    type: path
  validate_spec:
    description: Check the config against the OCI runtime-spec schema on the controller before anything changes.
    type: bool
    default: true
notes:
  - The exit status is the container process's own; a process killed by a signal gives 128 plus the signal's number.
  - The output is returned as the process wrote it, trailing newlines included, decoded as UTF-8 (bytes that
    are not UTF-8 become U+FFFD).
  - Only the module's O(timeout) stops a job on the host; ansible's task C(timeout) or a kill of the module
    stops it too (the container is stopped and deleted), but Ctrl-C on the controller does not reach it.
seealso:
  - module: oci_runtime.runc.runc_container
  - module: oci_runtime.runc.runc_wait
  - module: ansible.builtin.command
'''

EXAMPLES = r'''
- name: Migrate the database before the web container starts, once
  oci_runtime.runc.runc_run:
    name: shop-migrate
    bundle: /srv/shop/migrate
    rootfs: /srv/shop/web/rootfs
    args: [/app/manage, migrate]
    env:
      DATABASE_URL: postgres://db/shop
    timeout: 600
    creates: /srv/shop/state/migrated-v42

- name: A smoke test whose failure the play handles itself
  oci_runtime.runc.runc_run:
    bundle: /srv/smoke
    args: [sh, -c, 'wget -qO- http://10.88.0.5:8080/health']
    check_rc: false
  register: smoke
'''

RETURN = r'''
name:
  description: Id of the job's container.
  returned: when the job ran
  type: str
  sample: run-3f9c2a1b7d40
rc:
  description: Exit status of the job's process (128 plus the signal number when a signal ended it).
  returned: when the job ran
  type: int
  sample: 3
stdout:
  description: Standard output of the job, whole.
  returned: when the job ran
  type: str
stderr:
  description: Standard error of the job, whole.
  returned: when the job ran
  type: str
stdout_lines:
  description: RV(stdout) split into lines.
  returned: when the job ran
  type: list
  elements: str
stderr_lines:
  description: RV(stderr) split into lines.
  returned: when the job ran
  type: list
  elements: str
duration:
  description: Seconds from the start of C(runc run) to its end.
  returned: when the job ran
  type: float
  sample: 2.051
timed_out:
  description: Whether the job outlived O(timeout) and was stopped.
  returned: when the job ran
  type: bool
kept:
  description: Whether the stopped container was kept (O(keep)).
  returned: when the job ran
  type: bool
container:
  description: The kept container's C(id), C(pid), C(status), C(bundle) and C(created); null without O(keep).
  returned: when the job ran
  type: dict
actions:
  description: Every runtime command that changed something, as argv lists.
  returned: always
  type: list
  elements: list
'''

import signal

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci_runtime.runc.plugins.module_utils._options import RUN, argument_spec
from ansible_collections.oci_runtime.runc.plugins.module_utils._run import JobManager, guard
from ansible_collections.oci_runtime.runc.plugins.module_utils._runtime_options import runtime_option_problem


def interrupted(number, frame):
    raise SystemExit('signal %d' % number)


def main():
    module = AnsibleModule(argument_spec=argument_spec(RUN), supports_check_mode=True)
    problem = runtime_option_problem(module.params)
    if problem:
        module.fail_json(msg=problem, changed=False, actions=[])
    skipped = guard(module.params)
    if skipped:
        module.exit_json(changed=False, skipped=True, msg=skipped, stdout=skipped, rc=0, actions=[])
    manager = JobManager(module)
    # A stop of the module (ansible's own timeout, a kill) stops the job too; never a container left unseen.
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, interrupted)
    try:
        result = manager.outcome()
    except (KeyboardInterrupt, SystemExit) as error:
        module.fail_json(msg='interrupted (%s): the job %s was stopped%s' % (
            error or type(error).__name__, manager.container_id,
            '' if module.params['keep'] else ' and deleted'), changed=True, name=manager.container_id,
            actions=manager.actions())
    for warning in manager.item_module.warnings:
        module.warn(warning)
    if result.pop('failed', False):
        module.fail_json(**result)
    # failed false said outright: Ansible takes a result with a non-zero rc for a failure otherwise.
    module.exit_json(failed=False, **result)


if __name__ == '__main__':
    main()
