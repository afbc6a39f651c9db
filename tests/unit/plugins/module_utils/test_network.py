# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The network option's pure parts: names, ports, config lists, the plan, what is reported.

The integration target runc_network runs the real plugins; these pin the edge cases.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.oci_runtime.runc.plugins.module_utils._config_merge import ConfigError
from ansible_collections.oci_runtime.runc.plugins.module_utils._network import (
    Plan,
    checked_conflist,
    cni_ports,
    find_conflist,
    namespace_name,
    network_of,
    summary,
)

BRIDGE = {'cniVersion': '1.0.0', 'name': 'web-net',
          'plugins': [{'type': 'bridge', 'ipam': {'type': 'host-local'}},
                      {'type': 'portmap', 'capabilities': {'portMappings': True}}]}


def test_namespace_names_differ_by_root_and_stay_file_names():
    assert namespace_name('/run/runc', 'web') != namespace_name('/srv/runc', 'web')
    assert namespace_name('/run/runc', 'web') == namespace_name('/run/runc/', 'web')
    assert namespace_name('/run/runc', 'web').endswith('-web')
    # An id CNI does not accept as a container id, or too long for a file name, is hashed.
    for container_id in ('a+b', 'x' * 250):
        name = namespace_name('/run/runc', container_id)
        assert len(name) < 64 and '+' not in name


@pytest.mark.parametrize('ports, message', [
    ([{'host_port': 0, 'container_port': 80}], 'ports[0]: host_port 0 is not a port number from 1 to 65535'),
    ([{'host_port': 8080, 'container_port': 65536}], 'ports[0]: container_port 65536 is not a port'),
    ([{'host_port': True, 'container_port': 80}], 'host_port True is not a port'),
    ([{'host_port': 8080, 'container_port': 80, 'protocol': 'icmp'}], "protocol 'icmp' is not one of"),
    ([{'host_port': 8080, 'container_port': 80, 'host_ip': 'localhost'}], "host_ip 'localhost' is not an IP"),
    ([{'host_port': 8080, 'container_port': 80, 'color': 'red'}], 'unknown keys color'),
    (['8080:80'], 'ports[0]: expected a dict'),
    ([{'host_port': 8080, 'container_port': 80}, {'host_port': 8080, 'container_port': 81}],
     'ports[1]: host port 8080/tcp is published by ports[0] too'),
    ([{'host_port': 8080, 'container_port': 80, 'host_ip': '10.0.0.1'}, {'host_port': 8080, 'container_port': 81}],
     'ports[1]: host port 8080/tcp is published by ports[0] too'),
])
def test_bad_ports_are_refused_naming_the_item(ports, message):
    with pytest.raises(ConfigError, match='^network: ') as raised:
        cni_ports(ports)
    assert message in str(raised.value)


def test_ports_become_port_mappings():
    assert cni_ports([{'host_port': '8080', 'container_port': 80},
                      {'host_port': 8080, 'container_port': 80, 'protocol': 'udp', 'host_ip': '::1'},
                      {'host_port': 8081, 'container_port': 80, 'host_ip': '10.0.0.1'},
                      {'host_port': 8081, 'container_port': 80, 'host_ip': '10.0.0.2'}]) == [
        {'hostPort': 8080, 'containerPort': 80, 'protocol': 'tcp', 'hostIP': ''},
        {'hostPort': 8080, 'containerPort': 80, 'protocol': 'udp', 'hostIP': '::1'},
        {'hostPort': 8081, 'containerPort': 80, 'protocol': 'tcp', 'hostIP': '10.0.0.1'},
        {'hostPort': 8081, 'containerPort': 80, 'protocol': 'tcp', 'hostIP': '10.0.0.2'}]


@pytest.mark.parametrize('conflist, message', [
    ([], 'is not a JSON object'),
    (dict(BRIDGE, cniVersion='0.2.0'), "cniVersion '0.2.0' is not one"),
    (dict(BRIDGE, name='web net'), "name 'web net' is not a CNI network name"),
    (dict(BRIDGE, plugins=[]), 'plugins must be a non-empty list'),
    (dict(BRIDGE, plugins=[{'type': '../../bin/sh'}]), 'plugins[0] has no type naming a plugin file'),
    (dict(BRIDGE, plugins=[{'type': 'bridge', 'ipam': {'type': 5}}]), 'plugins[0].ipam has no type'),
])
def test_bad_config_lists_are_refused(conflist, message):
    with pytest.raises(ConfigError) as raised:
        checked_conflist(conflist, 'config')
    assert str(raised.value).startswith('network: config') and message in str(raised.value)


def test_a_single_plugin_config_becomes_a_list_of_one():
    assert checked_conflist({'cniVersion': '0.4.0', 'name': 'lo', 'type': 'loopback'}, 'x') == {
        'cniVersion': '0.4.0', 'name': 'lo', 'plugins': [{'type': 'loopback'}]}


def test_a_network_is_found_by_name_in_file_order(tmp_path):
    (tmp_path / '10-other.conflist').write_text(json.dumps(dict(BRIDGE, name='other')))
    (tmp_path / '20-web.conflist').write_text(json.dumps(BRIDGE))
    (tmp_path / '30-web.conf').write_text(json.dumps({'cniVersion': '1.0.0', 'name': 'web-net', 'type': 'macvlan'}))
    (tmp_path / '40-broken.conflist').write_text('{')
    (tmp_path / 'README').write_text('not a config')
    assert find_conflist('web-net', str(tmp_path))['plugins'][0]['type'] == 'bridge'
    with pytest.raises(ConfigError, match=r"^network: name: no network 'db' in .* \(networks there: other, web-net\)"):
        find_conflist('db', str(tmp_path))
    with pytest.raises(ConfigError, match='^network: config_dir: cannot list'):
        find_conflist('web-net', str(tmp_path / 'missing'))


@pytest.mark.parametrize('value, message', [
    ({'mode': 'bridge'}, "mode 'bridge' is not one of none, host, path, cni"),
    ({'mode': 'path'}, 'path: mode path needs the absolute path'),
    ({'mode': 'path', 'path': 'netns/blue'}, 'path: mode path needs the absolute path'),
    ({'mode': 'host', 'ports': [{'host_port': 1, 'container_port': 1}]}, 'ports is for mode cni, not host'),
    ({'mode': 'cni'}, 'needs either name (a network in config_dir) or config (one given inline), not neither'),
    ({'mode': 'cni', 'name': 'a', 'config': BRIDGE}, 'not both'),
    ({'mode': 'cni', 'config': BRIDGE, 'interface': 'a-very-long-interface'}, "interface 'a-very-long-interface'"),
    ({'mode': 'cni', 'config': BRIDGE, 'plugin_dirs': ['relative']}, "plugin_dirs: 'relative' is not an absolute"),
    ({'mode': 'cni', 'config': dict(BRIDGE, plugins=[{'type': 'bridge'}]),
      'ports': [{'host_port': 80, 'container_port': 80}]}, 'has no plugin with the portMappings capability'),
])
def test_bad_plans_are_refused_on_the_controller_too(value, message):
    with pytest.raises(ConfigError) as raised:
        Plan(value, '/run/runc', 'web', on_host=False)
    assert str(raised.value).startswith('network: ') and message in str(raised.value)


def test_the_plan_digest_follows_what_the_network_is():
    plan = Plan({'mode': 'cni', 'config': BRIDGE, 'ports': [{'host_port': 8080, 'container_port': 80}]},
                '/run/runc', 'web', on_host=False)
    same = Plan({'mode': 'cni', 'config': BRIDGE, 'ports': [{'host_port': 8080, 'container_port': 80}],
                 'timeout': 5, 'plugin_dirs': ['/opt/cni/bin']}, '/run/runc', 'web', on_host=False)
    other_port = Plan({'mode': 'cni', 'config': BRIDGE, 'ports': [{'host_port': 8081, 'container_port': 80}]},
                      '/run/runc', 'web', on_host=False)
    assert plan.digest() == same.digest() != other_port.digest()
    assert plan.namespace_mode() == '/run/netns/' + namespace_name('/run/runc', 'web')
    assert Plan({'mode': 'none'}, '/run/runc', 'web', False).namespace_mode() == 'private'
    assert Plan({'mode': 'host'}, '/run/runc', 'web', False).namespace_mode() == 'host'


def test_the_summary_keeps_the_container_side_and_names_ports_as_the_task_does():
    state = {'namespace': '/run/netns/n', 'conflist': BRIDGE,
             'ports': [{'hostPort': 8080, 'containerPort': 80, 'protocol': 'tcp', 'hostIP': ''}],
             'result': {'interfaces': [{'name': 'cni0', 'mac': 'aa'}, {'name': 'veth1', 'mac': 'bb'},
                                       {'name': 'eth0', 'mac': 'cc', 'sandbox': '/run/netns/n'}],
                        'ips': [{'address': '10.88.0.5/16', 'interface': 2}, 'garbage']}}
    assert summary(state) == {
        'mode': 'cni', 'namespace': '/run/netns/n', 'network': 'web-net', 'ips': ['10.88.0.5/16'], 'unchecked': [],
        'interfaces': [{'name': 'eth0', 'mac': 'cc', 'sandbox': '/run/netns/n', 'addresses': ['10.88.0.5/16']}],
        'ports': [{'host_port': 8080, 'container_port': 80, 'protocol': 'tcp', 'host_ip': ''}]}


def test_the_mode_of_a_config_without_a_state_file():
    def config(*namespaces):
        return {'linux': {'namespaces': list(namespaces)}}
    assert network_of(config({'type': 'pid'}), '/nowhere', 'web') == {'mode': 'host', 'namespace': None}
    assert network_of(config({'type': 'network'}), '/nowhere', 'web') == {'mode': 'none', 'namespace': None}
    assert network_of(config({'type': 'network', 'path': '/run/netns/blue'}), '/nowhere', 'web') == {
        'mode': 'path', 'namespace': '/run/netns/blue'}


def test_every_address_takes_the_port_of_each_address():
    with pytest.raises(ConfigError, match=r'ports\[1\]: host port 8080/tcp is published by ports\[0\] too'):
        cni_ports([{'host_port': 8080, 'container_port': 80, 'host_ip': '0.0.0.0'},
                   {'host_port': 8080, 'container_port': 80, 'host_ip': '127.0.0.1'}])


@pytest.mark.parametrize('timeout', [0, -5, float('inf'), float('nan'), 1e9, True, 'soon'])
def test_timeouts_the_plugins_cannot_be_given_are_refused(timeout):
    with pytest.raises(ConfigError, match='^network: timeout: '):
        Plan({'mode': 'cni', 'config': BRIDGE, 'timeout': timeout}, '/run/runc', 'web', on_host=False)


@pytest.mark.parametrize('value, message', [
    ({'mode': 'cni', 'config': {}}, "cniVersion None is not one"),
    ({'mode': 'cni', 'config': BRIDGE, 'interface': ''}, "interface '' is not an interface name"),
    ({'mode': 'cni', 'config': BRIDGE, 'interface': '..'}, "interface '..' is not an interface name"),
    ({'mode': 'cni', 'config': BRIDGE, 'plugin_dirs': []}, 'plugin_dirs: give at least one folder'),
    ({'mode': 'cni', 'name': 'web-net', 'config_dir': 'net.d'}, "config_dir: 'net.d' is relative"),
])
def test_empty_values_are_refused_not_replaced(value, message):
    with pytest.raises(ConfigError) as raised:
        Plan(value, '/run/runc', 'web', on_host=False)
    assert message in str(raised.value)


def test_a_root_named_through_a_link_is_the_same_root(tmp_path):
    (tmp_path / 'root').mkdir()
    (tmp_path / 'link').symlink_to(tmp_path / 'root')
    assert namespace_name(str(tmp_path / 'link'), 'web') == namespace_name(str(tmp_path / 'root'), 'web')
