# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""runc_info's config masking and its checks of what a runtime lists."""

from __future__ import annotations

import json

import pytest

from ansible_collections.oci_runtime.runc.plugins.module_utils._info import InfoGatherer


class FakeModule:
    def __init__(self, **params):
        self.params = dict(dict(gather=['config'], mask_env=False), **params)


def config_entry(tmp_path, config):
    (tmp_path / 'config.json').write_text(json.dumps(config))
    return {'id': 'web', 'bundle': str(tmp_path)}


def env_of(config):
    return config['process']['env']


def test_annotated_secrets_are_masked(tmp_path):
    entry = config_entry(tmp_path, {'annotations': {'oci_runtime.runc.secret-env': 'PW,KEY'},
                                    'process': {'env': ['PATH=/bin', 'PW=hunter2', 'KEY=a=b', 'X=1']}})
    assert env_of(InfoGatherer(FakeModule()).read_config(entry)) == ['PATH=/bin', 'PW=********', 'KEY=********', 'X=1']


def test_mask_env_masks_every_value(tmp_path):
    entry = config_entry(tmp_path, {'process': {'env': ['PATH=/bin', 'PW=hunter2']}})
    assert env_of(InfoGatherer(FakeModule(mask_env=True)).read_config(entry)) == ['PATH=********', 'PW=********']


@pytest.mark.parametrize('annotations', [['oops'], {'oci_runtime.runc.secret-env': ['PW']}])
def test_a_malformed_annotation_masks_everything(tmp_path, annotations):
    entry = config_entry(tmp_path, {'annotations': annotations, 'process': {'env': ['PW=hunter2']}})
    assert env_of(InfoGatherer(FakeModule()).read_config(entry)) == ['PW=********']


@pytest.mark.parametrize('config', [[], 'text', None])
def test_a_config_that_is_not_an_object_reads_as_null(tmp_path, config):
    assert InfoGatherer(FakeModule()).read_config(config_entry(tmp_path, config)) is None


def test_an_unreadable_config_reads_as_null(tmp_path):
    assert InfoGatherer(FakeModule()).read_config({'id': 'web', 'bundle': str(tmp_path / 'none')}) is None
