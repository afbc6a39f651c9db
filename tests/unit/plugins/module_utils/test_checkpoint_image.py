# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What runc_checkpoint takes for a checkpoint image, and how it removes one.

The integration tests prove the refusals against real runc and CRIU; these
pin the classification of every kind of folder and the removal's limits.
"""

from __future__ import annotations

import os

import pytest

from ansible_collections.oci_runtime.runc.plugins.module_utils._checkpoint import (
    is_within,
    looks_like_runc_root,
    resolved_target,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils._criu import (
    IMAGE_COMPLETE,
    IMAGE_PARTIAL,
    MARKER,
    NotAnImage,
    image_kind,
    mark_image_folder,
    remove_tree,
)


def make_folder(path, *names):
    path.mkdir()
    for name in names:
        (path / name).write_text('x')
    return str(path)


def test_nothing_there_is_no_image(tmp_path):
    assert image_kind(str(tmp_path / 'absent')) is None


def test_complete_image_without_marker(tmp_path):
    folder = make_folder(tmp_path / 'image', 'inventory.img', 'pages-1.img', 'tmpfs-dev-41.tar.gz.img',
                         'dump.log', 'stats-dump', 'descriptors.json')
    assert image_kind(folder) == IMAGE_COMPLETE


def test_partial_image_needs_the_marker(tmp_path):
    marked = make_folder(tmp_path / 'marked', 'pstree.img', 'dump.log')
    mark_image_folder(marked, 'box')
    os.mkdir(os.path.join(marked, '.criu.cgyard.abc'))
    assert image_kind(marked) == IMAGE_PARTIAL
    unmarked = make_folder(tmp_path / 'unmarked', 'disk.img')
    with pytest.raises(NotAnImage, match='no inventory.img and no %s marker' % MARKER):
        image_kind(unmarked)


@pytest.mark.parametrize('names, problem', [
    (('inventory.img', 'notes.txt'), r'not part of a checkpoint image \(notes.txt\)'),
    (('inventory.img', MARKER, 'config.json'), r'not part of a checkpoint image \(config.json\)'),
    ((), 'empty folder'),
])
def test_other_folders_are_not_images(tmp_path, names, problem):
    folder = make_folder(tmp_path / 'folder', *names)
    with pytest.raises(NotAnImage, match=problem):
        image_kind(folder)


def test_subfolders_links_and_files_are_not_images(tmp_path):
    folder = make_folder(tmp_path / 'image', 'inventory.img')
    os.mkdir(os.path.join(folder, 'sub'))
    with pytest.raises(NotAnImage, match=r'\(sub\)'):
        image_kind(folder)
    # A cgroup yard counts only in a folder this collection marked.
    os.rename(os.path.join(folder, 'sub'), os.path.join(folder, '.criu.cgyard.x'))
    with pytest.raises(NotAnImage, match=r'\(.criu.cgyard.x\)'):
        image_kind(folder)
    image = make_folder(tmp_path / 'real', 'inventory.img')
    os.symlink(image, str(tmp_path / 'link'))
    with pytest.raises(NotAnImage, match='symbolic link'):
        image_kind(str(tmp_path / 'link'))
    os.symlink('/etc/passwd', os.path.join(image, 'pages-1.img'))
    with pytest.raises(NotAnImage, match=r'\(pages-1.img\)'):
        image_kind(image)
    with pytest.raises(NotAnImage, match='is a file'):
        image_kind(os.path.join(folder, 'inventory.img'))


def test_remove_tree_removes_links_never_their_targets(tmp_path):
    kept = make_folder(tmp_path / 'kept', 'precious')
    doomed = make_folder(tmp_path / 'doomed', 'inventory.img')
    os.symlink(kept, os.path.join(doomed, 'link'))
    os.mkdir(os.path.join(doomed, 'sub'))
    remove_tree(doomed)
    assert not os.path.lexists(doomed)
    assert os.listdir(kept) == ['precious']


def test_paths(tmp_path):
    assert is_within('/a/b', '/a') and is_within('/a', '/a') and not is_within('/ab', '/a')
    real = make_folder(tmp_path / 'real')
    os.symlink(real, str(tmp_path / 'link'))
    assert resolved_target(str(tmp_path / 'link' / 'image') + '/') == os.path.join(real, 'image')
    assert resolved_target(str(tmp_path / 'link')) == str(tmp_path / 'link')
    root = make_folder(tmp_path / 'root')
    make_folder(tmp_path / 'root' / 'box', 'state.json')
    assert looks_like_runc_root(root) == 'box'
    assert looks_like_runc_root(real) is None
