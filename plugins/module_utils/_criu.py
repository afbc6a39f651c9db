# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What runc's checkpoint and restore need from the host, checked before anything is done.

runc runs the ``criu`` it finds on PATH. These checks look at the same one,
so that a missing, old or broken CRIU, or a kernel without what an option
needs, is reported before a container is touched.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
import stat
import subprocess

# runc 1.1 refuses CRIU older than 3.0 for checkpoint and restore.
MINIMUM_VERSION = (3, 0)
# CRIU's lazy-pages restore moves pages through pipes of this size; with a
# smaller fs.pipe-max-size the restore hangs.
LAZY_PAGES_PIPE_SIZE = 4194304
REMEDY = ('install a working CRIU, for example with the oci_runtime.runc.runtime role, which builds '
          'CRIU from source where the distribution\'s fails on this kernel')
_VERSION = re.compile(r'Version:\s*(\d+)\.(\d+)(?:\.(\d+))?')
_MNT_DETACH = 2


class CriuProblem(Exception):
    """CRIU cannot do what the task asks; the message says why and what helps."""


def _run(argv):
    try:
        completed = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return 1, '', str(error)
    return (completed.returncode, completed.stdout.decode('utf-8', 'replace'),
            completed.stderr.decode('utf-8', 'replace'))


def check_criu(memory_tracking=False, lazy_pages=False):
    """Return {'path', 'version'} of a CRIU that works here, or raise CriuProblem."""
    path = shutil.which('criu')
    if not path:
        raise CriuProblem('criu is not on PATH (%s); %s' % (os.environ.get('PATH', ''), REMEDY))
    dummy_rc, out, err = _run([path, '--version'])
    found = _VERSION.search(out + err)
    if not found:
        raise CriuProblem('cannot tell the version of %s (it printed %r); %s' % (path, (out + err)[:200], REMEDY))
    version = tuple(int(part or 0) for part in found.groups())
    text = '.'.join(str(part) for part in version)
    if version[:2] < MINIMUM_VERSION:
        raise CriuProblem('CRIU %s at %s is too old: runc needs %d.%d or later; %s'
                          % (text, path, MINIMUM_VERSION[0], MINIMUM_VERSION[1], REMEDY))
    rc, out, err = _run([path, 'check'])
    if rc != 0:
        complaint = [line for line in (err + out).splitlines() if line.strip()]
        raise CriuProblem('CRIU %s at %s fails `criu check` on this kernel (%s); %s'
                          % (text, path, complaint[-1] if complaint else 'exit status %d' % rc, REMEDY))
    if memory_tracking:
        rc, out, err = _run([path, 'check', '--feature', 'mem_dirty_track'])
        if rc != 0:
            raise CriuProblem('pre_dump and parent_path need memory change tracking, which this kernel '
                              'lacks (it is built without CONFIG_MEM_SOFT_DIRTY; CRIU %s says: %s)'
                              % (text, (err + out).strip().splitlines()[-1] if (err + out).strip() else rc))
    if lazy_pages:
        size = pipe_max_size()
        if size is not None and size < LAZY_PAGES_PIPE_SIZE:
            raise CriuProblem('lazy_pages: fs.pipe-max-size is %d here and CRIU needs %d, or the restore '
                              'hangs; run sysctl -w fs.pipe-max-size=%d on both hosts'
                              % (size, LAZY_PAGES_PIPE_SIZE, LAZY_PAGES_PIPE_SIZE))
    return {'path': path, 'version': text}


def pipe_max_size():
    try:
        with open('/proc/sys/fs/pipe-max-size') as stream:
            return int(stream.read().strip())
    except (OSError, ValueError):
        return None


def remove_tree(path):
    """Remove a folder this collection made for CRIU, never reaching beyond its filesystem.

    A CRIU killed halfway leaves its cgroup yard (``.criu.cgyard.*``)
    mounted in the work folder; those mounts are detached first, and the
    removal then refuses (OSError) to enter anything still on another
    filesystem, as ``rm --one-file-system`` would, so it never reaches into
    the host's cgroups. Symbolic links are removed, never followed.
    """
    if not os.path.lexists(path):
        return
    prefix = os.path.realpath(path).rstrip('/') + '/'
    mounts = []
    try:
        with open('/proc/self/mountinfo') as mountinfo:
            for line in mountinfo:
                point = line.split()[4].replace('\\040', ' ')
                if point.startswith(prefix) or point == prefix.rstrip('/'):
                    mounts.append(point)
    except OSError:
        pass
    if mounts:
        libc = ctypes.CDLL(None, use_errno=True)
        for point in sorted(mounts, key=len, reverse=True):
            libc.umount2(point.encode(), _MNT_DETACH)
    top = os.lstat(path)
    if not stat.S_ISDIR(top.st_mode):
        os.unlink(path)
        return
    # The marker goes last: a folder this removal could not finish still
    # carries it, so that a later checkpoint knows the folder for its own.
    _remove_below(path, top.st_dev, keep=MARKER)
    marker = os.path.join(path, MARKER)
    if os.path.lexists(marker):
        os.unlink(marker)
    os.rmdir(path)


def _remove_below(folder, device, keep=None):
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name == keep:
                continue
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(info.st_mode):
                if info.st_dev != device:
                    raise OSError(errno.EXDEV, 'still a mount point, left in place', entry.path)
                _remove_below(entry.path, device)
                os.rmdir(entry.path)
            else:
                os.unlink(entry.path)


# -- what an image folder holds ------------------------------------------------------------------

# Written first into every folder runc_checkpoint makes for an image: a
# folder without inventory.img is only ever replaced when it carries this.
MARKER = '.oci_runtime_runc.checkpoint'
# The collection's record of the container (see _runc_root.Record), copied
# into the image at checkpoint, so that a restore, here or on another host,
# can give the restored container its record back.
RECORD = '.oci_runtime_runc.record.json'
# What runc and CRIU write into an image folder: CRIU's *.img files (pages,
# cores, tmpfs-*.tar.gz.img, ...), the logs and statistics of dump and
# restore when the work folder is the image folder, runc's descriptors.json.
_IMAGE_FILE = re.compile(r'^[A-Za-z0-9_.-]+\.img$')
_IMAGE_EXTRAS = frozenset(('descriptors.json', 'dump.log', 'restore.log', 'stats-dump', 'stats-restore',
                           'irmap-cache', MARKER, RECORD))
# A CRIU killed halfway leaves its cgroup yard in the work folder.
_CGYARD = '.criu.cgyard.'

IMAGE_COMPLETE = 'complete'
IMAGE_PARTIAL = 'partial'     # one this collection left: the marker, no inventory.img


class NotAnImage(Exception):
    """A path that is not a checkpoint image; the message says what it is instead."""


def image_kind(path):
    """What the folder at path is: None when nothing is there, IMAGE_COMPLETE or IMAGE_PARTIAL.

    Raises NotAnImage for anything else: a symbolic link, a file, an empty
    folder, a folder holding files that are not runc's and CRIU's, a folder
    without inventory.img and without this collection's marker.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        raise NotAnImage('is a symbolic link (to %s)' % os.readlink(path))
    if not stat.S_ISDIR(info.st_mode):
        raise NotAnImage('is a file, not a checkpoint image folder')
    names = sorted(os.listdir(path))
    if not names:
        raise NotAnImage('is an empty folder that this collection did not make')
    marked = _is_regular(os.path.join(path, MARKER))
    foreign = [name for name in names if not _belongs_to_image(path, name, marked)]
    if foreign:
        raise NotAnImage('holds files that are not part of a checkpoint image (%s%s)'
                         % (', '.join(foreign[:5]), ', ...' if len(foreign) > 5 else ''))
    if _is_regular(os.path.join(path, 'inventory.img')):
        return IMAGE_COMPLETE
    if marked:
        return IMAGE_PARTIAL
    raise NotAnImage('holds no inventory.img and no %s marker, so it is neither a complete checkpoint image '
                     'nor one this collection started' % MARKER)


def _is_regular(path):
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _belongs_to_image(folder, name, marked):
    full = os.path.join(folder, name)
    if marked and name.startswith(_CGYARD):
        return os.path.isdir(full) and not os.path.islink(full)
    return (_IMAGE_FILE.match(name) is not None or name in _IMAGE_EXTRAS) and _is_regular(full)


def is_marked(path):
    """Whether the folder at path carries this collection's marker (a regular file)."""
    return _is_regular(os.path.join(path, MARKER))


def marked_for(path):
    """The container id the marker of the folder at path names, or None."""
    try:
        with open(os.path.join(path, MARKER), errors='replace') as marker:
            found = _MARKED_FOR.search(marker.read(4096))
    except OSError:
        return None
    return found.group(1) if found else None


_MARKED_FOR = re.compile(r'runc_checkpoint for container (\S+)\.\n')


def mark_image_folder(path, container_id):
    """Claim a folder this collection just made, before CRIU writes into it."""
    with open(os.path.join(path, MARKER), 'w') as marker:
        marker.write('A checkpoint image folder made by oci_runtime.runc.runc_checkpoint for container %s.\n'
                     'runc_checkpoint replaces it only with force, and only while it holds nothing but '
                     'CRIU\'s files and the collection\'s.\n' % container_id)


def log_tail(folder, name, lines=5):
    """The last error lines of a CRIU log, for error messages."""
    try:
        with open(os.path.join(folder, name), errors='replace') as log:
            content = log.read().splitlines()
    except OSError:
        return ''
    errors = [line.strip() for line in content if 'Error' in line]
    return ' | '.join((errors or content)[-lines:])
