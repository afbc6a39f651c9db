# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The runc_containers inventory's filters, refusals and trust, over a runtime that prints a fixed list.

The real runtime is listed in the runc_connection integration target.
"""

from __future__ import annotations

import json

import pytest

from ansible.errors import AnsibleError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import inventory_loader

HOSTILE = "{{ lookup('pipe', 'touch /tmp/pwned') }}"
LISTED = [
    {'id': 'web-1', 'pid': 10, 'status': 'running', 'bundle': '/b/web-1', 'created': 't',
     'annotations': {'role': 'web', 'enabled': 'true', 'note': HOSTILE}},
    {'id': 'web-2', 'pid': 0, 'status': 'stopped', 'bundle': '/b/web-2', 'created': 't', 'annotations': {'role': 'web'}},
    {'id': 'db-1', 'pid': 11, 'status': 'running', 'bundle': '/b/db-1', 'created': 't', 'annotations': None},
]


def inventory_of(tmp_path, inventory=None, source_name='test', **config):
    runtime = tmp_path / 'runtime'
    runtime.write_text("#!/bin/sh\necho '%s'\n" % json.dumps(LISTED))
    runtime.chmod(0o755)
    (tmp_path / 'root').mkdir(exist_ok=True)
    source = tmp_path / ('%s.runc.yml' % source_name)
    source.write_text(json.dumps(dict(dict(plugin='oci_runtime.runc.runc_containers', roots=[str(tmp_path / 'root')],
                                           runtime_path=str(runtime)), **config)))
    inventory = inventory or InventoryData()
    plugin = inventory_loader.get('oci_runtime.runc.runc_containers')
    assert plugin.verify_file(str(source))
    plugin.parse(inventory, DataLoader(), str(source), cache=False)
    return inventory


def test_running_containers_are_hosts_with_their_state_and_connection(tmp_path):
    inventory = inventory_of(tmp_path)
    assert sorted(inventory.hosts) == ['db-1', 'web-1']
    web = inventory.get_host('web-1').vars
    assert web['ansible_connection'] == 'oci_runtime.runc.runc'
    assert web['ansible_runc_container'] == 'web-1' and web['ansible_runc_root'] == str(tmp_path / 'root')
    assert web['runc_pid'] == 10 and web['runc_bundle'] == '/b/web-1' and web['runc_annotations']['role'] == 'web'


def test_annotations_from_containers_are_never_templates(tmp_path):
    note = inventory_of(tmp_path).get_host('web-1').vars['runc_annotations']['note']
    try:
        from ansible.template import is_trusted_as_template   # ansible-core 2.19
    except ImportError:
        from ansible.utils.unsafe_proxy import AnsibleUnsafe
        assert isinstance(note, AnsibleUnsafe)
    else:
        assert not is_trusted_as_template(note)


@pytest.mark.parametrize('config, hosts', [
    ({'status': []}, ['db-1', 'web-1', 'web-2']),
    ({'status': ['stopped']}, ['web-2']),
    ({'id_pattern': '^web-'}, ['web-1']),
    ({'status': [], 'annotations': {'role': 'web'}}, ['web-1', 'web-2']),
    ({'annotations': {'enabled': True}}, ['web-1']),
    ({'keyed_groups': [{'key': 'runc_status', 'prefix': 'status'}], 'status': []}, ['db-1', 'web-1', 'web-2']),
])
def test_filters_choose_the_hosts(tmp_path, config, hosts):
    inventory = inventory_of(tmp_path, **config)
    assert sorted(inventory.hosts) == hosts
    if 'keyed_groups' in config:
        assert sorted(host.name for host in inventory.groups['status_stopped'].get_hosts()) == ['web-2']


@pytest.mark.parametrize('config, message', [
    ({'id_pattern': '('}, 'id_pattern'),
    ({'annotations': {'role': ['web']}}, 'annotations: give a dict'),
    ({'hosts': [{'host': '-oProxyCommand=x'}]}, r'hosts\[0\]: host must be a host name'),
    ({'roots': ['/tmp', '/tmp']}, 'container web-1 is in /tmp and in /tmp'),
    ({'compose': {'x': 'runc_nothing.here'}, 'strict': True}, 'runc_nothing'),
    ({'roots': ['relative']}, "roots: 'relative' is not an absolute path"),
    ({'roots': ['/no/such/root']}, 'roots: /no/such/root is not a folder on this machine'),
    ({'hosts': ['web1']}, r"hosts\[0\]: give a dict with host"),
    ({'timeout': 0}, 'timeout: 0 is not a number of seconds'),
])
def test_bad_sources_fail_naming_the_problem(tmp_path, config, message):
    with pytest.raises(AnsibleError, match=message):
        inventory_of(tmp_path, **config)


def test_two_sources_of_the_same_ids_need_prefixes(tmp_path):
    inventory = inventory_of(tmp_path)
    with pytest.raises(AnsibleError, match='container web-1 is in another inventory source and in'):
        inventory_of(tmp_path, inventory=inventory, source_name='again')
    inventory_of(tmp_path, inventory=inventory, source_name='prefixed', prefix='b-')
    assert sorted(inventory.hosts) == ['b-db-1', 'b-web-1', 'db-1', 'web-1']
    assert inventory.get_host('b-web-1').vars['ansible_runc_container'] == 'web-1'


def test_a_control_folder_too_long_for_a_socket_fails_naming_the_option_and_is_not_made(tmp_path):
    folder = str(tmp_path / ('d' * 80))
    with pytest.raises(AnsibleError, match='ssh_control_path_dir: the SSH control folder %s is too long' % folder):
        inventory_of(tmp_path, hosts=[{'host': 'h1'}], ssh_control_path_dir=folder)
    assert not (tmp_path / ('d' * 80)).exists()
