# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Print one line per entry under a folder: type, mode, size, mtime, link target, sha256.

Two listings of the same folder are equal only when nothing in it changed.
Symbolic links are listed, never followed; other filesystems are not entered.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys


def describe(path, info):
    kind = stat.S_IFMT(info.st_mode)
    line = '%o %o %d %d %s' % (kind, stat.S_IMODE(info.st_mode), info.st_size, info.st_mtime_ns, path)
    if stat.S_ISLNK(info.st_mode):
        return '%s -> %s' % (line, os.readlink(path))
    if stat.S_ISREG(info.st_mode):
        digest = hashlib.sha256()
        with open(path, 'rb') as stream:
            for block in iter(lambda: stream.read(1 << 20), b''):
                digest.update(block)
        return '%s %s' % (line, digest.hexdigest())
    return line


def main(top):
    device = os.lstat(top).st_dev
    print(describe(top, os.lstat(top)))
    for folder, dirs, files in os.walk(top):
        dirs[:] = sorted(name for name in dirs if os.lstat(os.path.join(folder, name)).st_dev == device)
        for name in sorted(dirs + files):
            path = os.path.join(folder, name)
            print(describe(path, os.lstat(path)))


if __name__ == '__main__':
    main(sys.argv[1])
