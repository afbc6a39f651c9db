# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""runc_checkpoint's logic: checkpoint to a complete image or not at all; restore from one.

An image is complete when CRIU's ``inventory.img`` is in it. A checkpoint
is written to a hidden sibling folder and renamed to ``image_path`` only
once CRIU succeeded, so ``image_path`` never holds half an image; an image
already there is replaced only with ``force``, and restore never removes one.
"""

from __future__ import annotations

import os
import re
import tempfile

from ansible_collections.oci_runtime.runc.plugins.module_utils._criu import (
    CriuProblem,
    check_criu,
    log_tail,
    remove_tree,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils._lifecycle import current_state
from ansible_collections.oci_runtime.runc.plugins.module_utils._runtime_options import runtime_argument_spec
from ansible_collections.oci_runtime.runc.plugins.module_utils._task import (
    ContainerTask,
    TaskError,
    checked_id,
    require_absolute,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils.runc import (
    CGROUP_MANAGE_MODES,
    CheckpointOptions,
    DeleteOptions,
    ProcessIO,
    RestoreOptions,
    RuncError,
)

ALIVE = ('running', 'paused')
_PAGE_SERVER = re.compile(r'^[^\s:]*:\d{1,5}$')
_NAMESPACES = ('network', 'pid', 'ipc', 'uts', 'mount', 'cgroup', 'user')


def argument_spec():
    return runtime_argument_spec(
        name=dict(type='str', required=True, aliases=['id']),
        state=dict(type='str', default='checkpointed', choices=['checkpointed', 'restored']),
        image_path=dict(type='path', required=True),
        work_path=dict(type='path'),
        parent_path=dict(type='path'),
        leave_running=dict(type='bool', default=False),
        pre_dump=dict(type='bool', default=False),
        tcp_established=dict(type='bool', default=False),
        ext_unix_sk=dict(type='bool', default=False),
        shell_job=dict(type='bool', default=False),
        file_locks=dict(type='bool', default=False),
        page_server=dict(type='str'),
        manage_cgroups_mode=dict(type='str', choices=list(CGROUP_MANAGE_MODES)),
        empty_ns=dict(type='list', elements='str'),
        lazy_pages=dict(type='bool', default=False),
        status_file=dict(type='path'),
        auto_dedup=dict(type='bool', default=False),
        extra_args=dict(type='list', elements='str'),
        force=dict(type='bool', default=False),
        bundle=dict(type='path'),
        pid_file=dict(type='path'),
        no_subreaper=dict(type='bool', default=False),
        no_pivot=dict(type='bool', default=False),
        console_socket=dict(type='path'),
        stdout_path=dict(type='str'),
        stderr_path=dict(type='str'),
        lock_timeout=dict(type='float', default=120.0),
    )


def image_is_complete(path):
    return os.path.isfile(os.path.join(path, 'inventory.img'))


class CheckpointManager(ContainerTask):
    def __init__(self, module):
        super().__init__(module)
        self.image_path = self.params['image_path']
        # On a timeout, the runtime's CRIU must die with it, not linger holding mounts.
        self.runc.setpgid = True
        self.criu = None

    # -- input ----------------------------------------------------------------------------------

    def validate(self):
        params = self.params
        checked_id(self.container_id)
        require_absolute(params, 'image_path', 'work_path', 'parent_path', 'bundle')
        if params['page_server'] and not _PAGE_SERVER.match(params['page_server']):
            raise TaskError('page_server: %r is not ADDRESS:PORT' % params['page_server'])
        for namespace in params['empty_ns'] or []:
            if namespace not in _NAMESPACES:
                raise TaskError('empty_ns: %r is not one of %s' % (namespace, ', '.join(_NAMESPACES)))
        if params['state'] == 'restored':
            if params['bundle'] and not os.path.isfile(os.path.join(params['bundle'], 'config.json')):
                raise TaskError('bundle: %s has no config.json' % params['bundle'])
        if self.image_path and os.path.realpath(self.image_path) == '/':
            raise TaskError('image_path: must not be /')

    def check_criu(self):
        try:
            self.criu = check_criu(memory_tracking=self.params['pre_dump'] or bool(self.params['parent_path']),
                                   lazy_pages=self.params['lazy_pages'])
        except CriuProblem as problem:
            raise TaskError(str(problem))

    # -- checkpoint ---------------------------------------------------------------------------------

    def checkpoint_options(self, image_path):
        params = self.params
        return CheckpointOptions(
            image_path=image_path, work_path=params['work_path'], parent_path=params['parent_path'],
            leave_running=params['leave_running'], pre_dump=params['pre_dump'],
            tcp_established=params['tcp_established'], ext_unix_sk=params['ext_unix_sk'],
            shell_job=params['shell_job'], file_locks=params['file_locks'], page_server=params['page_server'],
            manage_cgroups_mode=params['manage_cgroups_mode'], empty_ns=list(params['empty_ns'] or []),
            lazy_pages=params['lazy_pages'], status_file=params['status_file'], auto_dedup=params['auto_dedup'],
            extra_args=list(params['extra_args'] or []))

    def checkpoint(self, state):
        """Make the image, or explain why not; returns without change when there is nothing to do."""
        params = self.params
        keeps_running = params['leave_running'] or params['pre_dump']
        alive = state is not None and state['status'] in ALIVE
        complete = image_is_complete(self.image_path)
        if complete and not params['force'] and (keeps_running or not alive):
            return
        if os.path.lexists(self.image_path) and not params['force']:
            if complete:
                raise TaskError('force: %s already holds a checkpoint image and container %s still runs; '
                                'set force to replace the image, or leave_running to keep the container '
                                'running beside it' % (self.image_path, self.container_id))
            raise TaskError('image_path: %s exists but holds no complete checkpoint image (no '
                            'inventory.img); remove it, or set force to replace it'
                            % self.image_path)
        if not alive:
            raise TaskError('name: container %s is %s, so there is nothing to checkpoint, and %s holds '
                            'no complete image' % (self.container_id, state['status'] if state else 'absent',
                                                   self.image_path))
        self.check_criu()
        self.changed = True
        if self.check_mode:
            self.planned.append(self.runc.argv('checkpoint', *self.checkpoint_options(self.image_path).args()
                                               + [self.container_id]))
            return
        self.write_image()

    def write_image(self):
        """Checkpoint into a hidden sibling folder, then move it into place."""
        parent = os.path.dirname(self.image_path.rstrip('/'))
        if not os.path.isdir(parent):
            os.makedirs(parent, mode=0o700)
        if self.params['lazy_pages']:
            # The restoring side reads the image while the dump still serves
            # pages: it has to be where it was told, from the start.
            partial = self.image_path
            if os.path.lexists(partial):
                remove_tree(partial)  # only reached with force
            os.makedirs(partial, mode=0o700)
        else:
            partial = tempfile.mkdtemp(prefix='.%s.partial-' % os.path.basename(self.image_path.rstrip('/')),
                                       dir=parent)
        try:
            self.runc.checkpoint(self.container_id, self.checkpoint_options(partial))
            if not image_is_complete(partial):
                raise RuncError('CRIU reported success but wrote no inventory.img to %s' % partial)
        except RuncError as error:
            details = log_tail(self.params['work_path'] or partial, 'dump.log')
            remove_tree(partial)
            state = current_state(self.runc, self.container_id)
            raise RuncError('%s%s; no image was kept, and container %s is %s' % (
                error, ' (CRIU: %s)' % details if details else '', self.container_id,
                state['status'] if state else 'gone'),
                argv=error.argv, exit_status=error.exit_status, stdout=error.stdout, stderr=error.stderr,
                runc_message=error.runc_message)
        if partial != self.image_path:
            self.move_into_place(partial)

    def move_into_place(self, partial):
        previous = None
        if os.path.lexists(self.image_path):
            previous = tempfile.mkdtemp(prefix='.%s.previous-' % os.path.basename(self.image_path.rstrip('/')),
                                        dir=os.path.dirname(self.image_path.rstrip('/')))
            os.rmdir(previous)
            os.rename(self.image_path, previous)
        try:
            os.rename(partial, self.image_path)
        except OSError:
            if previous:
                os.rename(previous, self.image_path)
            remove_tree(partial)
            raise
        if previous:
            remove_tree(previous)

    # -- restore -------------------------------------------------------------------------------------

    def restore_options(self, work_path):
        params = self.params
        return RestoreOptions(
            image_path=self.image_path, work_path=work_path, tcp_established=params['tcp_established'],
            ext_unix_sk=params['ext_unix_sk'], shell_job=params['shell_job'], file_locks=params['file_locks'],
            manage_cgroups_mode=params['manage_cgroups_mode'], empty_ns=list(params['empty_ns'] or []),
            lazy_pages=params['lazy_pages'], auto_dedup=params['auto_dedup'], detach=True,
            pid_file=params['pid_file'], no_subreaper=params['no_subreaper'], no_pivot=params['no_pivot'],
            console_socket=params['console_socket'], extra_args=list(params['extra_args'] or []),
            io=ProcessIO(stdout_path=self.stdio_path('stdout_path', params['bundle']),
                         stderr_path=self.stdio_path('stderr_path', params['bundle'])))

    def restore(self, state):
        params = self.params
        status = state['status'] if state else 'absent'
        if status in ALIVE:
            return
        if status == 'created':
            raise TaskError('name: container %s exists but was never started; delete it before restoring'
                            % self.container_id)
        if not image_is_complete(self.image_path):
            raise TaskError('image_path: %s holds no complete checkpoint image (no inventory.img)'
                            % self.image_path)
        if not params['bundle']:
            raise TaskError('bundle: required to restore container %s' % self.container_id)
        self.check_criu()
        self.changed = True
        if self.check_mode:
            if status == 'stopped':
                self.planned.append(self.runc.argv('delete', self.container_id))
            self.planned.append(self.runc.argv('restore', *self.restore_options(params['work_path']).args()
                                               + ['--bundle', params['bundle'], self.container_id]))
            return
        if status == 'stopped':
            # A stopped container under the id would make restore fail; it is dead.
            self.runc.delete(self.container_id, DeleteOptions())
        # CRIU's logs go to a private folder, so the image stays as it was.
        work_path = params['work_path'] or tempfile.mkdtemp(prefix='runc-restore-')
        try:
            self.runc.restore(self.container_id, params['bundle'], self.restore_options(work_path))
        except RuncError as error:
            details = log_tail(work_path, 'restore.log')
            raise RuncError('%s%s' % (error, ' (CRIU: %s)' % details if details else ''), argv=error.argv,
                            exit_status=error.exit_status, stdout=error.stdout, stderr=error.stderr,
                            runc_message=error.runc_message)
        finally:
            if not params['work_path']:
                remove_tree(work_path)

    # -- the task --------------------------------------------------------------------------------------

    def manage(self):
        before = current_state(self.runc, self.container_id)
        image_before = image_is_complete(self.image_path)
        if self.params['state'] == 'checkpointed':
            self.checkpoint(before)
        else:
            self.restore(before)
        after = current_state(self.runc, self.container_id) if self.changed and not self.check_mode else before
        result = dict(changed=self.changed, actions=self.actions(), image_path=self.image_path,
                      image_complete=image_is_complete(self.image_path), criu=self.criu,
                      container=None if after is None else {key: after.get(key) for key in
                                                            ('id', 'pid', 'status', 'bundle', 'created')})
        if self.module._diff:
            checkpointing = self.changed and self.params['state'] == 'checkpointed'
            result['diff'] = dict(
                before=dict(container=before['status'] if before else 'absent', image_complete=image_before),
                after=dict(container=self.expected_status(before, after),
                           image_complete=result['image_complete'] or checkpointing))
        return result

    def expected_status(self, before, after):
        if not self.check_mode or not self.changed:
            return after['status'] if after else 'absent'
        if self.params['state'] == 'restored':
            return 'running'
        keeps_running = self.params['leave_running'] or self.params['pre_dump']
        return before['status'] if keeps_running else 'absent'
