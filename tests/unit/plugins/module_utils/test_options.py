# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The option table is the one place options are declared: it and each module's DOCUMENTATION agree."""

from __future__ import annotations

import importlib
import importlib.util
import os

import pytest
import yaml

from ansible_collections.oci_runtime.runc.plugins.module_utils import _options


def documented_options(module_name):
    module = importlib.import_module('ansible_collections.oci_runtime.runc.plugins.modules.%s' % module_name)
    documentation = yaml.safe_load(module.DOCUMENTATION)
    options = dict(documentation.get('options') or {})
    for fragment in documentation.get('extends_documentation_fragment', []):
        # The collection's own fragments (oci_runtime.runc.runtime, oci_runtime.runc.container_config).
        name = fragment[len('oci_runtime.runc.'):]
        fragment_module = importlib.import_module('ansible_collections.oci_runtime.runc.plugins.doc_fragments.%s' % name)
        options.update(yaml.safe_load(fragment_module.ModuleDocFragment.DOCUMENTATION)['options'])
    return options


@pytest.mark.parametrize('module_name', _options.MODULES)
def test_every_documented_option_has_a_row_and_every_row_is_documented(module_name):
    documented = documented_options(module_name)
    declared = _options.argument_spec(module_name)
    assert sorted(set(documented) - set(declared)) == [], 'documented, but no row in the option table'
    assert sorted(set(declared) - set(documented)) == [], 'a row of the option table, but not documented'


def assert_documented_as_declared(documented, declared, where):
    for name, spec in declared.items():
        doc = documented.get(name)
        assert doc is not None, '%s%s: a row without documentation' % (where, name)
        label = where + name
        assert doc.get('type', 'str') == spec.get('type', 'str'), label
        assert doc.get('elements') == spec.get('elements'), label
        assert doc.get('choices') == spec.get('choices'), label
        assert doc.get('default') == spec.get('default'), label
        assert bool(doc.get('required')) == bool(spec.get('required')), label
        assert sorted(doc.get('aliases') or []) == sorted(spec.get('aliases') or []), label
        if spec.get('options') or doc.get('suboptions'):
            assert sorted(doc.get('suboptions') or {}) == sorted(spec.get('options') or {}), label
            assert_documented_as_declared(doc.get('suboptions') or {}, spec.get('options') or {}, label + '.')


@pytest.mark.parametrize('module_name', _options.MODULES)
def test_documented_types_defaults_choices_and_suboptions_are_the_rows(module_name):
    assert_documented_as_declared(documented_options(module_name), _options.argument_spec(module_name), '')


def test_a_name_is_one_row_per_module():
    for module_name in _options.MODULES:
        names = [row.name for row in _options.rows(module_name)]
        assert len(names) == len(set(names)), module_name


def test_config_rows_have_a_place_and_a_way_to_merge():
    for row in _options.OPTIONS:
        if row.is_config:
            assert (row.merge is None) != (row.apply is None), row
            assert row.rule, row
        if row.flag:
            assert row.commands, row


def test_flag_values_follow_the_table():
    params = {row.name: None for row in _options.OPTIONS}
    params.update(no_pivot=True, pid_file='/run/x.pid', empty_ns=None, lazy_pages=True)
    assert _options.flag_values(_options.CONTAINER, 'create', params) == {
        'pid_file': '/run/x.pid', 'no_pivot': True, 'no_new_keyring': None, 'console_socket': None}
    restore = _options.flag_values(_options.CHECKPOINT, 'restore', params)
    assert restore['empty_ns'] == [] and restore['lazy_pages'] is True and 'parent_path' not in restore


def test_the_generated_options_page_is_current():
    top = os.path.join(os.path.dirname(_options.__file__), '..', '..')
    spec = importlib.util.spec_from_file_location('options_doc', os.path.join(top, 'scripts', 'options_doc.py'))
    options_doc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(options_doc)
    with open(os.path.join(top, 'docs', 'options.md')) as stream:
        assert stream.read() == options_doc.render(), 'docs/options.md is stale: run scripts/options_doc.py'


def test_a_replacing_mount_keeps_its_place_and_the_old_order_is_still_known():
    from ansible_collections.oci_runtime.runc.plugins.module_utils._config_merge import merge_mounts
    base = [{'destination': '/proc'}, {'destination': '/dev'}, {'destination': '/dev/pts'}]
    new_dev = {'destination': '/dev', 'type': 'tmpfs'}
    assert [m['destination'] for m in merge_mounts(base, [new_dev])] == ['/proc', '/dev', '/dev/pts']
    assert merge_mounts(base, [new_dev])[1] == new_dev
    # Versions before 0.2.0 moved it to the end; containers they made are recognised by that order.
    assert [m['destination'] for m in merge_mounts(base, [new_dev], append=True)] == ['/proc', '/dev/pts', '/dev']
    assert base[1] == {'destination': '/dev'}
