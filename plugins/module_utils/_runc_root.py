# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Files the collection keeps beside runc's own, in the runc root folder.

All are regular files named ``.oci_runtime_runc.*``: runc lists only
folders of its root as containers, so they never show up as one.

* ``<id>.lock``: serialises two plays that manage the same container.
* ``<id>.json``: what the collection applied to a container after creating
  it (``runc update`` changes resources, not the annotations runc shows).
* ``~default-spec.<key>.json`` (after ``.oci_runtime_runc``, with a ``~``
  no container id holds, so that no container's files can be taken for
  it): the runtime's default spec, one file per runtime path, so that a
  no-op run needs no runtime call besides ``runc state``.

A container id longer than ID_IN_NAME_LIMIT is replaced in file names by its
digest, behind a ``~`` no container id can hold, so that any id runc accepts
gives a file name the filesystem accepts.
"""

from __future__ import annotations

import copy
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import threading
import time

PREFIX = '.oci_runtime_runc.'
DEFAULT_SPEC_PREFIX = '.oci_runtime_runc~default-spec.'
# Where earlier versions of the collection kept the cache (a plain spec): a
# container whose id starts with "default-spec." has files of that prefix too.
_OLD_DEFAULT_SPEC = re.compile(r'^\.oci_runtime_runc\.default-spec\.[0-9a-f]{20}\.json$')
# File names are limited to 255 bytes; the prefix and suffixes take the rest.
ID_IN_NAME_LIMIT = 200


class LockTimeout(Exception):
    pass


def default_root(runtime_path):
    """Where runc (or crun, ...) keeps its state when --root is not given."""
    name = os.path.basename(runtime_path) or 'runc'
    if os.geteuid() != 0 and os.environ.get('XDG_RUNTIME_DIR'):
        return os.path.join(os.environ['XDG_RUNTIME_DIR'], name)
    return os.path.join('/run', name)


def file_key(container_id):
    """The part of the collection's file names that stands for a container id."""
    if len(container_id.encode('utf-8')) <= ID_IN_NAME_LIMIT:
        return container_id
    return '~' + hashlib.sha256(container_id.encode('utf-8')).hexdigest()


def own_file(root, container_id, suffix):
    return os.path.join(root, '%s%s.%s' % (PREFIX, file_key(container_id), suffix))


def write_atomically(path, text, mode=0o600, prefix=PREFIX, suffix='.tmp'):
    """Replace path with text in one rename: readers see the old content or the new, never half."""
    folder = os.path.dirname(path)
    handle, temporary = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=folder)
    try:
        with os.fdopen(handle, 'w') as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.rename(temporary, path)
    except BaseException:
        if os.path.lexists(temporary):
            os.unlink(temporary)
        raise


class ContainerLock:
    """An exclusive flock on ``<root>/.oci_runtime_runc.<id>.lock``.

    ``create=False`` (check mode) locks only a lock file that already exists
    and creates nothing: a dry run has nothing to protect but must still not
    read a container another play is halfway through changing.
    """

    def __init__(self, root, container_id, timeout=60.0, create=True):
        self.path = own_file(root, container_id, 'lock')
        self.root = root
        self.timeout = timeout
        self.create = create
        self._fd = None
        # What this lock made, so that a failed task can take it back (undo_creation).
        self.created_root = False
        self.created_file = False
        # Whether another task held it first: what was read of the container before may be stale.
        self.waited = False

    def acquire(self):
        deadline = time.monotonic() + self.timeout
        while True:
            fd = self._open()
            if fd is None:
                return self
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() > deadline:
                    raise LockTimeout('another task holds %s for more than %s seconds'
                                      % (self.path, self.timeout))
                self.waited = True
                time.sleep(0.05)
                continue
            # The holder before us may have removed the file (state=absent);
            # a lock on a removed file protects nothing.
            if self._same_file(fd):
                self._fd = fd
                return self
            os.close(fd)

    def _open(self):
        if self.create:
            if not os.path.isdir(self.root):
                os.makedirs(self.root, mode=0o700, exist_ok=True)
                self.created_root = True
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
                self.created_file = True
                return fd
            except FileExistsError:
                return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            return os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None

    def _same_file(self, fd):
        try:
            on_disk = os.stat(self.path)
        except FileNotFoundError:
            return False
        held = os.fstat(fd)
        return (held.st_dev, held.st_ino) == (on_disk.st_dev, on_disk.st_ino)

    def release(self, remove=False):
        if self._fd is None:
            return
        if remove:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
        os.close(self._fd)
        self._fd = None

    def undo_creation(self, container_id):
        """After a failed task: remove the lock file and root this lock made, if no container came of it."""
        if os.path.isdir(os.path.join(self.root, container_id)):
            self.release()
            return
        self.release(remove=self.created_file)
        if self.created_root:
            try:
                os.rmdir(self.root)
            except OSError:
                pass  # not empty: something else lives there now

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc_info):
        self.release()


class Record:
    """What the collection applied to one container, valid for one creation of it.

    A container re-created by somebody else under the same id has another
    ``created`` time, which makes an old record void.
    """

    def __init__(self, root, container_id, path=None):
        self.path = path or own_file(root, container_id, 'json')

    def load(self, created, config_digest=None):
        """The record, if it describes the container created at ``created``.

        A supervised container's record (one with a unit) also describes the
        containers systemd makes again from the same config.json, after a
        crash or a reboot: those carry the recorded config digest.
        """
        try:
            with open(self.path) as stream:
                record = json.load(stream)
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict):
            return None
        if record.get('created') != created and not (
                record.get('unit') and config_digest and record.get('config_digest') == config_digest):
            return None
        return record

    def save(self, created, **values):
        write_atomically(self.path, json.dumps(dict(values, created=created), sort_keys=True))

    def remove(self):
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


class DefaultSpec:
    """The runtime's own default config (``runc spec``), cached per runtime path.

    One cache file per runtime path (and rootless flag) holds the spec and a
    stamp of the binary it came from (resolved path, size, modification
    time). A stamp that no longer matches, after an upgrade say, makes load()
    ask the runtime again and store() overwrite the entry; store() also
    removes the entries of runtimes that are gone or changed, so the cache
    never grows with upgrades. load() never writes; store() runs once the
    task knows it changes the host anyway (never in check mode, never before
    bad input is refused).
    """

    def __init__(self, runc, root, rootless=False):
        self.runc = runc
        self.root = root
        self.rootless = bool(rootless)
        self._fresh = None
        self._loaded = None
        self._lock = threading.Lock()
        key = hashlib.sha256(json.dumps([runc.command, self.rootless]).encode('utf-8')).hexdigest()[:20]
        self.path = os.path.join(root, '%s%s.json' % (DEFAULT_SPEC_PREFIX, key))
        self.stamp = runtime_stamp(runc.command)

    def load(self):
        """The spec (a copy: callers may change it). Read or asked for once per object, whatever the threads."""
        return copy.deepcopy(self.shared())

    def shared(self):
        """The spec itself, for callers that only read it or copy it (compose_config does)."""
        with self._lock:
            if self._loaded is None:
                self._loaded = self._read()
            return self._loaded

    def _read(self):
        entry = _read_json(self.path)
        if isinstance(entry, dict) and entry.get('stamp') == self.stamp and isinstance(entry.get('spec'), dict):
            return entry['spec']
        folder = tempfile.mkdtemp(prefix='runc-spec-')
        try:
            self.runc.spec(folder, rootless=self.rootless)
            with open(os.path.join(folder, 'config.json')) as stream:
                spec = json.load(stream)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        self._fresh = {'stamp': self.stamp, 'spec': spec}
        return spec

    def store(self):
        if self._fresh is None or not os.path.isdir(self.root):
            return
        write_atomically(self.path, json.dumps(self._fresh, sort_keys=True))
        self._fresh = None
        self.remove_stale()

    def remove_stale(self):
        """Remove the other entries whose runtime binary is gone or changed since, and old-style ones."""
        for name in os.listdir(self.root):
            path = os.path.join(self.root, name)
            if path == self.path:
                continue
            if name.startswith(DEFAULT_SPEC_PREFIX):
                entry = _read_json(path)
                stamp = entry.get('stamp') if isinstance(entry, dict) else None
                stale = not isinstance(stamp, list) or not stamp or runtime_stamp(stamp[0]) != stamp
            elif _OLD_DEFAULT_SPEC.match(name):
                # A bare spec, not the record of a container named default-spec.<hex> (which has 'created').
                entry = _read_json(path)
                stale = isinstance(entry, dict) and 'ociVersion' in entry and 'created' not in entry
            else:
                continue
            if stale:
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass


def runtime_stamp(command):
    """[resolved path, size, mtime] of a runtime binary; [command] when it cannot be found."""
    located = shutil.which(command)
    if not located:
        return [command]
    real = os.path.realpath(located)
    try:
        info = os.stat(real)
    except OSError:
        return [real]
    return [real, info.st_size, info.st_mtime_ns]


class NotAnObject(ValueError):
    """A JSON file whose JSON is not an object."""


class NotAFile(OSError):
    """A path that is not a regular file (a FIFO would block its reader forever)."""


def read_json_object(path):
    """The JSON object in a file (a config.json, a state file); FileNotFoundError when there is none.

    Opened without blocking and read only when it is a regular file: a FIFO
    or a device in its place must fail the task, not hang it. JSON nested too
    deep to parse is a ValueError like any other bad JSON.
    Raises OSError (NotAFile among them) or ValueError (NotAnObject among them).
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(descriptor, 'rb') as stream:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise NotAFile(errno.EINVAL, 'not a regular file', path)
        try:
            value = json.loads(stream.read().decode('utf-8'))
        except RecursionError:
            raise ValueError('its JSON is nested too deep')
    if not isinstance(value, dict):
        raise NotAnObject('it does not hold a JSON object')
    return value


def _read_json(path):
    try:
        with open(path) as stream:
            return json.load(stream)
    except (OSError, ValueError):
        return None


def prune_orphans(root):
    """Remove the lock and record files of containers that no longer exist.

    A container deleted behind the collection's back (``runc delete``, a
    reboot that emptied the root) leaves them. Only files not locked by a
    running task are removed: holding the lock proves nobody is creating
    that container right now.
    """
    try:
        names = os.listdir(root)
    except OSError:
        return

    def existing_keys():
        return {file_key(name) for name in os.listdir(root)
                if not name.startswith('.') and os.path.isdir(os.path.join(root, name))}

    existing = existing_keys()
    for name in names:
        if not name.startswith(PREFIX) or not name.endswith('.lock'):
            continue
        key = name[len(PREFIX):-len('.lock')]
        if key in existing:
            continue
        lock_path = os.path.join(root, name)
        try:
            fd = os.open(lock_path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        try:
            # Looked at again under the lock: the container may have been made meanwhile.
            if key not in existing_keys():
                for suffix in ('json', 'lock'):
                    try:
                        os.unlink(os.path.join(root, '%s%s.%s' % (PREFIX, key, suffix)))
                    except FileNotFoundError:
                        pass
        finally:
            os.close(fd)
