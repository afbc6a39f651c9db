# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures on the real runtime: busybox bundles, a private runc root, unique ids.

Nothing here touches the default /run/runc: every test gets a root folder of
its own, and every container left in it is deleted afterwards.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import tempfile
import uuid

import pytest

from ansible_collections.oci_runtime.runc.plugins.module_utils.runc import DeleteOptions, Runc

BUSYBOX = '/bin/busybox'


@pytest.fixture(scope='session')
def default_spec(tmp_path_factory):
    """runc's own default config.json, made once."""
    folder = tmp_path_factory.mktemp('spec')
    subprocess.run(['runc', 'spec', '--bundle', str(folder)], check=True)
    with open(folder / 'config.json') as config:
        return json.load(config)


@pytest.fixture(scope='session')
def busybox_applets():
    listing = subprocess.run([BUSYBOX, '--list'], check=True, capture_output=True, text=True)
    return listing.stdout.split()


def make_rootfs(rootfs, applets):
    """A self-contained rootfs: static busybox and a link per applet."""
    bin_folder = os.path.join(rootfs, 'bin')
    os.makedirs(bin_folder)
    shutil.copy2(BUSYBOX, os.path.join(bin_folder, 'busybox'))
    for applet in applets:
        if applet != 'busybox':
            os.symlink('busybox', os.path.join(bin_folder, applet))
    for folder in ('tmp', 'proc', 'dev', 'sys', 'etc'):
        os.makedirs(os.path.join(rootfs, folder), exist_ok=True)


@pytest.fixture
def make_bundle(tmp_path, default_spec, busybox_applets):
    """make_bundle(args, **process_changes) -> bundle folder with a busybox rootfs."""
    counter = iter(range(1000))

    def make(args, terminal=False, readonly=False, **process_changes):
        bundle = tmp_path / ('bundle-%d' % next(counter))
        make_rootfs(str(bundle / 'rootfs'), busybox_applets)
        spec = copy.deepcopy(default_spec)
        spec['process'].update(args=list(args), terminal=terminal, **process_changes)
        spec['root']['readonly'] = readonly
        with open(bundle / 'config.json', 'w') as config:
            json.dump(spec, config)
        return str(bundle)
    return make


@pytest.fixture
def runc_root():
    root = tempfile.mkdtemp(prefix='oci-runc-test-root-')
    yield root
    # Whatever a test left behind goes, so no container outlives its test.
    leftover = Runc(root=root)
    for container in leftover.list():
        leftover.delete(container['id'], DeleteOptions(force=True))
    shutil.rmtree(root)


@pytest.fixture
def runc(runc_root):
    return Runc(root=runc_root, timeout=120)


@pytest.fixture
def container_id(request):
    """An id no other test (or earlier run) uses."""
    readable = re.sub(r'[^\w.-]+', '-', request.node.name)[:24].strip('-')
    return 'ut-%s-%s' % (readable, uuid.uuid4().hex[:8])
