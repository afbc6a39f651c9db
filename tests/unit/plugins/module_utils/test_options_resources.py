# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Resources in plain units, and what comparisons leaves out."""

from __future__ import annotations

import pytest

from ansible_collections.oci_runtime.runc.plugins.module_utils import _options_resources as resources
from ansible_collections.oci_runtime.runc.plugins.module_utils._container_config import (
    MINIMAL_SPEC,
    ConfigError,
    compose_config,
    resource_changes,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils._options import CONTAINER, rows

CREATE_OPTIONS = ('no_pivot', 'no_new_keyring', 'stdout_path', 'stderr_path')


def params(**values):
    chosen = {row.name: None for row in rows(CONTAINER)}
    chosen.update(values)
    return chosen


def composed_resources(**values):
    return compose_config(MINIMAL_SPEC, params(**values))['linux'].get('resources')


@pytest.mark.parametrize('value, size', [
    (536870912, 536870912), ('536870912', 536870912), ('512M', 536870912), ('512m', 536870912),
    ('512MiB', 536870912), ('512 mb', 536870912), ('1G', 1073741824), ('1.5G', 1610612736),
    ('100k', 102400), ('1.1G', 1181116006), ('0.5k', 512), ('64m', 67108864), ('2t', 2 * 1024 ** 4), (1048576.0, 1048576), (' 1g ', 1073741824),
])
def test_sizes_in_binary_units(value, size):
    assert resources.parse_size(value, 'memory') == size


@pytest.mark.parametrize('value', ['12Q', '', 'M', '1.5.5', '-5M', 'lots', True, None, [1], 1.5])
def test_what_is_not_a_size_is_refused_naming_the_option(value):
    with pytest.raises(ConfigError, match=r'^memory: .* is not a size \(bytes, or a number with k, m, g or t\)$'):
        resources.parse_size(value, 'memory')


def test_the_documented_message_for_a_bad_size():
    with pytest.raises(ConfigError) as caught:
        composed_resources(memory='12Q')
    assert str(caught.value) == "memory: '12Q' is not a size (bytes, or a number with k, m, g or t)"


@pytest.mark.parametrize('value', [0, '0', -2, '0k'])
def test_no_limit_is_not_a_limit(value):
    with pytest.raises(ConfigError, match=r'^memory: .* is not a limit'):
        resources.parse_size(value, 'memory')


def test_swap_may_be_unlimited():
    assert resources.parse_size(-1, 'memory_swap', unlimited=True) == -1
    assert resources.parse_size('-1', 'memory_swap', unlimited=True) == -1


def test_equal_intent_composes_an_equal_config():
    assert composed_resources(memory='512M') == composed_resources(memory=536870912) \
        == composed_resources(memory='536870912') == {'memory': {'limit': 536870912}}
    assert composed_resources(cpuset_cpus='1,0') == composed_resources(cpuset_cpus='0-1') \
        == {'cpu': {'cpus': '0-1'}}


def test_every_option_goes_to_its_field():
    assert composed_resources(memory='64M', memory_swap='128M', cpus=1.5, cpu_shares=512, cpuset_cpus='0',
                              pids_limit=64, blkio_weight=500) == {
        'memory': {'limit': 67108864, 'swap': 134217728},
        'cpu': {'quota': 150000, 'period': 100000, 'shares': 512, 'cpus': '0'},
        'pids': {'limit': 64},
        'blockIO': {'weight': 500},
    }


def test_the_options_win_over_resources_and_keep_its_other_fields():
    composed = composed_resources(resources={'memory': {'limit': 1024, 'reservation': 512},
                                             'cpu': {'quota': 1, 'period': 5000, 'shares': 10}},
                                  memory='1M', cpus=0.5)
    assert composed == {'memory': {'limit': 1048576, 'reservation': 512},
                        'cpu': {'quota': 50000, 'period': 100000, 'shares': 10}}


@pytest.mark.parametrize('cpus, message', [
    (0, 'cpus: 0 is not a number of CPUs above 0'),
    (-1.0, 'cpus: -1.0 is not a number of CPUs above 0'),
    (0.001, 'cpus: 0.001 is too small; give at least 0.01 CPUs'),
])
def test_cpus_must_be_some(cpus, message):
    with pytest.raises(ConfigError) as caught:
        composed_resources(cpus=cpus)
    assert str(caught.value) == message


@pytest.mark.parametrize('text, canonical', [
    ('0', '0'), ('0-1', '0-1'), ('1,0', '0-1'), ('0,2,3,4', '0,2-4'), ('3, 1', '1,3'), (2, '2'),
])
def test_cpu_lists_are_canonical(text, canonical):
    assert resources.canonical_cpu_list(text) == canonical


@pytest.mark.parametrize('text', ['', 'all', '0-', '1-0', '0;1', '-1'])
def test_bad_cpu_lists(text):
    with pytest.raises(ConfigError, match=r'^cpuset_cpus: '):
        resources.canonical_cpu_list(text)


@pytest.mark.parametrize('values, message', [
    (dict(pids_limit=0), 'pids_limit: 0 is out of range; give a number at least 1, or -1 for no limit'),
    (dict(blkio_weight=5), 'blkio_weight: 5 is out of range; give a number from 10 to 1000'),
    (dict(blkio_weight=1001), 'blkio_weight: 1001 is out of range; give a number from 10 to 1000'),
    (dict(cpu_shares=1), 'cpu_shares: 1 is out of range; give a number from 2 to 262144'),
    (dict(memory_swap='1G'), 'memory_swap: needs a memory limit (memory), since it counts memory plus swap'),
    (dict(memory='1G', memory_swap='512M'),
     'memory_swap: 512M is below the memory limit 1G; it counts memory plus swap'),
])
def test_bad_values_name_the_option(values, message):
    with pytest.raises(ConfigError) as caught:
        composed_resources(**values)
    assert str(caught.value) == message


def test_unlimited_values():
    assert composed_resources(pids_limit=-1, memory_swap=-1) == {'pids': {'limit': -1}, 'memory': {'swap': -1}}


def test_a_change_of_memory_is_an_update_and_its_removal_a_recreation():
    before = composed_resources(memory='64M', cpus=1)
    updatable, other = resource_changes(before, composed_resources(memory='128M', cpus=1))
    assert updatable == {'memory': {'limit': 134217728}} and other == []
    updatable, other = resource_changes(before, composed_resources(cpus=1))
    assert other == ['memory']
    updatable, other = resource_changes(before, composed_resources(memory='64M'))
    assert other == ['cpu']


# -- comparisons ---------------------------------------------------------------------------------

def ignored(comparisons):
    return resources.ignored_parts(comparisons, rows(CONTAINER, 'config'), CREATE_OPTIONS)


def test_option_names_stand_for_their_paths():
    found = ignored({'env': 'ignore', 'secret_env': 'ignore', 'hostname': 'ignore', 'memory': 'ignore',
                     'cpus': 'strict', 'no_pivot': 'ignore', 'stdout_path': 'strict'})
    assert sorted(found.paths) == [('hostname',), ('linux', 'resources', 'memory', 'limit'), ('process', 'env')]
    assert found.options == frozenset(['no_pivot'])


def test_dotted_paths():
    found = ignored({'linux.resources.memory': 'ignore', 'process.user.uid': 'ignore', 'mounts': 'ignore'})
    assert sorted(found.paths) == [('linux', 'resources', 'memory'), ('mounts',), ('process', 'user', 'uid')]


def test_nothing_ignored():
    assert not ignored(None) and not ignored({}) and not ignored({'env': 'strict'})


@pytest.mark.parametrize('comparisons, message', [
    ({'nosuchoption': 'ignore'}, "comparisons: 'nosuchoption' is neither an option of runc_container nor a path"),
    ({'': 'ignore'}, "comparisons: '' is the whole config"),
    ({'spec': 'ignore'}, "comparisons: 'spec' is the whole config"),
    ({'process..env': 'ignore'}, "comparisons: 'process..env' is neither"),
    ({'process.env ': 'ignore'}, "comparisons: 'process.env ' is neither"),
    ({'foo.bar': 'ignore'}, "comparisons: 'foo.bar' is neither"),
    ({'state': 'ignore'}, "comparisons: 'state' is neither"),
    ({'env': 'loose'}, "comparisons: env: 'loose' is neither strict nor ignore"),
    ({'env': True}, "comparisons: env: True is neither strict nor ignore"),
])
def test_bad_comparisons_name_the_option(comparisons, message):
    with pytest.raises(ConfigError) as caught:
        ignored(comparisons)
    assert str(caught.value).startswith(message)


def test_ignored_paths_leave_both_sides():
    config = {'hostname': 'a', 'process': {'env': ['A=1'], 'cwd': '/'}, 'linux': {'resources': {'pids': {'limit': 5}}}}
    stripped = resources.without_paths(config, [('hostname',), ('process', 'env'), ('no', 'such'),
                                                ('linux', 'resources', 'pids', 'limit')])
    assert stripped == {'process': {'cwd': '/'}, 'linux': {'resources': {'pids': {}}}}
    assert config['hostname'] == 'a', 'the original is left alone'


def test_ignored_resources_are_never_updated():
    known = {'memory': {'limit': 1}, 'pids': {'limit': 5}}
    desired = {'memory': {'limit': 2}, 'pids': {'limit': 6}}
    paths = [('linux', 'resources', 'memory')]
    assert resource_changes(resources.resources_without(known, paths), resources.resources_without(desired, paths)) \
        == ({'pids': {'limit': 6}}, [])
    assert resources.resources_without(known, [('linux', 'resources')]) == {}


def test_kept_paths_say_what_the_container_runs_with():
    current = {'hostname': 'old', 'process': {'env': ['A=1']}}
    desired = {'hostname': 'new', 'process': {'env': ['A=2'], 'cwd': '/'}, 'annotations': {'x': 'y'}}
    paths = [('hostname',), ('process', 'env'), ('annotations',), ('linux', 'sysctl')]
    kept = resources.with_kept_paths(desired, current, paths)
    assert kept == {'hostname': 'old', 'process': {'env': ['A=1'], 'cwd': '/'}}
    assert desired['hostname'] == 'new', 'the original is left alone'
    assert resources.with_kept_paths({}, {'linux': {'resources': {'pids': {'limit': 1}}}},
                                     [('linux', 'resources', 'pids')]) == {'linux': {'resources': {'pids': {'limit': 1}}}}
