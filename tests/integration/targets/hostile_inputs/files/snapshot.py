"""Print a JSON picture of folders and a runc root: every entry's type, mode, owner,
size and content digest (link targets for symlinks), and the root's containers.

Two pictures taken before and after a task are equal only if the task left
every byte, mode and container as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys


def describe(path):
    info = os.lstat(path)
    entry = {'mode': oct(info.st_mode), 'uid': info.st_uid, 'gid': info.st_gid}
    if stat.S_ISLNK(info.st_mode):
        entry['target'] = os.readlink(path)
    elif stat.S_ISREG(info.st_mode):
        digest = hashlib.sha256()
        with open(path, 'rb') as stream:
            for block in iter(lambda: stream.read(1 << 20), b''):
                digest.update(block)
        entry['sha256'] = digest.hexdigest()
        entry['size'] = info.st_size
    return entry


def picture(top):
    if not os.path.lexists(top):
        return None
    found = {'.': describe(top)}
    if os.path.isdir(top) and not os.path.islink(top):
        for folder, names, files in os.walk(top):
            for name in names + files:
                path = os.path.join(folder, name)
                found[os.path.relpath(path, top)] = describe(path)
    return found


def containers(root):
    listed = subprocess.run(['runc', '--root', root, 'list', '--format', 'json'], capture_output=True,
                            text=True, check=True).stdout
    return sorted((c['id'], c['status'], c['pid']) for c in json.loads(listed or 'null') or [])


def main():
    root, folders = sys.argv[1], sys.argv[2:]
    print(json.dumps({'containers': containers(root), 'folders': {top: picture(top) for top in folders}},
                     sort_keys=True))


if __name__ == '__main__':
    main()
