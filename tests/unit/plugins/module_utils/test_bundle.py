# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""runc_bundle's pure parts: paths inside a rootfs, users, id maps, volume folders.

The integration target runc_bundle is the main evidence; these pin the edge cases.
"""

from __future__ import annotations

import os

import pytest

from ansible_collections.oci_runtime.runc.plugins.module_utils._bundle import (
    BundleError,
    base_spec_entry,
    parse_id_map,
    resolve_in_rootfs,
    resolve_user,
    sound_base_spec,
    volume_folder,
)


@pytest.fixture
def rootfs(tmp_path):
    (tmp_path / 'etc').mkdir()
    (tmp_path / 'etc' / 'passwd').write_text('root:x:0:0::/root:/bin/sh\napp:x:1234:2345::/srv:/bin/sh\n')
    (tmp_path / 'etc' / 'group').write_text('root:x:0:\napp:x:2345:\nextra:x:3456:app,other\nstaff:x:50:\n')
    return str(tmp_path)


def test_links_resolve_inside_the_rootfs(rootfs, tmp_path):
    os.symlink('/etc', os.path.join(rootfs, 'abs'))
    os.symlink('../../../../etc', os.path.join(rootfs, 'rel'))
    assert resolve_in_rootfs(rootfs, '/abs/passwd') == os.path.join(rootfs, 'etc', 'passwd')
    assert resolve_in_rootfs(rootfs, '/rel/passwd') == os.path.join(rootfs, 'etc', 'passwd')
    assert resolve_in_rootfs(rootfs, '/../../etc/group') == os.path.join(rootfs, 'etc', 'group')


def test_a_link_loop_is_an_error(rootfs):
    os.symlink('/loop', os.path.join(rootfs, 'loop'))
    with pytest.raises(OSError):
        resolve_in_rootfs(rootfs, '/loop/x')


def test_a_passwd_linked_to_the_hosts_is_read_from_the_rootfs(rootfs):
    os.rename(os.path.join(rootfs, 'etc', 'passwd'), os.path.join(rootfs, 'etc', 'passwd.real'))
    os.symlink('/etc/passwd.real', os.path.join(rootfs, 'etc', 'passwd'))
    assert resolve_user('app', rootfs, 'x:1')['uid'] == 1234


@pytest.mark.parametrize('image_user, expected', [
    ('', {'uid': 0, 'gid': 0}),
    ('app', {'uid': 1234, 'gid': 2345, 'additionalGids': [3456]}),
    ('app:staff', {'uid': 1234, 'gid': 50}),
    ('1234', {'uid': 1234, 'gid': 2345, 'additionalGids': [3456]}),
    ('77', {'uid': 77, 'gid': 0}),
    ('77:88', {'uid': 77, 'gid': 88}),
])
def test_users(rootfs, image_user, expected):
    assert resolve_user(image_user, rootfs, 'x:1') == expected


@pytest.mark.parametrize('image_user, named', [('ghost', "'ghost'"), ('app:nogroup', "'nogroup'")])
def test_unknown_names_fail_naming_the_image_and_the_name(rootfs, image_user, named):
    with pytest.raises(BundleError) as caught:
        resolve_user(image_user, rootfs, 'test/app:v1')
    assert str(caught.value).startswith('name: the image test/app:v1')
    assert named in str(caught.value)


def test_id_maps():
    assert parse_id_map('uid_map', ['0:100000:65536']) == [{'containerID': 0, 'hostID': 100000, 'size': 65536}]
    for bad in ('0:1', '0:1:0', 'a:b:c', '0:1:2:3'):
        with pytest.raises(BundleError, match='^uid_map: '):
            parse_id_map('uid_map', [bad])


def test_volume_folders_never_collide():
    assert volume_folder('/b', '/var/lib/data') == '/b/volumes/var%2Flib%2Fdata'
    assert volume_folder('/b', '/var-lib/data') != volume_folder('/b', '/var/lib-data')


def test_base_spec_is_used_only_whole_and_for_its_own_rootfs():
    spec = {'ociVersion': '1.0.2', 'process': {'env': ['PATH=/bin']}}
    entry = base_spec_entry(spec, 'rootfs-aaaaaaaaaaaa-11111111')
    assert sound_base_spec(entry, 'rootfs-aaaaaaaaaaaa-11111111') == spec
    # Written by an unpack a killed task never switched config.json to.
    assert sound_base_spec(entry, 'rootfs-bbbbbbbbbbbb-22222222') is None
    edited = dict(entry, spec=dict(spec, hooks={'createRuntime': [{'path': '/bin/true'}]}))
    assert sound_base_spec(edited, 'rootfs-aaaaaaaaaaaa-11111111') is None
    for damaged in ({}, [], None, {'spec': 5, 'rootfs': 'rootfs-aaaaaaaaaaaa-11111111'}, dict(entry, digest=None)):
        assert sound_base_spec(damaged, 'rootfs-aaaaaaaaaaaa-11111111') is None
