# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""runc_checkpoint's logic: checkpoint to a complete image or not at all; restore from one.

An image is complete when CRIU's ``inventory.img`` is in it. A checkpoint
is written to a hidden sibling folder and renamed to ``image_path`` only
once CRIU succeeded, so ``image_path`` never holds half an image; an image
already there is replaced only with ``force``, and restore never removes one.

Only what is an image is ever replaced: a folder holding nothing but runc's
and CRIU's files, complete or carrying the marker this collection writes
first into every folder it makes. Runc roots, bundles, rootfs folders and
their ancestors are refused before anything is done, force or not.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile

from ansible_collections.oci_runtime.runc.plugins.module_utils._criu import (
    IMAGE_COMPLETE,
    MARKER,
    CriuProblem,
    NotAnImage,
    check_criu,
    image_kind,
    log_tail,
    mark_image_folder,
    remove_tree,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils._lifecycle import current_state
from ansible_collections.oci_runtime.runc.plugins.module_utils._options import CHECKPOINT, flag_values
from ansible_collections.oci_runtime.runc.plugins.module_utils._task import (
    ContainerTask,
    TaskError,
    checked_id,
    require_absolute,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils.runc import (
    CheckpointOptions,
    DeleteOptions,
    ProcessIO,
    RestoreOptions,
    RuncError,
)

ALIVE = ('running', 'paused')
_PAGE_SERVER = re.compile(r'^[^\s:]*:\d{1,5}$')
_NAMESPACES = ('network', 'pid', 'ipc', 'uts', 'mount', 'cgroup', 'user')
_PATH_OPTIONS = ('image_path', 'work_path', 'parent_path', 'bundle', 'status_file', 'stdout_path', 'stderr_path',
                 'pid_file', 'console_socket')


def image_is_complete(path):
    return os.path.isfile(os.path.join(path, 'inventory.img'))


def resolved_target(path):
    """The path with its parent folders' symbolic links resolved; the last component as given."""
    path = os.path.normpath(path)
    return os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))


def resolved(option, path, resolve=os.path.realpath):
    """path resolved; a path the system cannot take fails naming its option, never with a traceback."""
    try:
        return resolve(path)
    except (ValueError, OSError) as error:
        raise TaskError('%s: cannot resolve %r: %s' % (option, path, error))


def is_within(path, folder):
    """Whether path is folder or lies below it (both resolved)."""
    return path == folder or path.startswith(folder.rstrip('/') + '/')


def rootfs_of(bundle):
    """The rootfs folder a bundle's config.json names, or None when it cannot be read."""
    try:
        with open(os.path.join(bundle, 'config.json')) as stream:
            rootfs = json.load(stream)['root']['path']
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return os.path.join(bundle, rootfs) if isinstance(rootfs, str) else None


def looks_like_runc_root(path):
    """A subfolder holding state.json, as runc keeps one per container; its name, or None."""
    try:
        names = os.listdir(path)
    except OSError:
        return None
    for name in sorted(names):
        if os.path.isfile(os.path.join(path, name, 'state.json')):
            return name
    return None


def remove_empty(folders):
    """Remove the folders given (outermost first) from the innermost out, while they are empty."""
    for folder in reversed(folders):
        try:
            os.rmdir(folder)
        except OSError:
            return


def leftovers(target):
    """(path, kind) of the hidden folders beside target that an interrupted checkpoint of it left.

    Only folders named as this module names them (.NAME.partial-* and
    .NAME.previous-*), not symbolic links, carrying the collection's marker
    and holding nothing but an image's files.
    """
    folder, name = os.path.split(target)
    pattern = re.compile(r'^\.%s\.(partial|previous)-[A-Za-z0-9_]+$' % re.escape(name))
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    found = []
    for entry in names:
        path = os.path.join(folder, entry)
        if not pattern.match(entry) or os.path.islink(path) or not os.path.isdir(path):
            continue
        try:
            if not stat.S_ISREG(os.lstat(os.path.join(path, MARKER)).st_mode):
                continue
            found.append((path, image_kind(path)))
        except (OSError, NotAnImage):
            continue
    return found


class CheckpointManager(ContainerTask):
    def __init__(self, module):
        super().__init__(module)
        self.image_path = self.params['image_path']
        # Every check and every change of a checkpoint uses this one path.
        # (Resolved in validate(), where a path no system call takes fails naming its option.)
        self.image_target = None
        # On a timeout, the runtime's CRIU must die with it, not linger holding mounts.
        self.runc.setpgid = True
        self.criu = None
        self.warned = set()     # folders a warning already named

    # -- input ----------------------------------------------------------------------------------

    def validate(self):
        params = self.params
        checked_id(self.container_id)
        for option in _PATH_OPTIONS:
            if params.get(option) and '\0' in params[option]:
                raise TaskError('%s: %r holds a NUL byte, which no path can hold' % (option, params[option]))
        require_absolute(params, 'image_path', 'work_path', 'parent_path', 'bundle', 'status_file')
        self.image_target = resolved('image_path', self.image_path, resolved_target) if self.image_path else None
        if params['page_server'] and not _PAGE_SERVER.match(params['page_server']):
            raise TaskError('page_server: %r is not ADDRESS:PORT' % params['page_server'])
        for namespace in params['empty_ns'] or []:
            if namespace not in _NAMESPACES:
                raise TaskError('empty_ns: %r is not one of %s' % (namespace, ', '.join(_NAMESPACES)))
        if params['state'] == 'restored':
            if params['bundle'] and not os.path.isfile(os.path.join(params['bundle'], 'config.json')):
                raise TaskError('bundle: %s has no config.json' % params['bundle'])
        if self.image_target == '/':
            raise TaskError('image_path: must not be /')
        if params['status_file'] and not os.path.isdir(os.path.dirname(os.path.normpath(params['status_file']))):
            raise TaskError('status_file: the folder of %s does not exist' % params['status_file'])
        work_path = params['work_path']
        if work_path and self.image_target and is_within(resolved('work_path', work_path), self.image_target):
            raise TaskError('work_path: %s is in image_path %s; CRIU writes its work files and logs there, which '
                            'would change the image: give a folder of its own' % (work_path, self.image_path))

    def check_criu(self):
        try:
            self.criu = check_criu(memory_tracking=self.params['pre_dump'] or bool(self.params['parent_path']),
                                   lazy_pages=self.params['lazy_pages'])
        except CriuProblem as problem:
            raise TaskError(str(problem))

    # -- checkpoint ---------------------------------------------------------------------------------

    def checkpoint_options(self, image_path):
        params = self.params
        return CheckpointOptions(image_path=image_path, work_path=params['work_path'],
                                 **flag_values(CHECKPOINT, 'checkpoint', params))

    def protected_places(self, state):
        """(folder, what it is) pairs an image must neither be nor hold: runc's and the containers'."""
        places = [(resolved('root', self.root), 'the runc root of this task')]
        containers = list(self.runc.list())
        if state is not None and state['id'] not in [other.get('id') for other in containers]:
            containers.append(state)
        for container in containers:
            bundle = container.get('bundle')
            if not isinstance(bundle, str) or not bundle or '\0' in bundle:
                continue
            places.append((os.path.realpath(bundle), 'the bundle of container %s' % container.get('id')))
            rootfs = container.get('rootfs') or rootfs_of(bundle)
            if isinstance(rootfs, str) and rootfs and '\0' not in rootfs:
                places.append((os.path.realpath(rootfs), 'the rootfs of container %s' % container.get('id')))
        if self.params['bundle']:
            places.append((resolved('bundle', self.params['bundle']), 'the bundle given in the bundle option'))
        return places

    def refuse_unsafe_target(self, state):
        """Fail, before anything is done, when the checkpoint would replace what is not an image."""
        target = self.image_target
        for place, what in self.protected_places(state):
            if target == place:
                raise TaskError('image_path: %s is %s; a checkpoint never replaces it, force or not'
                                % (self.image_path, what))
            if is_within(place, target):
                raise TaskError('image_path: %s holds %s (%s); a checkpoint never replaces it, force or not'
                                % (self.image_path, what, place))
            if what.startswith('the runc root') and is_within(target, place):
                raise TaskError('image_path: %s is inside %s (%s), where runc keeps container state; give a '
                                'folder outside it' % (self.image_path, what, place))
        if os.path.isdir(target) and not os.path.islink(target):
            container_folder = looks_like_runc_root(target)
            if container_folder:
                raise TaskError('image_path: %s looks like a runc root (%s/state.json); a checkpoint never '
                                'replaces it, force or not' % (self.image_path, container_folder))
        try:
            return image_kind(target)
        except NotAnImage as problem:
            raise TaskError('image_path: %s %s; it is not a checkpoint image, so it is left alone: choose a '
                            'path where nothing is, or remove it yourself' % (self.image_path, problem))

    def checkpoint(self, state):
        """Make the image, or explain why not; returns without change when there is nothing to do."""
        params = self.params
        keeps_running = params['leave_running'] or params['pre_dump']
        alive = state is not None and state['status'] in ALIVE
        existing = self.refuse_unsafe_target(state)
        complete = existing == IMAGE_COMPLETE
        if complete and not params['force'] and (keeps_running or not alive):
            return
        if existing and not params['force']:
            if complete:
                raise TaskError('force: %s already holds a checkpoint image and container %s still runs; '
                                'set force to replace the image, or leave_running to keep the container '
                                'running beside it' % (self.image_path, self.container_id))
            raise TaskError('image_path: %s holds an incomplete checkpoint image this collection left (no '
                            'inventory.img); set force to replace it' % self.image_path)
        if not alive:
            raise TaskError('name: container %s is %s, so there is nothing to checkpoint, and %s holds '
                            'no complete image' % (self.container_id, state['status'] if state else 'absent',
                                                   self.image_path))
        self.check_criu()
        self.changed = True
        if self.check_mode:
            self.planned.append(self.runc.argv('checkpoint', *self.checkpoint_options(self.image_target).args()
                                               + [self.container_id]))
            return
        self.write_image()

    def status_now(self):
        """The container's status in words, for messages: 'running', 'stopped', 'gone', ..."""
        try:
            state = current_state(self.runc, self.container_id)
        except RuncError as error:
            return 'in a state runc cannot tell (%s)' % error
        return state['status'] if state else 'gone'

    def hidden_name(self, kind):
        """A new, free, hidden path beside the image, for a partial or a previous image."""
        target = self.image_target
        folder = tempfile.mkdtemp(prefix='.%s.%s-' % (os.path.basename(target), kind), dir=os.path.dirname(target))
        os.rmdir(folder)
        return folder

    def make_parent(self):
        """Make image_path's missing parent folders; the ones made, outermost first."""
        made = []
        folder = os.path.dirname(self.image_target)
        while not os.path.isdir(folder) and folder != os.path.dirname(folder):
            made.insert(0, folder)
            folder = os.path.dirname(folder)
        try:
            for folder in made:
                os.mkdir(folder, 0o700)
        except OSError as error:
            remove_empty(made)
            raise TaskError('image_path: cannot make the folder %s: %s; nothing was changed, and container %s '
                            'is %s' % (folder, error.strerror or error, self.container_id, self.status_now()))
        return made

    def write_image(self):
        """Checkpoint into a folder marked as ours, and keep the image there only once it is complete.

        Every failure says where the earlier and the new image are and what
        the container is; a complete image is never removed once CRIU made it.
        """
        made = self.make_parent()
        try:
            if self.params['lazy_pages']:
                self.dump_in_place()
            else:
                self.move_into_place(self.dump_aside())
        except BaseException:
            # Only the folders made for this run, and only while they are empty.
            remove_empty(made)
            raise
        self.remove_leftovers()

    def dump_aside(self):
        """Dump into a hidden folder beside the image; the folder, holding a complete image."""
        try:
            partial = self.hidden_name('partial')
            os.mkdir(partial, 0o700)
        except OSError as error:
            raise TaskError('image_path: cannot make a folder for the new image beside %s: %s; nothing was '
                            'changed, and container %s is %s'
                            % (self.image_path, error.strerror or error, self.container_id, self.status_now()))
        self.dump(partial, previous=None)
        return partial

    def dump_in_place(self):
        # The restoring side reads the image while the dump still serves
        # pages: it has to be where it was told, from the start. An image
        # already there waits aside until the new one is complete.
        target = self.image_target
        previous = None
        if os.path.lexists(target):
            try:
                previous = self.hidden_name('previous')
                os.rename(target, previous)
            except OSError as error:
                raise TaskError('image_path: cannot move the earlier image at %s aside: %s; nothing was '
                                'changed, and container %s is %s'
                                % (self.image_path, error.strerror or error, self.container_id, self.status_now()))
        try:
            os.mkdir(target, 0o700)
        except OSError as error:
            raise TaskError('image_path: cannot make the folder %s: %s; %s, and container %s is %s' % (
                self.image_path, error.strerror or error, self.put_back(previous) or 'nothing was changed',
                self.container_id, self.status_now()))
        self.dump(target, previous)
        if previous:
            self.remove_previous(previous)

    def dump(self, partial, previous):
        """Run CRIU into partial; on any failure, discard partial, put previous back and explain."""
        try:
            mark_image_folder(partial, self.container_id)
            self.runc.checkpoint(self.container_id, self.checkpoint_options(partial))
            if not image_is_complete(partial):
                raise RuncError('CRIU reported success but wrote no inventory.img to %s' % partial)
        except (RuncError, OSError) as error:
            details = log_tail(self.params['work_path'] or partial, 'dump.log')
            where = self.discard(partial, previous)
            status = self.status_now()
            if isinstance(error, OSError):
                raise TaskError('%s: %s; %s, and container %s is %s' % (
                    'image_path' if str(error.filename or '').startswith(partial) else self.option_of_path(error.filename),
                    error, where, self.container_id, status))
            raise RuncError('%s%s; %s, and container %s is %s' % (
                error, ' (CRIU: %s)' % details if details else '', where, self.container_id, status),
                argv=error.argv, exit_status=error.exit_status, stdout=error.stdout, stderr=error.stderr,
                runc_message=error.runc_message, timed_out=error.timed_out)
        except BaseException:
            # Killed or interrupted: still bring the earlier image back.
            self.discard(partial, previous)
            raise

    def discard(self, partial, previous):
        """Remove an incomplete image and put the earlier one back; where things are, in words."""
        notes = []
        try:
            if previous and partial == self.image_target:
                # Out of the way first, so that the earlier image can come back
                # even if this one cannot be removed.
                try:
                    aside = self.hidden_name('partial')
                    os.rename(partial, aside)
                    partial = aside
                except OSError:
                    pass
            try:
                remove_tree(partial)
            except OSError as error:
                notes.append('the incomplete image is left at %s (%s); remove it yourself'
                             % (partial, error.strerror or error))
        finally:
            problem = self.put_back(previous)
        if problem:
            notes.insert(0, problem)
        return '; '.join(['no image was kept%s' % (' (the earlier image is back in place)'
                                                   if previous and not problem else '')] + notes)

    def put_back(self, previous):
        """Bring the earlier image back to image_path; None, or what went wrong in words."""
        if not previous:
            return None
        try:
            os.rename(previous, self.image_target)
        except OSError as error:
            return ('the earlier image could not be put back (%s) and is at %s: move it to %s yourself'
                    % (error.strerror or error, previous, self.image_path))
        return None

    def move_into_place(self, partial):
        """Rename a complete image to image_path, keeping it where it is if that fails."""
        target = self.image_target
        previous = None
        if os.path.lexists(target):
            try:
                previous = self.hidden_name('previous')
                os.rename(target, previous)
            except OSError as error:
                raise self.stranded(partial, error, 'is still at %s' % self.image_path)
        try:
            os.rename(partial, target)
        except OSError as error:
            problem = self.put_back(previous)
            raise self.stranded(partial, error, None if not previous else
                                problem.replace('the earlier image ', '') if problem
                                else 'is still at %s' % self.image_path)
        if previous:
            self.remove_previous(previous)

    def stranded(self, partial, error, earlier):
        """The error of a complete image that could not be moved to image_path."""
        return TaskError('image_path: CRIU made a complete image, but it cannot be moved to %s (%s); the new '
                         'image is kept at %s: move it there yourself%s, and container %s is %s'
                         % (self.image_path, error.strerror or error, partial,
                            '; the earlier image %s' % earlier if earlier else '', self.container_id,
                            self.status_now()))

    def remove_previous(self, previous):
        """The new image is in place; the earlier one goes, or a warning says where it still is."""
        try:
            remove_tree(previous)
        except OSError as error:
            self.warned.add(previous)
            marked = os.path.isfile(os.path.join(previous, MARKER))
            self.module.warn('image_path: the new image is at %s, but the earlier image it replaced could not be '
                             'removed completely from %s (%s); %s' % (
                                 self.image_path, previous, error.strerror or error,
                                 'the next checkpoint to %s removes it, or remove it yourself' % self.image_path
                                 if marked else 'remove it yourself'))

    def remove_leftovers(self):
        """Remove the hidden folders an interrupted checkpoint of this image_path left beside it."""
        for path, kind in leftovers(self.image_target):
            if path in self.warned:
                continue
            if kind == IMAGE_COMPLETE and '.partial-' in os.path.basename(path):
                # A dump that succeeded before its run was killed: it may be the
                # only copy of a container's state.
                self.module.warn('image_path: %s holds a complete checkpoint image that an interrupted run '
                                 'left; it was kept: move it where you need it, or remove it' % path)
                continue
            try:
                remove_tree(path)
            except OSError as error:
                self.module.warn('image_path: cannot remove %s, which an interrupted checkpoint left: %s'
                                 % (path, error.strerror or error))

    # -- restore -------------------------------------------------------------------------------------

    def restore_options(self, work_path):
        params = self.params
        return RestoreOptions(
            image_path=self.image_path, work_path=work_path, detach=True,
            io=ProcessIO(stdout_path=self.stdio_path('stdout_path', params['bundle']),
                         stderr_path=self.stdio_path('stderr_path', params['bundle'])),
            **flag_values(CHECKPOINT, 'restore', params))

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
