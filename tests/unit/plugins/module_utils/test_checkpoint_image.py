# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What runc_checkpoint takes for a checkpoint image, and how it removes one.

The integration tests prove the refusals against real runc and CRIU; these
pin the classification of every kind of folder, the removal's limits, and
what a checkpoint leaves, and says, when a step fails that only a broken
host makes fail (a rename, a removal blocked by a mount).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal

import pytest

from ansible_collections.oci_runtime.runc.plugins.module_utils import _checkpoint, _criu
from ansible_collections.oci_runtime.runc.plugins.module_utils._checkpoint import (
    CheckpointManager,
    ImageLock,
    looks_like_runc_root,
    resolved,
    resolved_target,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils._options import CHECKPOINT, argument_spec
from ansible_collections.oci_runtime.runc.plugins.module_utils._runc_root import Record
from ansible_collections.oci_runtime.runc.plugins.module_utils._task import TaskError, is_within
from ansible_collections.oci_runtime.runc.plugins.module_utils.runc import RuncError
from ansible_collections.oci_runtime.runc.plugins.module_utils._criu import (
    IMAGE_COMPLETE,
    IMAGE_PARTIAL,
    MARKER,
    RECORD,
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


# -- a checkpoint's failure paths, with a runtime that only writes files ------------------------------

class FakeModule:
    check_mode = False
    _diff = False

    def __init__(self, **params):
        self.params = {name: spec.get('default') for name, spec in argument_spec(CHECKPOINT).items()}
        self.params.update(params)
        self.warnings = []

    def warn(self, warning):
        self.warnings.append(warning)


class FakeRunc:
    """Stands in for runc checkpoint: writes an image, or fails halfway, without CRIU."""

    root = None

    def __init__(self, fail=False, meanwhile=None):
        self.fail = fail
        self.status = 'running'
        self.meanwhile = meanwhile      # what somebody else does while the dump runs
        self.created = '2026-11-28T10:00:00.000000001Z'

    def checkpoint(self, container_id, options):
        if self.meanwhile:
            self.meanwhile()
        with open(os.path.join(options.image_path, 'pages-1.img'), 'w') as pages:
            pages.write('new')
        if self.fail:
            raise RuncError('runc checkpoint failed', argv=['runc', 'checkpoint'], exit_status=1,
                            runc_message='criu failed')
        with open(os.path.join(options.image_path, 'inventory.img'), 'w') as inventory:
            inventory.write('new')
        if not options.leave_running:
            self.status = None

    def state(self, container_id):
        if self.status is None:
            raise RuncError('container does not exist', runc_message='container does not exist')
        return {'id': container_id, 'status': self.status, 'bundle': '/nonexistent', 'created': self.created}

    def list(self):
        return []


def old_image(path):
    """An image made earlier by this collection."""
    folder = make_folder(path, 'inventory.img', 'pages-1.img')
    mark_image_folder(folder, 'box')
    return folder


def manager(tmp_path, fail=False, meanwhile=None, **params):
    params = dict(dict(name='box', image_path=str(tmp_path / 'images' / 'box'), root=str(tmp_path / 'root'),
                       state='checkpointed'), **params)
    task = CheckpointManager(FakeModule(**params))
    task.runc = FakeRunc(fail=fail, meanwhile=meanwhile)
    task.check_criu = lambda: None
    task.validate()
    return task


def content(folder):
    return {name: open(os.path.join(folder, name)).read() for name in os.listdir(folder)
            if name != MARKER}


def hidden(folder):
    return sorted(name for name in os.listdir(folder) if name.startswith('.'))


def refuse_to_remove(path):
    raise OSError(errno.EXDEV, 'still a mount point, left in place', os.path.join(path, '.criu.cgyard.x'))


def test_lazy_pages_puts_the_earlier_image_back_though_the_partial_one_stays(tmp_path, monkeypatch):
    (tmp_path / 'images').mkdir()
    image = old_image(tmp_path / 'images' / 'box')
    before = content(image)
    task = manager(tmp_path, fail=True, lazy_pages=True, force=True)
    monkeypatch.setattr(_checkpoint, 'remove_tree', refuse_to_remove)
    with pytest.raises(RuncError) as caught:
        task.checkpoint({'id': 'box', 'status': 'running'})
    assert content(image) == before
    left = hidden(str(tmp_path / 'images'))
    assert len(left) == 1 and left[0].startswith('.box.partial-')
    message = str(caught.value)
    assert ('no image was kept (the earlier image is back in place); the incomplete image is left at %s'
            % (tmp_path / 'images' / left[0])) in message
    assert message.endswith('remove it yourself, and container box is running')


def test_lazy_pages_says_where_the_earlier_image_is_when_it_cannot_come_back(tmp_path, monkeypatch):
    (tmp_path / 'images').mkdir()
    before = content(old_image(tmp_path / 'images' / 'box'))
    task = manager(tmp_path, fail=True, lazy_pages=True, force=True)
    rename = os.rename

    def no_way_back(source, destination):
        if '.previous-' in source:
            raise OSError(errno.EIO, 'Input/output error')
        rename(source, destination)
    monkeypatch.setattr(os, 'rename', no_way_back)
    with pytest.raises(RuncError) as caught:
        task.checkpoint({'id': 'box', 'status': 'running'})
    previous = [name for name in hidden(str(tmp_path / 'images')) if name.startswith('.box.previous-')]
    assert len(previous) == 1
    assert content(str(tmp_path / 'images' / previous[0])) == before
    assert ('no image was kept; the earlier image could not be put back (Input/output error) and is at %s: '
            'move it to %s yourself' % (tmp_path / 'images' / previous[0], task.image_path)) in str(caught.value)


def test_lazy_pages_puts_the_earlier_image_back_when_interrupted(tmp_path, monkeypatch):
    (tmp_path / 'images').mkdir()
    image = old_image(tmp_path / 'images' / 'box')
    before = content(image)
    task = manager(tmp_path, lazy_pages=True, force=True)

    def interrupted(container_id, options):
        raise KeyboardInterrupt
    task.runc.checkpoint = interrupted
    with pytest.raises(KeyboardInterrupt):
        task.checkpoint({'id': 'box', 'status': 'running'})
    assert content(image) == before
    assert hidden(str(tmp_path / 'images')) == []


def test_a_complete_image_that_cannot_be_moved_into_place_is_kept(tmp_path, monkeypatch):
    (tmp_path / 'images').mkdir()
    image = old_image(tmp_path / 'images' / 'box')
    before = content(image)
    task = manager(tmp_path, force=True)
    rename = os.rename

    def no_way_in(source, destination):
        if '.partial-' in source:
            raise OSError(errno.EIO, 'Input/output error')
        rename(source, destination)
    monkeypatch.setattr(os, 'rename', no_way_in)
    with pytest.raises(TaskError) as caught:
        task.checkpoint({'id': 'box', 'status': 'running'})
    partial = [name for name in hidden(str(tmp_path / 'images')) if name.startswith('.box.partial-')]
    assert len(partial) == 1
    assert content(str(tmp_path / 'images' / partial[0])) == {'inventory.img': 'new', 'pages-1.img': 'new'}
    assert content(image) == before
    assert str(caught.value) == (
        'image_path: CRIU made a complete image, but it cannot be moved to %s (Input/output error); the new '
        'image is kept at %s: move it there yourself; the earlier image is still at %s, and container box is '
        'gone' % (task.image_path, tmp_path / 'images' / partial[0], task.image_path))
    assert 'left as it was' not in str(caught.value)


def test_a_first_image_that_cannot_be_moved_into_place_is_kept(tmp_path, monkeypatch):
    task = manager(tmp_path, leave_running=True)
    monkeypatch.setattr(os, 'rename', lambda source, destination: refuse_to_remove(source))
    with pytest.raises(TaskError, match='^image_path: CRIU made a complete image, but it cannot be moved to .*; the '
                                        r'new image is kept at .*/\.box\.partial-[^/]*: move it there yourself, and '
                                        'container box is running$'):
        task.checkpoint({'id': 'box', 'status': 'running'})
    assert len(hidden(str(tmp_path / 'images'))) == 1
    # The parent folder the run made holds the image: it stays.
    assert os.path.isdir(str(tmp_path / 'images'))


@pytest.mark.parametrize('lazy_pages', [False, True])
def test_an_earlier_image_that_cannot_be_removed_is_a_warning_once_the_new_one_is_in_place(
        tmp_path, monkeypatch, lazy_pages):
    (tmp_path / 'images').mkdir()
    image = old_image(tmp_path / 'images' / 'box')
    task = manager(tmp_path, force=True, lazy_pages=lazy_pages)
    monkeypatch.setattr(_checkpoint, 'remove_tree', refuse_to_remove)
    task.checkpoint({'id': 'box', 'status': 'running'})
    assert content(image) == {'inventory.img': 'new', 'pages-1.img': 'new'}
    previous = hidden(str(tmp_path / 'images'))
    assert len(previous) == 1 and previous[0].startswith('.box.previous-')
    assert task.module.warnings == [
        'image_path: the new image is at %s, but the earlier image it replaced could not be removed completely '
        'from %s (still a mount point, left in place); the next checkpoint to %s removes it, or remove it '
        'yourself' % (task.image_path, tmp_path / 'images' / previous[0], task.image_path)]


def test_a_failed_dump_that_cannot_be_cleaned_says_where_the_partial_image_is(tmp_path, monkeypatch):
    task = manager(tmp_path, fail=True)
    monkeypatch.setattr(_checkpoint, 'remove_tree', refuse_to_remove)
    with pytest.raises(RuncError, match=r'no image was kept; the incomplete image is left at .*/\.box\.partial-\w+ '
                                        r'\(still a mount point, left in place\); remove it yourself, and '
                                        'container box is running$'):
        task.checkpoint({'id': 'box', 'status': 'running'})


def test_a_failed_dump_leaves_the_host_as_it_was(tmp_path):
    task = manager(tmp_path, fail=True)
    with pytest.raises(RuncError, match='runc checkpoint failed; no image was kept, and container box is running$'):
        task.checkpoint({'id': 'box', 'status': 'running'})
    # Not even the parent folder the run made is left.
    assert os.listdir(str(tmp_path)) == []


def test_leftovers_of_killed_runs_go_once_a_checkpoint_succeeds(tmp_path):
    images = tmp_path / 'images'
    images.mkdir()
    elsewhere = old_image(tmp_path / 'elsewhere')
    marked_partial = make_folder(images / '.box.partial-x', 'pstree.img')
    mark_image_folder(marked_partial, 'box')
    os.mkdir(os.path.join(marked_partial, '.criu.cgyard.1'))
    marked_previous = old_image(images / '.box.previous-ab_12')
    unmarked = make_folder(images / '.box.partial-y', 'pstree.img')
    foreign = make_folder(images / '.box.partial-z', 'pstree.img', 'notes.txt')
    mark_image_folder(foreign, 'box')
    other_name = old_image(images / '.boxes.partial-x')
    no_suffix = old_image(images / '.box.partial-')
    other_kind = old_image(images / '.box.copy-x')
    complete_partial = old_image(images / '.box.partial-done')
    os.symlink(elsewhere, str(images / '.box.previous-link'))
    task = manager(tmp_path)
    task.checkpoint({'id': 'box', 'status': 'running'})
    assert image_kind(task.image_path) == IMAGE_COMPLETE
    assert not os.path.lexists(marked_partial) and not os.path.lexists(marked_previous)
    for kept in (unmarked, foreign, other_name, no_suffix, other_kind, complete_partial, elsewhere):
        assert os.path.isdir(kept)
    assert os.path.islink(str(images / '.box.previous-link'))
    assert content(elsewhere) == {'inventory.img': 'x', 'pages-1.img': 'x'}
    assert task.module.warnings == [
        'image_path: %s holds a complete checkpoint image that an interrupted run left; it was kept: move it '
        'where you need it, or remove it' % complete_partial]


def test_leftovers_stay_when_the_checkpoint_fails(tmp_path):
    images = tmp_path / 'images'
    images.mkdir()
    marked_partial = make_folder(images / '.box.partial-x', 'pstree.img')
    mark_image_folder(marked_partial, 'box')
    with pytest.raises(RuncError):
        manager(tmp_path, fail=True).checkpoint({'id': 'box', 'status': 'running'})
    assert os.path.isdir(marked_partial)


def test_remove_tree_keeps_the_marker_of_a_folder_it_cannot_finish(tmp_path, monkeypatch):
    folder = old_image(tmp_path / 'image')
    os.mkdir(os.path.join(folder, 'sub'))
    # The marker comes first, and the subfolder is on another filesystem, as a
    # CRIU cgroup yard left mounted is.
    scandir = os.scandir
    monkeypatch.setattr(_criu.os, 'scandir', lambda path: contextlib.nullcontext(
        sorted(scandir(path), key=lambda entry: (entry.name != MARKER, entry.name))))
    device = os.lstat(folder).st_dev
    lstat = os.lstat
    monkeypatch.setattr(_criu.os, 'lstat', lambda path: _on_device(lstat(path), device + 1))
    with pytest.raises(OSError, match='still a mount point'):
        remove_tree(folder)
    assert os.path.isfile(os.path.join(folder, MARKER))


def _on_device(info, device):
    fields = list(info)
    fields[2] = device
    return os.stat_result(fields)


def test_the_work_folder_is_checked_against_the_same_target_as_the_image(tmp_path):
    real = make_folder(tmp_path / 'real')
    os.symlink(real, str(tmp_path / 'link'))
    image_path = str(tmp_path / 'link' / 'image')
    with pytest.raises(TaskError, match='^work_path: .* is in image_path'):
        manager(tmp_path, image_path=image_path, work_path=os.path.join(real, 'image', 'work'))
    with pytest.raises(TaskError, match='^work_path: .* is in image_path'):
        manager(tmp_path, image_path=os.path.join(real, 'image'), work_path=str(tmp_path / 'link' / 'image'))
    # An image_path that is itself a link is image_path's fault (refused as a link), not work_path's.
    os.mkdir(os.path.join(real, 'image'))
    os.symlink(os.path.join(real, 'image'), str(tmp_path / 'image-link'))
    task = manager(tmp_path, image_path=str(tmp_path / 'image-link'), work_path=os.path.join(real, 'image', 'w'))
    with pytest.raises(TaskError, match='^image_path: .* is a symbolic link'):
        task.refuse_unsafe_target(None)


@pytest.mark.parametrize('option', ['image_path', 'work_path', 'parent_path', 'bundle', 'status_file'])
def test_a_nul_byte_in_a_path_fails_naming_the_option(tmp_path, option):
    params = dict(name='box', image_path=str(tmp_path / 'image'), root=str(tmp_path / 'root'))
    params[option] = str(tmp_path / 'a\0b')
    task = CheckpointManager(FakeModule(**params))
    with pytest.raises(TaskError, match='^%s: .* holds a NUL byte' % option):
        task.validate()


def test_a_path_that_cannot_be_resolved_fails_naming_the_option():
    with pytest.raises(TaskError, match='^image_path: cannot resolve'):
        resolved('image_path', '/a\0b/image', resolved_target)


# -- what changes at image_path while a checkpoint runs is left alone ---------------------------------

def users_folder(path):
    def make():
        os.makedirs(path)
        with open(os.path.join(path, 'notes.txt'), 'w') as notes:
            notes.write('mine')
    return make


@pytest.mark.parametrize('earlier', [False, True])
def test_a_folder_made_at_image_path_during_the_dump_is_left_alone(tmp_path, earlier):
    (tmp_path / 'images').mkdir()
    target = str(tmp_path / 'images' / 'box')
    if earlier:
        old_image(tmp_path / 'images' / 'box')
        # Somebody replaces the earlier image with a folder of their own while CRIU runs.

        def meanwhile():
            remove_tree(target)
            users_folder(target)()
    else:
        meanwhile = users_folder(target)
    task = manager(tmp_path, meanwhile=meanwhile, force=earlier)
    with pytest.raises(TaskError) as caught:
        task.checkpoint({'id': 'box', 'status': 'running'})
    assert content(target) == {'notes.txt': 'mine'}
    partial = [name for name in hidden(str(tmp_path / 'images')) if name.startswith('.box.partial-')]
    assert len(partial) == 1
    assert content(str(tmp_path / 'images' / partial[0])) == {'inventory.img': 'new', 'pages-1.img': 'new'}
    assert str(caught.value) == (
        'image_path: CRIU made a complete image, but %s holds files that are not part of a checkpoint image '
        '(notes.txt) now, which it did not when this task looked (it changed while the checkpoint ran), so it was '
        'left alone; the new image is kept at %s: move it where you need it, and container box is gone'
        % (target, tmp_path / 'images' / partial[0]))


def test_an_image_another_task_wrote_during_the_dump_is_not_replaced_without_force(tmp_path):
    (tmp_path / 'images').mkdir()
    target = str(tmp_path / 'images' / 'box')
    task = manager(tmp_path, meanwhile=lambda: old_image(tmp_path / 'images' / 'box'))
    with pytest.raises(TaskError, match=r'^image_path: CRIU made a complete image, but .*/box holds a checkpoint '
                                        r'image, and force is not set now, .*; the new image is kept at '
                                        r'.*/\.box\.partial-\w+: move it'):
        task.checkpoint({'id': 'box', 'status': 'running'})
    assert content(target) == {'inventory.img': 'x', 'pages-1.img': 'x'}
    assert len([name for name in hidden(str(tmp_path / 'images')) if name.startswith('.box.partial-')]) == 1


def test_a_second_writer_of_one_image_path_waits_for_the_first(tmp_path):
    (tmp_path / 'images').mkdir()
    target = str(tmp_path / 'images' / 'box')
    with ImageLock(target, 1) as held:
        with open(held.path) as lock_file:
            assert lock_file.read() == ImageLock.LOCK_TEXT
        task = manager(tmp_path, lock_timeout=0.2)
        with pytest.raises(TaskError, match='^lock_timeout: another task has been writing a checkpoint image to '
                                            'the same image_path for more than 0.2 seconds .*; nothing was changed'):
            task.checkpoint({'id': 'box', 'status': 'running'})
        assert hidden(str(tmp_path / 'images')) == [os.path.basename(held.path)]
        assert task.runc.status == 'running'
    # Released: the lock file goes with it, and the next writer goes ahead.
    assert hidden(str(tmp_path / 'images')) == []
    manager(tmp_path).checkpoint({'id': 'box', 'status': 'running'})
    assert os.listdir(str(tmp_path / 'images')) == ['box']


def test_a_file_of_the_lock_files_name_that_is_not_ours_is_refused_and_kept(tmp_path):
    (tmp_path / 'images').mkdir()
    foreign = tmp_path / 'images' / '.oci_runtime_runc.box.lock'
    foreign.write_text('my own file')
    task = manager(tmp_path)
    with pytest.raises(TaskError, match='^image_path: .*/.oci_runtime_runc.box.lock, where this module keeps its '
                                        'lock on image_path, is there and is not the collection.s lock file'):
        task.checkpoint({'id': 'box', 'status': 'running'})
    assert foreign.read_text() == 'my own file'
    assert os.listdir(str(tmp_path / 'images')) == ['.oci_runtime_runc.box.lock']


# -- force replaces only what this collection made --------------------------------------------------

@pytest.mark.parametrize('force', [False, True])
def test_a_complete_image_without_the_marker_is_never_replaced(tmp_path, force):
    image = make_folder(tmp_path / 'image', 'inventory.img', 'disk.img')
    task = manager(tmp_path, image_path=image, force=force)
    with pytest.raises(TaskError, match='^image_path: %s holds a complete checkpoint image that this collection did '
                                        'not make .*; it is never replaced, force or not: remove it by hand'
                       % image):
        task.checkpoint({'id': 'box', 'status': 'running'})
    assert content(image) == {'inventory.img': 'x', 'disk.img': 'x'}
    assert task.runc.status == 'running'
    # With the container kept running or gone, such an image is the checkpoint asked for: nothing to do.
    manager(tmp_path, image_path=image, leave_running=True).checkpoint({'id': 'box', 'status': 'running'})
    manager(tmp_path, image_path=image, force=force).checkpoint(None)
    assert content(image) == {'inventory.img': 'x', 'disk.img': 'x'}


def test_force_replaces_a_marked_complete_image(tmp_path):
    (tmp_path / 'images').mkdir()
    image = old_image(tmp_path / 'images' / 'box')
    manager(tmp_path, force=True).checkpoint({'id': 'box', 'status': 'running'})
    assert content(image) == {'inventory.img': 'new', 'pages-1.img': 'new'}


# -- a checkpoint whose run was killed after CRIU succeeded is finished --------------------------------

def interrupted_image(path, container_id='box'):
    folder = make_folder(path, 'inventory.img', 'pages-1.img')
    mark_image_folder(folder, container_id)
    return folder


def test_the_one_complete_image_an_interrupted_checkpoint_left_is_moved_into_place(tmp_path):
    (tmp_path / 'images').mkdir()
    left = interrupted_image(tmp_path / 'images' / '.box.partial-abc')
    task = manager(tmp_path)
    task.checkpoint(None)
    assert task.changed
    assert content(task.image_path) == {'inventory.img': 'x', 'pages-1.img': 'x'}
    assert os.listdir(str(tmp_path / 'images')) == ['box']
    assert task.module.warnings == [
        'image_path: container box is absent and %s held no image; the complete image that an interrupted checkpoint '
        'of it left at %s was moved there, which finishes that checkpoint' % (task.image_path, left)]


def test_check_mode_only_says_it_would_finish_the_interrupted_checkpoint(tmp_path):
    (tmp_path / 'images').mkdir()
    left = interrupted_image(tmp_path / 'images' / '.box.partial-abc')
    task = manager(tmp_path)
    task.check_mode = True
    task.checkpoint(None)
    assert task.changed and os.path.isdir(left) and not os.path.lexists(task.image_path)
    assert 'would be moved to %s' % task.image_path in task.module.warnings[0]


def test_several_images_interrupted_checkpoints_left_are_named_and_kept(tmp_path):
    (tmp_path / 'images').mkdir()
    first = interrupted_image(tmp_path / 'images' / '.box.partial-abc')
    second = interrupted_image(tmp_path / 'images' / '.box.partial-def')
    task = manager(tmp_path)
    with pytest.raises(TaskError, match='^image_path: container box is absent and .* holds no image, but 2 folders '
                                        'beside it hold a complete image that interrupted checkpoints of it left '
                                        r'\(%s, %s\)' % (first, second)):
        task.checkpoint(None)
    assert os.path.isdir(first) and os.path.isdir(second) and not os.path.lexists(task.image_path)


def test_an_interrupted_image_of_another_container_is_named_not_taken(tmp_path):
    (tmp_path / 'images').mkdir()
    other = interrupted_image(tmp_path / 'images' / '.box.partial-abc', container_id='other')
    unmarked = make_folder(tmp_path / 'images' / '.box.partial-def', 'inventory.img')
    task = manager(tmp_path)
    with pytest.raises(TaskError) as caught:
        task.checkpoint(None)
    assert str(caught.value) == (
        'name: container box is absent, so there is nothing to checkpoint, and %s holds no complete image; %s '
        'beside it holds a complete image that an interrupted checkpoint of another container left'
        % (task.image_path, other))
    assert os.path.isdir(other) and os.path.isdir(unmarked)


# -- the container's record travels with the image -----------------------------------------------------

def test_the_record_goes_into_the_image_and_comes_back_for_the_restored_container(tmp_path):
    (tmp_path / 'root').mkdir()
    task = manager(tmp_path)
    record = Record(task.root, 'box')
    record.save(task.runc.created, config_digest='abc', runtime='/usr/bin/runc')
    # A void record (of an earlier creation) is not copied: see the second image.
    task.checkpoint(task.runc.state('box'))
    with open(os.path.join(task.image_path, RECORD)) as stream:
        carried = json.load(stream)
    assert carried == {'container': 'box', 'record': {'config_digest': 'abc', 'runtime': '/usr/bin/runc',
                                                      'created': task.runc.created}}
    assert image_kind(task.image_path) == IMAGE_COMPLETE
    restoring = manager(tmp_path, state='restored')
    restoring.runc.created = '2026-11-28T11:00:00.000000002Z'
    restoring.adopt_record()
    assert record.load(restoring.runc.created) == {'config_digest': 'abc', 'runtime': '/usr/bin/runc',
                                                   'created': restoring.runc.created}
    # Restored under another id, it is another container: no record for it.
    clone = manager(tmp_path, state='restored', name='clone')
    clone.adopt_record()
    assert not os.path.exists(Record(clone.root, 'clone').path)
    void = manager(tmp_path, image_path=str(tmp_path / 'images' / 'void'))
    void.runc.created = 'another creation'
    void.checkpoint(void.runc.state('box'))
    assert not os.path.exists(os.path.join(void.image_path, RECORD))


def test_a_checkpoint_gives_runc_a_parent_death_signal(tmp_path):
    params = dict(name='box', image_path=str(tmp_path / 'image'), root=str(tmp_path / 'root'))
    assert CheckpointManager(FakeModule(**params)).runc.pdeath_signal == signal.SIGKILL
    assert CheckpointManager(FakeModule(state='restored', **params)).runc.pdeath_signal is None


def test_every_path_is_within_the_top_folder():
    assert is_within('/srv/c/web', '/') and is_within('/', '/') and not is_within('/srv', '/srv/c')
