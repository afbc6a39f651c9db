# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Image identity, store names and skopeo's messages; the real tools are tested in the runc_image target."""

from __future__ import annotations

import hashlib
import json

import pytest

from ansible_collections.oci_runtime.runc.plugins.module_utils._image import (
    ImageError,
    parse_platform,
    skopeo_message,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils._image_identity import (
    ImageNameError,
    content_id,
    layout_path,
)

CONFIG = {
    'created': '2026-11-28T10:00:00Z',
    'architecture': 'amd64',
    'os': 'linux',
    'config': {'Env': ['PATH=/bin'], 'Entrypoint': ['/bin/sh']},
    'rootfs': {'type': 'layers', 'diff_ids': ['sha256:' + 'a' * 64]},
    'history': [{'created_by': 'umoci insert'}],
}


def test_content_id_is_the_sha256_of_the_canonical_json():
    canonical = json.dumps({'architecture': 'amd64', 'os': 'linux', 'diff_ids': ['sha256:' + 'a' * 64],
                            'config': CONFIG['config']}, sort_keys=True, separators=(',', ':'))
    assert content_id(CONFIG) == 'sha256:' + hashlib.sha256(canonical.encode()).hexdigest()


def test_content_id_ignores_history_and_dates_but_not_content():
    same = dict(CONFIG, created='2030-01-01T00:00:00Z', history=[])
    assert content_id(same) == content_id(CONFIG)
    assert content_id(dict(CONFIG, architecture='arm64')) != content_id(CONFIG)
    assert content_id(dict(CONFIG, variant='v8')) != content_id(CONFIG)
    assert content_id(dict(CONFIG, config={'Env': ['PATH=/usr/bin']})) != content_id(CONFIG)
    assert content_id(dict(CONFIG, rootfs={'diff_ids': []})) != content_id(CONFIG)


def test_a_missing_config_object_is_an_empty_one():
    without = {key: value for key, value in CONFIG.items() if key != 'config'}
    assert content_id(without) == content_id(dict(CONFIG, config={}))


@pytest.mark.parametrize('name', ['', '/etc', '../x', 'a/../b', 'a//b', 'a/', '.', 'a:b', 'a@sha256'])
def test_names_the_store_cannot_hold(name):
    with pytest.raises(ImageNameError):
        layout_path('/store', name)


def test_names_map_to_folders():
    assert layout_path('/store', 'library/busybox') == '/store/library/busybox'


def test_platforms():
    assert parse_platform('linux/arm64/v8') == {'os': 'linux', 'architecture': 'arm64', 'variant': 'v8'}
    for text in ('arm64', 'linux/', 'linux/arm64/v8/x', 'linux/a b'):
        with pytest.raises(ImageError, match='^platform: '):
            parse_platform(text)


def test_skopeo_message_takes_the_fatal_msg_and_masks_secrets():
    stderr = 'time="x" level=fatal msg="reading manifest: \\"hunter2\\" unauthorized"\n'
    assert skopeo_message(stderr, ['hunter2']) == 'reading manifest: "********" unauthorized'
    assert skopeo_message('plain failure\n', []) == 'plain failure'
