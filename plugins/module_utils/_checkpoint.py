# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""runc_checkpoint's logic: checkpoint to a complete image or not at all; restore from one.

An image is complete when CRIU's ``inventory.img`` is in it. A checkpoint
is written to a hidden sibling folder and renamed to ``image_path`` only
once CRIU succeeded, so ``image_path`` never holds half an image; an image
already there is replaced only with ``force``, and restore never removes one.

Only an image this collection made is ever replaced: a folder carrying the
marker it writes first into every folder it makes, and holding nothing but
runc's, CRIU's and the collection's files. A complete image without the
marker (made by runc itself, or copied without it) is kept, force or not.
Runc roots, bundles, rootfs folders and their ancestors are refused before
anything is done. What is at image_path is looked at again under a lock on
image_path right before the dump and right before the new image is moved
into place: whatever came meanwhile is left alone.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import signal
import stat
import tempfile
import time

from ansible_collections.oci_runtime.runc.plugins.module_utils._criu import (
    IMAGE_COMPLETE,
    MARKER,
    RECORD,
    CriuProblem,
    NotAnImage,
    check_criu,
    image_kind,
    is_marked,
    log_tail,
    mark_image_folder,
    marked_for,
    remove_tree,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils._lifecycle import current_state, state_facts
from ansible_collections.oci_runtime.runc.plugins.module_utils._options import CHECKPOINT, flag_values
from ansible_collections.oci_runtime.runc.plugins.module_utils._runc_root import PREFIX, Record, file_key
from ansible_collections.oci_runtime.runc.plugins.module_utils._task import (
    ContainerTask,
    TaskError,
    checked_id,
    is_within,
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


def interrupted_images(target, container_id):
    """The .NAME.partial-* folders beside target holding a complete image of container_id (see leftovers)."""
    return [path for path, kind in leftovers(target)
            if kind == IMAGE_COMPLETE and '.partial-' in os.path.basename(path) and marked_for(path) == container_id]


class ImageLock:
    """An exclusive flock on ``.oci_runtime_runc.NAME.lock`` beside the image NAME, removed on release.

    Container locks are per container: this one keeps two checkpoints (of
    different containers, say) from writing one image_path at once. The
    file carries LOCK_TEXT from the moment it exists (it is written under
    another name and linked into place), and a file of that name without it
    is somebody else's: it is refused, never locked, changed or removed.
    """

    LOCK_TEXT = ('oci_runtime.runc.runc_checkpoint holds this lock while it writes the checkpoint image beside it; '
                 'it removes the file afterwards.\n')

    def __init__(self, target, timeout):
        folder, name = os.path.split(target)
        self.folder = folder
        self.path = os.path.join(folder, '%s%s.lock' % (PREFIX, file_key(name)))
        self.timeout = timeout
        self.fd = None

    def __enter__(self):
        deadline = time.monotonic() + self.timeout
        while True:
            fd = self.open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                os.close(fd)
                if error.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() > deadline:
                    raise TaskError('lock_timeout: another task has been writing a checkpoint image to the same '
                                    'image_path for more than %s seconds (it holds %s); nothing was changed'
                                    % (self.timeout, self.path))
                time.sleep(0.05)
                continue
            # The holder before us removed the file on release: a lock on it protects nothing.
            if self.same_file(fd):
                self.fd = fd
                return self
            os.close(fd)

    def open(self):
        while True:
            try:
                fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
            except FileNotFoundError:
                self.create()
                continue
            except OSError as error:
                raise TaskError('image_path: %s, where this module keeps its lock on image_path, cannot be '
                                'opened (%s); it is not the collection\'s: remove it, or choose another '
                                'image_path; nothing was changed' % (self.path, error.strerror or error))
            try:
                info = os.fstat(fd)
                ours = stat.S_ISREG(info.st_mode) and os.read(fd, len(self.LOCK_TEXT) + 1) == \
                    self.LOCK_TEXT.encode()
            except OSError:
                ours = False
            if ours:
                return fd
            os.close(fd)
            raise TaskError('image_path: %s, where this module keeps its lock on image_path, is there and is '
                            'not the collection\'s lock file; it is left alone: remove it, or choose another '
                            'image_path; nothing was changed' % self.path)

    def create(self):
        handle, temporary = tempfile.mkstemp(prefix=PREFIX, suffix='.tmp', dir=self.folder)
        try:
            with os.fdopen(handle, 'w') as stream:
                stream.write(self.LOCK_TEXT)
            try:
                os.link(temporary, self.path)
            except FileExistsError:
                pass    # another task made it first
        finally:
            os.unlink(temporary)

    def same_file(self, fd):
        try:
            on_disk = os.lstat(self.path)
        except FileNotFoundError:
            return False
        held = os.fstat(fd)
        return (held.st_dev, held.st_ino) == (on_disk.st_dev, on_disk.st_ino)

    def __exit__(self, *exc_info):
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        finally:
            os.close(self.fd)
            self.fd = None


class CheckpointManager(ContainerTask):
    def __init__(self, module):
        super().__init__(module)
        self.image_path = self.params['image_path']
        # Every check and every change of a checkpoint uses this one path.
        # (Resolved in validate(), where a path no system call takes fails naming its option.)
        self.image_target = None
        # On a timeout, the runtime's CRIU must die with it, not linger holding mounts.
        self.runc.setpgid = True
        if self.params['state'] == 'checkpointed':
            # A module killed mid-dump takes runc with it: CRIU then fails the
            # dump at its next word to runc and lets the container run on,
            # instead of finishing, killing the container and leaving the only
            # copy of its state in a hidden folder (see docs/checkpoint.md).
            self.runc.pdeath_signal = int(signal.SIGKILL)
        self.record = None     # the container's record, copied into the image
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

    def replace_problem(self, existing):
        """Why the checkpoint may not replace what image_kind found at image_path (existing), or None."""
        if existing is None:
            return None
        if not is_marked(self.image_target):
            return ('holds a complete checkpoint image that this collection did not make (no %s marker: made by '
                    'runc itself, or copied without it); it is never replaced, force or not: remove it by hand, '
                    'or choose another image_path' % MARKER)
        if self.params['force']:
            return None
        if existing == IMAGE_COMPLETE:
            return 'holds a checkpoint image, and force is not set'
        return ('holds an incomplete checkpoint image this collection left (no inventory.img); set force to '
                'replace it')

    def checkpoint(self, state):
        """Make the image, or explain why not; returns without change when there is nothing to do."""
        params = self.params
        keeps_running = params['leave_running'] or params['pre_dump']
        alive = state is not None and state['status'] in ALIVE
        existing = self.refuse_unsafe_target(state)
        complete = existing == IMAGE_COMPLETE
        if complete and (not alive or (keeps_running and not params['force'])):
            return
        if not alive:
            if existing is None and self.finish_interrupted(state['status'] if state else 'absent'):
                return
            others = [path for path, kind in leftovers(self.image_target)
                      if kind == IMAGE_COMPLETE and '.partial-' in os.path.basename(path)]
            raise TaskError('name: container %s is %s, so there is nothing to checkpoint, and %s holds no complete '
                            'image%s' % (self.container_id, state['status'] if state else 'absent', self.image_path,
                                         '; %s beside it %s a complete image that an interrupted checkpoint of '
                                         'another container left' % (', '.join(others), 'holds' if len(others) == 1
                                                                     else 'each hold') if others else ''))
        if complete and not params['force'] and is_marked(self.image_target):
            raise TaskError('force: %s already holds a checkpoint image and container %s still runs; '
                            'set force to replace the image, or leave_running to keep the container '
                            'running beside it' % (self.image_path, self.container_id))
        problem = self.replace_problem(existing)
        if problem:
            raise TaskError('image_path: %s %s' % (self.image_path, problem))
        self.check_criu()
        self.changed = True
        if self.check_mode:
            self.planned.append(self.runc.argv('checkpoint', *self.checkpoint_options(self.image_target).args()
                                               + [self.container_id]))
            return
        self.record = Record(self.root, self.container_id).load(state.get('created'))
        self.write_image()

    def finish_interrupted(self, status):
        """Move the one complete image an interrupted checkpoint of this container left into place.

        A run killed after CRIU succeeded leaves the container gone and its
        only copy in a hidden .NAME.partial-* folder: moving it to
        image_path is what that run had left to do. True when it was moved
        (or would be, in check mode); False when there is none.
        """
        found = interrupted_images(self.image_target, self.container_id)
        if len(found) > 1:
            raise TaskError('image_path: container %s is %s and %s holds no image, but %d folders beside it hold '
                            'a complete image that interrupted checkpoints of it left (%s); which one is its last '
                            'state cannot be told: move the one you want to %s yourself, and remove the others'
                            % (self.container_id, status, self.image_path, len(found), ', '.join(found),
                               self.image_path))
        if not found:
            return False
        interrupted = found[0]
        self.changed = True
        if self.check_mode:
            self.module.warn('image_path: %s holds the complete image of container %s that an interrupted checkpoint '
                             'left; it would be moved to %s, which finishes that checkpoint'
                             % (interrupted, self.container_id, self.image_path))
            return True
        with ImageLock(self.image_target, self.params['lock_timeout']):
            # Looked at again under the lock: another task may have been at it meanwhile.
            try:
                free = image_kind(self.image_target) is None
            except NotAnImage:
                free = False
            if not free or interrupted not in interrupted_images(self.image_target, self.container_id):
                raise TaskError('image_path: %s or the image an interrupted checkpoint left at %s changed while '
                                'this task waited for its lock on image_path; nothing was changed: run the task '
                                'again' % (self.image_path, interrupted))
            try:
                os.rename(interrupted, self.image_target)
            except OSError as error:
                raise TaskError('image_path: %s holds the complete image of container %s that an interrupted '
                                'checkpoint left, but it cannot be moved to %s (%s); it is still there: move it '
                                'yourself; nothing was changed' % (interrupted, self.container_id, self.image_path,
                                                                   error.strerror or error))
        self.module.warn('image_path: container %s is %s and %s held no image; the complete image that an '
                         'interrupted checkpoint of it left at %s was moved there, which finishes that checkpoint'
                         % (self.container_id, status, self.image_path, interrupted))
        return True

    def target_problem(self):
        """What is at image_path now, looked at again exactly as before acting: None when it may be written."""
        try:
            return self.replace_problem(image_kind(self.image_target))
        except NotAnImage as problem:
            return str(problem)

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
            with ImageLock(self.image_target, self.params['lock_timeout']):
                # Another task may have written image_path while this one waited for the lock.
                problem = self.target_problem()
                if problem:
                    raise TaskError('image_path: %s %s now, which it did not when this task looked (it changed '
                                    'meanwhile); it is left alone; nothing was changed, and container %s is %s'
                                    % (self.image_path, problem, self.container_id, self.status_now()))
                if self.params['lazy_pages']:
                    self.dump_in_place()
                else:
                    self.move_into_place(self.dump_aside())
                self.remove_leftovers()
        except BaseException:
            # Only the folders made for this run, and only while they are empty.
            remove_empty(made)
            raise

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
            self.copy_record(partial)
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

    def copy_record(self, folder):
        """Put the container's record into the image, for the restored container (see adopt_record)."""
        if self.record is None:
            return
        with open(os.open(os.path.join(folder, RECORD), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), 'w') as stream:
            json.dump({'container': self.container_id, 'record': self.record}, stream, sort_keys=True)

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
        """Rename a complete image to image_path, keeping it where it is if that fails.

        What is at image_path is looked at again first, as before the dump:
        a folder somebody made there meanwhile, or an image another task
        wrote, stays, and so does the new image, where it is.
        """
        target = self.image_target
        problem = self.target_problem()
        if problem:
            raise TaskError('image_path: CRIU made a complete image, but %s %s now, which it did not when this task '
                            'looked (it changed while the checkpoint ran), so it was left alone; the new image is '
                            'kept at %s: move it where you need it, and container %s is %s'
                            % (self.image_path, problem, partial, self.container_id, self.status_now()))
        previous = None
        if os.path.lexists(target):
            try:
                previous = self.hidden_name('previous')
                os.rename(target, previous)
            except OSError as error:
                raise self.stranded(partial, error, 'is still at %s' % self.image_path)
            # Checked where it now is: what was moved aside is what may be removed.
            try:
                still_ours = image_kind(previous) is not None and is_marked(previous)
            except NotAnImage:
                still_ours = False
            if not still_ours:
                problem = self.put_back(previous)
                raise TaskError('image_path: CRIU made a complete image, but what is at %s changed while it was '
                                'being replaced, so it was left alone%s; the new image is kept at %s: move it where '
                                'you need it, and container %s is %s'
                                % (self.image_path, ' (%s)' % problem if problem else '', partial,
                                   self.container_id, self.status_now()))
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
        self.adopt_record()

    def adopt_record(self):
        """Give the restored container the record its image carries, valid for its new created time.

        Only under the id it was recorded for: another id is another
        container, made from another bundle.
        """
        try:
            with open(os.path.join(self.image_path, RECORD)) as stream:
                carried = json.load(stream)
        except (OSError, ValueError):
            return
        if not isinstance(carried, dict) or carried.get('container') != self.container_id \
                or not isinstance(carried.get('record'), dict):
            return
        values = {key: value for key, value in carried['record'].items() if key != 'created'}
        try:
            state = current_state(self.runc, self.container_id)
            if state is None or not state.get('created'):
                raise OSError('runc shows no created time for it')
            Record(self.root, self.container_id).save(state['created'], **values)
        except (OSError, RuncError) as error:
            self.module.warn('image_path: container %s was restored, but the record of it that %s carries could not '
                             'be saved in %s (%s); runc_container may re-create it after a runtime change'
                             % (self.container_id, self.image_path, self.root, error))

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
                      container=state_facts(after))
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
