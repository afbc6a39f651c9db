# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""namespaces, volumes, tmpfs and devices as OCI config (the runtime itself: tests/integration)."""

from __future__ import annotations

import os
import stat
import types

import pytest

from ansible_collections.oci_runtime.runc.plugins.module_utils import _options_linux
from ansible_collections.oci_runtime.runc.plugins.module_utils._config_merge import ConfigError
from ansible_collections.oci_runtime.runc.plugins.module_utils._container_config import compose_config
from ansible_collections.oci_runtime.runc.plugins.module_utils._linux_config import (
    device_entry,
    device_request,
    device_requests,
    host_network_mounts,
    merge_device_rules,
    merge_devices,
    merge_namespaces,
    namespace_modes,
    parse_volume,
    tmpfs_mount,
    tmpfs_mounts,
    volume_mounts,
)

# The parts of runc 1.1's default spec these options touch.
BASE = {
    'ociVersion': '1.0.2',
    'process': {'args': ['sh'], 'cwd': '/'},
    'root': {'path': 'rootfs', 'readonly': True},
    'hostname': 'runc',
    'mounts': [
        {'destination': '/proc', 'type': 'proc', 'source': 'proc'},
        {'destination': '/dev', 'type': 'tmpfs', 'source': 'tmpfs', 'options': ['nosuid', 'mode=755']},
        {'destination': '/dev/shm', 'type': 'tmpfs', 'source': 'shm', 'options': ['nosuid', 'size=65536k']},
        {'destination': '/sys', 'type': 'sysfs', 'source': 'sysfs', 'options': ['ro']},
    ],
    'linux': {
        'namespaces': [{'type': 'pid'}, {'type': 'network'}, {'type': 'ipc'}, {'type': 'uts'}, {'type': 'mount'}],
        'resources': {'devices': [{'allow': False, 'access': 'rwm'}]},
    },
}


def compose(bundle='/srv/bundle', **params):
    """compose_config on the managed host (with a bundle) or, bundle=None, on the controller."""
    return compose_config(BASE, params, bundle=bundle)


def fake_device(monkeypatch, devices):
    """os.stat of _options_linux answers for the paths in devices ({path: stat-like}) and else as usual."""
    real_stat = os.stat

    def fake_stat(path, *args, **kwargs):
        if path in devices:
            return devices[path]
        return real_stat(path, *args, **kwargs)
    monkeypatch.setattr(_options_linux.os, 'stat', fake_stat)


def char_device(major, minor, mode=0o666, uid=0, gid=0):
    return types.SimpleNamespace(st_mode=stat.S_IFCHR | mode, st_rdev=os.makedev(major, minor), st_uid=uid, st_gid=gid)


# -- namespaces -----------------------------------------------------------------------------------

def test_namespaces_keep_the_base_order_host_removes_and_paths_join():
    merged = merge_namespaces(BASE['linux']['namespaces'],
                              {'network': 'host', 'ipc': '/proc/42/ns/ipc', 'cgroup': 'private', 'pid': 'private'})
    assert merged == [{'type': 'pid'}, {'type': 'ipc', 'path': '/proc/42/ns/ipc'}, {'type': 'uts'},
                      {'type': 'mount'}, {'type': 'cgroup'}]
    # A joined one made private again, duplicates of the base folded into the first place.
    assert merge_namespaces([{'type': 'net'}, {'type': 'ipc', 'path': '/x'}, {'type': 'ipc'}], {'ipc': 'private'}) == [
        {'type': 'net'}, {'type': 'ipc'}]
    assert BASE['linux']['namespaces'][1] == {'type': 'network'}


def test_namespace_order_of_the_task_does_not_matter_and_paths_are_normalised():
    first = merge_namespaces([], namespace_modes({'user': '/proc/1/ns/user', 'cgroup': 'private'}))
    second = merge_namespaces([], namespace_modes({'cgroup': 'private', 'user': '/proc//1/ns/user/'}))
    assert first == second == [{'type': 'user', 'path': '/proc/1/ns/user'}, {'type': 'cgroup'}]


@pytest.mark.parametrize('value, message', [
    ({'net': 'host'}, "namespaces: unknown namespace type 'net'"),
    ({'pid': 'shared'}, "namespaces: pid: 'shared' is neither private, host nor an absolute path"),
    ({'pid': 1}, "namespaces: pid: 1 is neither"),
    ({'network': 'run/netns/x'}, "namespaces: network: 'run/netns/x' is a relative path"),
    ({'mount': 'host'}, 'namespaces: mount: host is not supported'),
    (['network'], 'namespaces: expected a dict'),
])
def test_namespaces_refuse_bad_input(value, message):
    with pytest.raises(ConfigError, match='^' + message.replace('(', r'\(')):
        namespace_modes(value)


def test_a_private_user_namespace_needs_mappings_from_spec():
    with pytest.raises(ConfigError, match='^namespaces: user: private needs uid and gid mappings'):
        compose(namespaces={'user': 'private'})
    mappings = [{'containerID': 0, 'hostID': 100000, 'size': 65536}]
    config = compose(namespaces={'user': 'private'},
                     spec={'linux': {'uidMappings': mappings, 'gidMappings': mappings}})
    assert config['linux']['namespaces'][-1] == {'type': 'user'}


def test_host_network_binds_resolv_conf_and_hosts_unless_the_task_mounts_its_own():
    config = compose(bundle=None, namespaces={'network': 'host'})
    assert [ns['type'] for ns in config['linux']['namespaces']] == ['pid', 'ipc', 'uts', 'mount']
    assert config['mounts'][-2:] == [
        {'destination': '/etc/resolv.conf', 'type': 'bind', 'source': '/etc/resolv.conf', 'options': ['rbind', 'ro']},
        {'destination': '/etc/hosts', 'type': 'bind', 'source': '/etc/hosts', 'options': ['rbind', 'ro']}]
    own = compose(bundle=None, namespaces={'network': 'host'}, volumes=['/srv/resolv.conf:/etc/resolv.conf:ro'],
                  tmpfs={'/etc/hosts': ''})
    resolv = [mount for mount in own['mounts'] if mount['destination'] == '/etc/resolv.conf']
    hosts = [mount for mount in own['mounts'] if mount['destination'] == '/etc/hosts']
    assert resolv == [{'destination': '/etc/resolv.conf', 'type': 'bind', 'source': '/srv/resolv.conf',
                       'options': ['rbind', 'ro']}]
    assert [mount['type'] for mount in hosts] == ['tmpfs']
    via_mounts = compose(bundle=None, namespaces={'network': 'host'},
                         mounts=[{'destination': '/etc/hosts', 'type': 'bind', 'source': '/srv/hosts'}])
    assert [m['source'] for m in via_mounts['mounts'] if m['destination'] == '/etc/hosts'] == ['/srv/hosts']
    assert host_network_mounts({'/etc/hosts'}) == [
        {'destination': '/etc/resolv.conf', 'type': 'bind', 'source': '/etc/resolv.conf', 'options': ['rbind', 'ro']}]


def test_uts_host_drops_the_base_host_name_and_refuses_one_from_the_task():
    assert 'hostname' not in compose(bundle=None, namespaces={'uts': 'host'})
    with pytest.raises(ConfigError, match='^namespaces: uts: host keeps the host'):
        compose(bundle=None, namespaces={'uts': 'host'}, hostname='web')
    with pytest.raises(ConfigError, match='^namespaces: uts: host keeps the host'):
        compose(bundle=None, namespaces={'uts': 'host'}, spec={'hostname': 'web'})
    # Joining a UTS namespace: the task may name it, the base's name is not imposed on it.
    assert compose(bundle=None, namespaces={'uts': '/proc/1/ns/uts'}, hostname='web')['hostname'] == 'web'
    assert 'hostname' not in compose(bundle=None, namespaces={'uts': '/proc/1/ns/uts'})


def test_a_namespace_to_join_must_exist_on_the_host_only():
    with pytest.raises(ConfigError, match='^namespaces: network: /run/netns/none-such does not exist on the host'):
        compose(namespaces={'network': '/run/netns/none-such'})
    # The controller cannot know: the module checks on the host.
    assert compose(bundle=None, namespaces={'network': '/run/netns/none-such'})['linux']['namespaces'][1] == {
        'type': 'network', 'path': '/run/netns/none-such'}


# -- volumes --------------------------------------------------------------------------------------

@pytest.mark.parametrize('text, options', [
    ('/srv/data:/data', ['rbind', 'rw']),
    ('/srv/data/:/data/:', ['rbind', 'rw']),
    ('/srv/data:/data:rw,rbind', ['rbind', 'rw']),
    ('/srv/data:/data:ro', ['rbind', 'ro']),
    ('/srv/data:/data:noexec,bind,ro,nosuid,rslave', ['bind', 'ro', 'noexec', 'nosuid', 'rslave']),
])
def test_volumes_are_bind_mounts_with_canonical_options(text, options):
    assert parse_volume(text) == {'destination': '/data', 'type': 'bind', 'source': '/srv/data', 'options': options}


@pytest.mark.parametrize('volumes, message', [
    (['/srv'], "volumes: '/srv' is not SRC:DEST[OPTIONS]"),
    (['/a:/b:ro:x'], "volumes: '/a:/b:ro:x' is not SRC:DEST"),
    (['srv:/data'], "volumes: srv:/data: source 'srv' is not an absolute path"),
    (['/srv:data'], "volumes: /srv:data: destination 'data' is not an absolute path"),
    (['/srv:/'], 'volumes: /srv:/: destination / would hide the whole rootfs'),
    (['/srv:/data:exec'], 'volumes: /srv:/data:exec: unknown option exec'),
    (['/srv:/data:ro,rw'], 'volumes: /srv:/data:ro,rw: ro and rw contradict each other'),
    (['/srv:/data:shared,private'], 'volumes: /srv:/data:shared,private: private and shared contradict'),
    (['/a:/data', '/b:/data/'], 'volumes: /a:/data and /b:/data/ have the same destination'),
    ([7], 'volumes: 7 is not a SRC:DEST'),
])
def test_volumes_refuse_bad_input(volumes, message):
    with pytest.raises(ConfigError) as raised:
        volume_mounts(volumes)
    assert str(raised.value).startswith(message.replace('[OPTIONS]', '[:OPTIONS]'))


def test_a_volume_takes_the_place_of_a_base_mount_and_its_source_must_exist_on_the_host(tmp_path):
    config = compose(volumes=['%s:/dev/shm:ro' % tmp_path, '%s:/data' % tmp_path])
    assert [mount['destination'] for mount in config['mounts']] == ['/proc', '/dev', '/dev/shm', '/sys', '/data']
    assert config['mounts'][2] == {'destination': '/dev/shm', 'type': 'bind', 'source': str(tmp_path),
                                   'options': ['rbind', 'ro']}
    missing = str(tmp_path / 'missing')
    with pytest.raises(ConfigError, match='^volumes: %s:/data: source: %s does not exist on the host' % (missing, missing)):
        compose(volumes=['%s:/data' % missing])
    assert compose(bundle=None, volumes=['%s:/data' % missing])['mounts'][-1]['source'] == missing


# -- tmpfs ----------------------------------------------------------------------------------------

@pytest.mark.parametrize('text', ['size=64m,mode=1777', 'mode=01777, size=64M', 'size=67108864,mode=0o1777',
                                  ' size=65536k ,mode=1777,'])
def test_tmpfs_sizes_and_modes_are_normalised(text):
    assert tmpfs_mount('/scratch/', text) == {'destination': '/scratch', 'type': 'tmpfs', 'source': 'tmpfs',
                                              'options': ['nosuid', 'nodev', 'mode=1777', 'size=67108864']}


def test_tmpfs_defaults_flags_and_other_options():
    assert tmpfs_mount('/run', '')['options'] == ['nosuid', 'nodev']
    assert tmpfs_mount('/run', None)['options'] == ['nosuid', 'nodev']
    assert tmpfs_mount('/run', 'noexec,ro,size=50%,uid=01000,nr_inodes=1k')['options'] == [
        'nosuid', 'nodev', 'noexec', 'ro', 'nr_inodes=1024', 'size=50%', 'uid=1000']
    # The task's own word wins over a default, said once.
    assert tmpfs_mount('/run', 'suid,nodev')['options'] == ['nodev', 'suid']


@pytest.mark.parametrize('destination, text, message', [
    ('/run', 'size=lots', 'tmpfs: /run: size=lots is not a size'),
    ('/run', 'nr_inodes=5%', 'tmpfs: /run: nr_inodes=5% is not a size'),
    ('/run', 'mode=999', 'tmpfs: /run: mode=999 is not an octal file mode'),
    ('/run', 'uid=root', 'tmpfs: /run: uid=root is not a number'),
    ('/run', 'sise=1m', 'tmpfs: /run: unknown option sise'),
    ('/run', 'bogus', 'tmpfs: /run: unknown option bogus'),
    ('/run', 'size=1m,size=2m', 'tmpfs: /run: size is given twice'),
    ('/run', 'exec,noexec', 'tmpfs: /run: exec and noexec contradict each other'),
    ('/run', 'huge=maybe', 'tmpfs: /run: huge=maybe is not one of'),
    ('/run', ['size=1m'], 'tmpfs: /run: the options must be a string'),
    ('run', '', "tmpfs: destination 'run' is not an absolute path"),
])
def test_tmpfs_refuses_bad_input(destination, text, message):
    with pytest.raises(ConfigError) as raised:
        tmpfs_mount(destination, text)
    assert str(raised.value).startswith(message)


def test_tmpfs_replaces_a_base_mount_in_its_place_and_refuses_one_destination_twice():
    config = compose(bundle=None, tmpfs={'/dev/shm': 'size=1g', '/tmp': ''})
    assert [mount['destination'] for mount in config['mounts']] == ['/proc', '/dev', '/dev/shm', '/sys', '/tmp']
    assert config['mounts'][2]['options'] == ['nosuid', 'nodev', 'size=1073741824']
    with pytest.raises(ConfigError, match='^tmpfs: /tmp and /tmp/ are the same destination'):
        tmpfs_mounts({'/tmp': '', '/tmp/': ''})


# -- devices --------------------------------------------------------------------------------------

def test_device_requests_are_normalised_and_sorted():
    assert device_requests(['/dev/net/tun', {'path': '/dev/fuse', 'permissions': 'mr'},
                            {'path': '/dev/sda', 'container_path': '/dev/xvda'}]) == [
        {'path': '/dev/fuse', 'container_path': '/dev/fuse', 'permissions': 'rm'},
        {'path': '/dev/net/tun', 'container_path': '/dev/net/tun', 'permissions': 'rwm'},
        {'path': '/dev/sda', 'container_path': '/dev/xvda', 'permissions': 'rwm'}]


@pytest.mark.parametrize('item, message', [
    ('dev/fuse', "devices: path 'dev/fuse' is not an absolute path"),
    ({'path': '/dev/fuse', 'permissions': 'rx'}, "devices: /dev/fuse: permissions 'rx' must be made of r, w and m"),
    ({'path': '/dev/fuse', 'permissions': ''}, "devices: /dev/fuse: permissions '' must be"),
    ({'path': '/dev/fuse', 'mode': 'rw'}, 'devices: unknown key mode'),
    ({'container_path': '/dev/x'}, 'devices: {'),
    ({'path': '/dev/fuse', 'container_path': 'x'}, "devices: /dev/fuse: container_path 'x' is not an absolute"),
    (5, 'devices: 5 is neither a device path nor a dict'),
])
def test_devices_refuse_bad_input(item, message):
    with pytest.raises(ConfigError) as raised:
        device_request(item)
    assert str(raised.value).startswith(message)


def test_a_device_path_twice_is_refused():
    with pytest.raises(ConfigError, match='^devices: /dev/fuse is given twice'):
        device_requests(['/dev/fuse', {'path': '/dev/fuse/'}])


def test_device_entry_and_rule_come_from_the_host_device():
    request = device_request({'path': '/dev/sdb', 'container_path': '/dev/xvdb', 'permissions': 'rw'})
    device, rule = device_entry(request, stat.S_IFBLK | 0o660, os.makedev(8, 16), 0, 6)
    assert device == {'path': '/dev/xvdb', 'type': 'b', 'major': 8, 'minor': 16, 'fileMode': 0o660, 'uid': 0, 'gid': 6}
    assert rule == {'allow': True, 'type': 'b', 'major': 8, 'minor': 16, 'access': 'rw'}
    with pytest.raises(ConfigError, match='^devices: /dev/sdb is not a character or block device'):
        device_entry(request, stat.S_IFREG | 0o644, 0, 0, 0)


def test_devices_merge_by_path_and_rules_append_once():
    current = [{'path': '/dev/fuse', 'type': 'c', 'major': 1, 'minor': 1}, {'path': '/dev/fuse', 'type': 'c'}]
    new = {'path': '/dev/fuse', 'type': 'c', 'major': 10, 'minor': 229}
    assert merge_devices(current, [new]) == [new]
    deny = {'allow': False, 'access': 'rwm'}
    allow = {'allow': True, 'type': 'c', 'major': 10, 'minor': 229, 'access': 'rwm'}
    assert merge_device_rules([deny, allow, deny], [allow]) == [deny, deny, allow]


def test_devices_on_the_host_and_on_the_controller(monkeypatch):
    fake_device(monkeypatch, {'/dev/fuse': char_device(10, 229, 0o600)})
    config = compose(devices=['/dev/fuse'])
    assert config['linux']['devices'] == [
        {'path': '/dev/fuse', 'type': 'c', 'major': 10, 'minor': 229, 'fileMode': 0o600, 'uid': 0, 'gid': 0}]
    assert config['linux']['resources']['devices'] == [
        {'allow': False, 'access': 'rwm'}, {'allow': True, 'type': 'c', 'major': 10, 'minor': 229, 'access': 'rwm'}]
    # The same intent written otherwise composes the same config.
    assert compose(devices=[{'path': '/dev/fuse', 'permissions': 'mwr', 'container_path': '/dev/fuse'}]) == config
    with pytest.raises(ConfigError, match='^devices: /dev/none-such does not exist on the host'):
        compose(devices=['/dev/none-such'])
    # The controller only checks the shape; the host's stat is the module's to read.
    assert compose(bundle=None, devices=['/dev/none-such'])['linux']['devices'][0]['path'] == '/dev/none-such'


def test_a_regular_file_is_no_device(tmp_path):
    path = tmp_path / 'file'
    path.write_text('x')
    with pytest.raises(ConfigError, match='^devices: %s is not a character or block device' % path):
        compose(devices=[str(path)])
