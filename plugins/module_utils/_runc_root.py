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
* ``default-spec.<key>.json``: the runtime's default spec, so that a no-op
  run needs no runtime call besides ``runc state``.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time

PREFIX = '.oci_runtime_runc.'


class LockTimeout(Exception):
    pass


def default_root(runtime_path):
    """Where runc (or crun, ...) keeps its state when --root is not given."""
    name = os.path.basename(runtime_path) or 'runc'
    if os.geteuid() != 0 and os.environ.get('XDG_RUNTIME_DIR'):
        return os.path.join(os.environ['XDG_RUNTIME_DIR'], name)
    return os.path.join('/run', name)


def _write_atomically(path, text, mode=0o600):
    folder = os.path.dirname(path)
    handle, temporary = tempfile.mkstemp(prefix=PREFIX, suffix='.tmp', dir=folder)
    try:
        with os.fdopen(handle, 'w') as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.rename(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


class ContainerLock:
    """An exclusive flock on ``<root>/.oci_runtime_runc.<id>.lock``.

    ``create=False`` (check mode) locks only a lock file that already exists
    and creates nothing: a dry run has nothing to protect but must still not
    read a container another play is halfway through changing.
    """

    def __init__(self, root, container_id, timeout=60.0, create=True):
        self.path = os.path.join(root, '%s%s.lock' % (PREFIX, container_id))
        self.root = root
        self.timeout = timeout
        self.create = create
        self._fd = None

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

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc_info):
        self.release()


class Record:
    """What the collection applied to one container, valid for one creation of it.

    A container re-created by somebody else under the same id has another
    ``created`` time, which makes an old record void.
    """

    def __init__(self, root, container_id):
        self.path = os.path.join(root, '%s%s.json' % (PREFIX, container_id))

    def load(self, created):
        try:
            with open(self.path) as stream:
                record = json.load(stream)
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or record.get('created') != created:
            return None
        return record

    def save(self, created, **values):
        _write_atomically(self.path, json.dumps(dict(values, created=created), sort_keys=True))

    def remove(self):
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


class DefaultSpec:
    """The runtime's own default config (``runc spec``), cached per runtime binary.

    The cache key is the runtime's resolved path, size and modification time:
    a new runtime version makes a new entry. load() never writes; store()
    writes a freshly made spec to the cache, once the task knows it will
    change the host anyway (never in check mode, never before bad input is
    refused).
    """

    def __init__(self, runc, root, rootless=False):
        self.runc = runc
        self.root = root
        self.rootless = bool(rootless)
        self._fresh_text = None
        located = shutil.which(runc.command)
        key_source = [runc.command, self.rootless]
        if located:
            real = os.path.realpath(located)
            info = os.stat(real)
            key_source += [real, info.st_size, info.st_mtime_ns]
        key = hashlib.sha256(json.dumps(key_source).encode('utf-8')).hexdigest()[:20]
        self.path = os.path.join(root, '%sdefault-spec.%s.json' % (PREFIX, key))

    def load(self):
        try:
            with open(self.path) as stream:
                return json.load(stream)
        except (OSError, ValueError):
            pass
        folder = tempfile.mkdtemp(prefix='runc-spec-')
        try:
            self.runc.spec(folder, rootless=self.rootless)
            with open(os.path.join(folder, 'config.json')) as stream:
                self._fresh_text = stream.read()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return json.loads(self._fresh_text)

    def store(self):
        if self._fresh_text is not None and os.path.isdir(self.root):
            _write_atomically(self.path, self._fresh_text)
            self._fresh_text = None
