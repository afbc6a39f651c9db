# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A container's network: none, the host's, a namespace to join, or a CNI network (docs/networking.md).

runc configures no network: it joins the network namespace config.json
names. For ``mode: cni`` the collection is the CNI runtime: it makes a named
namespace, runs the network's plugins with ADD as the CNI spec says (config
on stdin, CNI_* variables), and keeps the result in a state file so that a
later run can CHECK it and DEL it, after a reboot too.

The state file, written before the namespace is made, is also what says the
namespace is the collection's: a namespace of that name without one is never
removed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import math
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess

from ansible_collections.oci_runtime.runc.plugins.module_utils._config_merge import ConfigError
from ansible_collections.oci_runtime.runc.plugins.module_utils._runc_root import read_json_object, write_atomically
from ansible_collections.oci_runtime.runc.plugins.module_utils._task import TaskError

NETNS_DIR = '/run/netns'
# Persistent: after a reboot the namespace and the rules are gone, but host-local's address
# leases are not, and DEL needs the network's config to give them back.
STATE_DIR = '/var/lib/oci-runtime-runc/networks'
DEFAULT_CONFIG_DIR = '/etc/cni/net.d'
# Debian's, the CNI project's own, the RHEL family's.
DEFAULT_PLUGIN_DIRS = ('/usr/lib/cni', '/opt/cni/bin', '/usr/libexec/cni')
# config.json carries a digest of the network the container was made on: a change of the
# network's config, the ports or the interface name is then a change of the config, which re-creates.
ANNOTATION_NETWORK = 'oci_runtime.runc.network'
MODES = ('none', 'host', 'path', 'cni')
PROTOCOLS = ('tcp', 'udp', 'sctp')
# CNI's own rules for a network name and a container id; plugin types are file names.
_CNI_NAME = re.compile(r'^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$')
_PLUGIN_TYPE = re.compile(r'^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$')
_SUPPORTED_VERSIONS = ('0.3.0', '0.3.1', '0.4.0', '1.0.0')
_CHECK_VERSIONS = ('0.4.0', '1.0.0')
_CONFIG_SUFFIXES = ('.conflist', '.conf', '.json')
# A plugin call may take at most a day: beyond that a number is a mistake (and Python's own limit
# for a timeout is near).
MAX_TIMEOUT = 86400
# host_ip values that mean every address of the host, as the empty string does.
_EVERY_ADDRESS = ('', '0.0.0.0', '::')


class NetworkError(TaskError):
    """The host refused to set the network up or take it down; the message starts with network."""


# -- what the task asks ------------------------------------------------------------------------

def namespace_name(root, container_id):
    """The /run/netns name of a container's CNI namespace: one per runc root and id, never shared by two.

    The root's real path: the same root named through a link is the same root.
    """
    try:
        root = os.path.realpath(root)
    except ValueError:
        root = os.path.normpath(root)   # a NUL byte: runtime_option_problem refuses such a root anyway
    root_key = hashlib.sha256(root.encode('utf-8', 'surrogateescape')).hexdigest()[:8]
    if _CNI_NAME.match(container_id) and len(container_id) <= 200:
        return 'runc-%s-%s' % (root_key, container_id)
    return 'runc-%s-%s' % (root_key, hashlib.sha256(container_id.encode('utf-8')).hexdigest()[:24])


def state_path(name):
    return os.path.join(STATE_DIR, name + '.json')


def _port(item, index, key):
    value = item.get(key)
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ConfigError('network: ports[%d]: %s %r is not a port number from 1 to 65535' % (index, key, value))
    return value


def cni_ports(ports):
    """The task's ports as CNI portMappings, checked."""
    mappings = []
    for index, item in enumerate(ports or []):
        if not isinstance(item, dict):
            raise ConfigError('network: ports[%d]: expected a dict with host_port and container_port, got %r'
                              % (index, item))
        unknown = sorted(set(item) - {'host_port', 'container_port', 'protocol', 'host_ip'})
        if unknown:
            raise ConfigError('network: ports[%d]: unknown keys %s' % (index, ', '.join(unknown)))
        protocol = item.get('protocol') or 'tcp'
        if protocol not in PROTOCOLS:
            raise ConfigError('network: ports[%d]: protocol %r is not one of %s' % (index, protocol, ', '.join(PROTOCOLS)))
        host_ip = item.get('host_ip') or ''
        if host_ip:
            try:
                socket.inet_pton(socket.AF_INET6 if ':' in host_ip else socket.AF_INET, host_ip)
            except (OSError, TypeError, ValueError):
                raise ConfigError('network: ports[%d]: host_ip %r is not an IP address' % (index, host_ip))
        mappings.append({'hostPort': _port(item, index, 'host_port'),
                         'containerPort': _port(item, index, 'container_port'),
                         'protocol': protocol, 'hostIP': host_ip})
    for index, mapping in enumerate(mappings):
        for other_index, other in enumerate(mappings[:index]):
            if same_host_port(mapping, other):
                raise ConfigError('network: ports[%d]: host port %d/%s is published by ports[%d] too'
                                  % (index, mapping['hostPort'], mapping['protocol'], other_index))
    return mappings


def same_host_port(mapping, other):
    """Whether two portMappings take the same port of the host (an empty hostIP, 0.0.0.0 or :: is every address)."""
    return ((mapping.get('hostPort'), mapping.get('protocol')) == (other.get('hostPort'), other.get('protocol'))
            and (mapping.get('hostIP') in _EVERY_ADDRESS or other.get('hostIP') in _EVERY_ADDRESS
                 or mapping['hostIP'] == other['hostIP']))


def checked_conflist(conflist, source):
    """A network config list as the CNI spec defines it; a single plugin's config becomes a list of one."""
    if not isinstance(conflist, dict):
        raise ConfigError('network: %s is not a JSON object' % source)
    if 'plugins' not in conflist and 'type' in conflist:
        single = {key: value for key, value in conflist.items() if key not in ('cniVersion', 'name')}
        conflist = {'cniVersion': conflist.get('cniVersion'), 'name': conflist.get('name'), 'plugins': [single]}
    version = conflist.get('cniVersion')
    if version not in _SUPPORTED_VERSIONS:
        raise ConfigError('network: %s: cniVersion %r is not one the collection runs plugins with (%s)'
                          % (source, version, ', '.join(_SUPPORTED_VERSIONS)))
    name = conflist.get('name')
    if not isinstance(name, str) or not _CNI_NAME.match(name):
        raise ConfigError('network: %s: name %r is not a CNI network name (letters, digits, _ . -)' % (source, name))
    plugins = conflist.get('plugins')
    if not isinstance(plugins, list) or not plugins:
        raise ConfigError('network: %s: plugins must be a non-empty list' % source)
    for index, plugin in enumerate(plugins):
        if not isinstance(plugin, dict) or not isinstance(plugin.get('type'), str) \
                or not _PLUGIN_TYPE.match(plugin['type']):
            raise ConfigError('network: %s: plugins[%d] has no type naming a plugin file' % (source, index))
        ipam = plugin.get('ipam')
        if ipam is not None and (not isinstance(ipam, dict) or not isinstance(ipam.get('type'), str)
                                 or not _PLUGIN_TYPE.match(ipam['type'])):
            raise ConfigError('network: %s: plugins[%d].ipam has no type naming a plugin file' % (source, index))
        if not isinstance(plugin.get('capabilities', {}), dict):
            raise ConfigError('network: %s: plugins[%d].capabilities must be an object such as '
                              '{"portMappings": true}' % (source, index))
    if not isinstance(conflist.get('disableCheck', False), bool):
        raise ConfigError('network: %s: disableCheck must be true or false' % source)
    return conflist


def find_conflist(name, config_dir):
    """The network config of that name in config_dir (the first file holding it, in name order)."""
    try:
        files = sorted(entry for entry in os.listdir(config_dir) if entry.endswith(_CONFIG_SUFFIXES))
    except OSError as error:
        raise ConfigError('network: config_dir: cannot list %s: %s' % (config_dir, error.strerror or error))
    found = []
    for entry in files:
        path = os.path.join(config_dir, entry)
        try:
            loaded = read_json_object(path)
        except (OSError, ValueError):
            continue   # not a config (a FIFO, bad JSON): libcni skips such files too
        if loaded.get('name') == name:
            return checked_conflist(loaded, path)
        if isinstance(loaded.get('name'), str):
            found.append(loaded['name'])
    raise ConfigError('network: name: no network %r in %s (networks there: %s)'
                      % (name, config_dir, ', '.join(sorted(set(found))) or 'none'))


def find_plugin(plugin_type, plugin_dirs):
    for folder in plugin_dirs:
        path = os.path.join(folder, plugin_type)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


class Plan:
    """What a task asks of a container's network, checked; for cni, what the plugins are given."""

    def __init__(self, value, root, container_id, on_host):
        value = dict(value or {})
        self.mode = value.get('mode') or 'none'
        if self.mode not in MODES:
            raise ConfigError('network: mode %r is not one of %s' % (self.mode, ', '.join(MODES)))
        for key, modes in (('path', ('path',)), ('name', ('cni',)), ('config', ('cni',)), ('ports', ('cni',))):
            if value.get(key) and self.mode not in modes:
                raise ConfigError('network: %s is for mode %s, not %s' % (key, ' or '.join(modes), self.mode))
        self.path = value.get('path')
        if self.mode == 'path' and not (isinstance(self.path, str) and os.path.isabs(self.path)):
            raise ConfigError('network: path: mode path needs the absolute path of a network namespace '
                              '(such as /run/netns/NAME), got %r' % (self.path,))
        self.conflist = None
        self.ports = []
        self.interface = 'eth0' if value.get('interface') is None else value['interface']
        self.plugin_dirs = list(DEFAULT_PLUGIN_DIRS if value.get('plugin_dirs') is None else value['plugin_dirs'])
        self.timeout = 60.0 if value.get('timeout') is None else value['timeout']
        if not _seconds(self.timeout):
            raise ConfigError('network: timeout: %r is not a number of seconds above 0 and at most %d'
                              % (self.timeout, MAX_TIMEOUT))
        self.name = namespace_name(root, container_id)
        self.namespace = os.path.join(NETNS_DIR, self.name)
        self.owner = {'root': os.path.normpath(root), 'id': container_id}
        if self.mode != 'cni':
            return
        if (value.get('name') is None) == (value.get('config') is None):
            raise ConfigError('network: mode cni needs either name (a network in config_dir) or config (one given '
                              'inline), not %s' % ('neither' if value.get('name') is None else 'both'))
        if not isinstance(self.interface, str) or len(self.interface) > 15 or self.interface in ('.', '..') \
                or not re.match(r'^[A-Za-z0-9_.\-]+$', self.interface):
            raise ConfigError('network: interface %r is not an interface name (1 to 15 letters, digits, _ . -)'
                              % (self.interface,))
        config_dir = value.get('config_dir') or DEFAULT_CONFIG_DIR
        if not os.path.isabs(config_dir):
            raise ConfigError('network: config_dir: %r is relative; give an absolute path' % (config_dir,))
        if not self.plugin_dirs:
            raise ConfigError('network: plugin_dirs: give at least one folder of CNI plugins')
        for folder in self.plugin_dirs:
            if not isinstance(folder, str) or not os.path.isabs(folder) or ':' in folder:
                raise ConfigError('network: plugin_dirs: %r is not an absolute path without ":"' % (folder,))
        self.ports = cni_ports(value.get('ports'))
        if value.get('config') is not None:
            self.conflist = checked_conflist(value['config'], 'config')
        elif on_host:
            self.conflist = find_conflist(value['name'], config_dir)
        if self.conflist is not None and self.ports and not any(
                (plugin.get('capabilities') or {}).get('portMappings') for plugin in self.conflist['plugins']):
            raise ConfigError('network: ports: network %s has no plugin with the portMappings capability '
                              '(add portmap to its plugins)' % self.conflist['name'])
        if on_host:
            self.plugin_paths()

    def plugin_paths(self):
        """Path of each plugin of the network, in order; refused when one is missing from plugin_dirs."""
        paths = []
        for plugin in self.conflist['plugins']:
            for plugin_type in [plugin['type']] + ([plugin['ipam']['type']] if plugin.get('ipam') else []):
                path = find_plugin(plugin_type, self.plugin_dirs)
                if path is None:
                    raise ConfigError('network: plugin_dirs: no plugin %r in %s (network %s)'
                                      % (plugin_type, ', '.join(self.plugin_dirs), self.conflist['name']))
                if plugin_type == plugin['type']:
                    paths.append(path)
        return paths

    def intent(self):
        """What makes two cni networks of a container the same (its digest goes into config.json)."""
        return {'conflist': self.conflist, 'ports': self.ports, 'interface': self.interface}

    def digest(self):
        canonical = json.dumps(self.intent(), sort_keys=True, separators=(',', ':'))
        return 'sha256:' + hashlib.sha256(canonical.encode('utf-8')).hexdigest()

    def namespace_mode(self):
        """The network entry of linux.namespaces, as the namespaces option writes it."""
        return {'none': 'private', 'host': 'host', 'path': self.path, 'cni': self.namespace}[self.mode]


# -- the host's side -------------------------------------------------------------------------------

def _seconds(value):
    """Whether a value is a timeout the plugins can be given: a finite number of seconds, 0 < value <= a day."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            and 0 < value <= MAX_TIMEOUT)


def _sound_state(state, name):
    """Whether a state file holds what new_state and set_up write, of the right types."""
    ports = state.get('ports')
    plugin_dirs = state.get('plugin_dirs')
    if not _seconds(state.get('timeout')):
        return False
    try:
        checked_conflist(state.get('conflist'), 'state')
    except ConfigError:
        return False
    return (state.get('name') == name and state.get('namespace') == os.path.join(NETNS_DIR, name)
            and isinstance(state.get('cni_id'), str) and isinstance(state.get('interface'), str)
            and isinstance(state.get('owner'), dict)
            and isinstance(plugin_dirs, list) and all(isinstance(folder, str) for folder in plugin_dirs)
            and isinstance(ports, list) and all(
                isinstance(port, dict) and isinstance(port.get('hostPort'), int)
                and isinstance(port.get('containerPort'), int) and isinstance(port.get('protocol'), str)
                and isinstance(port.get('hostIP'), str) for port in ports)
            and (state.get('result') is None or isinstance(state['result'], dict))
            and isinstance(state.get('unchecked', {}), dict)
            and all(index.isdigit() for index in state.get('unchecked', {})))


def read_state(name):
    """The state file of a cni namespace, or None; a file that is not the collection's, whole, is None too."""
    try:
        state = read_json_object(state_path(name))
    except (OSError, ValueError):
        return None
    return state if _sound_state(state, name) else None


def damaged_state(name):
    """Whether a state file is there but not sound (cut short, edited): the collection's, but of no use to DEL."""
    return os.path.lexists(state_path(name)) and read_state(name) is None


def _namespace_identity(path):
    found = os.stat(path)
    return found.st_dev, found.st_ino


def namespace_problem(name, pid):
    """Why /run/netns/NAME must be left alone: not the collection's, or not the namespace the container runs in."""
    path = os.path.join(NETNS_DIR, name)
    if not os.path.lexists(path):
        return None
    if read_state(name) is None and not damaged_state(name):
        return ('network: %s exists without the collection\'s state file %s, which marks the namespaces it made; '
                'it is left alone (remove it with ip netns delete if it is one the collection made)'
                % (path, state_path(name)))
    if pid:
        try:
            if _namespace_identity(path) != _namespace_identity('/proc/%d/ns/net' % pid):
                return ('network: %s is not the namespace the container runs in (made again behind the '
                        'collection\'s back?); it is left alone' % path)
        except OSError:
            return None   # the process is gone: the container is stopped
    return None


def own_network_namespace():
    """Device and inode of the namespace the module runs in: another's state files publish no port here."""
    return list(_namespace_identity('/proc/self/ns/net'))


def port_problems(name, ports):
    """Why these host ports cannot be published here (another container has them, or a process)."""
    problems = []
    here = own_network_namespace()
    others = []
    try:
        entries = sorted(os.listdir(STATE_DIR))
    except OSError:
        entries = []
    for entry in entries:
        if not entry.endswith('.json') or entry == name + '.json':
            continue
        state = read_state(entry[:-len('.json')])
        if state and state.get('host_namespace') == here:
            others.append(state)
    for index, mapping in enumerate(ports):
        for state in others:
            if any(same_host_port(mapping, other) for other in state['ports']):
                owner = state['owner']
                problems.append('network: ports[%d]: host port %d/%s is published by container %s (root %s; a '
                                'state=absent task for it gives the port back)'
                                % (index, mapping['hostPort'], mapping['protocol'], owner.get('id'),
                                   owner.get('root')))
        if mapping['protocol'] == 'sctp':
            continue
        family = socket.AF_INET6 if ':' in mapping['hostIP'] else socket.AF_INET
        kind = socket.SOCK_STREAM if mapping['protocol'] == 'tcp' else socket.SOCK_DGRAM
        probe = socket.socket(family, kind)
        try:
            if kind == socket.SOCK_STREAM:
                # Past connections in TIME_WAIT do not take a port; a listener does, REUSEADDR or not.
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((mapping['hostIP'] or ('::' if family == socket.AF_INET6 else '0.0.0.0'), mapping['hostPort']))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                problems.append('network: ports[%d]: host port %d/%s is taken by a process of the host'
                                % (index, mapping['hostPort'], mapping['protocol']))
            elif error.errno == errno.EADDRNOTAVAIL:
                problems.append('network: ports[%d]: host_ip %s is not an address of this host'
                                % (index, mapping['hostIP']))
            else:
                problems.append('network: ports[%d]: cannot check host port %d: %s'
                                % (index, mapping['hostPort'], error.strerror or error))
        finally:
            probe.close()
    return problems


class PluginFailure(Exception):
    """A CNI plugin failed; the message names it and carries its own."""


class PortFailure(Exception):
    """A published port the network set up cannot serve; the message names the option."""


class Cni:
    """Runs a network's plugins in order (DEL in reverse), as the CNI spec's runtime does.

    ``record`` is called with the argv-like list of every plugin call that
    changes the host, for the task's actions.
    """

    def __init__(self, state, record):
        self.state = state
        self.record = record

    def _environment(self, command):
        environment = tool_environment()
        environment.update(CNI_COMMAND=command, CNI_CONTAINERID=self.state['cni_id'],
                           CNI_NETNS=self.state['namespace'], CNI_IFNAME=self.state['interface'],
                           CNI_PATH=':'.join(self.state['plugin_dirs']))
        return environment

    def _plugin_config(self, plugin, prev_result):
        conflist = self.state['conflist']
        config = dict(plugin, name=conflist['name'], cniVersion=conflist['cniVersion'])
        capabilities = plugin.get('capabilities') or {}
        runtime_config = {}
        if capabilities.get('portMappings') and self.state.get('ports'):
            runtime_config['portMappings'] = self.state['ports']
        if runtime_config:
            config['runtimeConfig'] = runtime_config
        if prev_result is not None:
            config['prevResult'] = prev_result
        return config

    def call(self, command, plugin, prev_result):
        path = find_plugin(plugin['type'], self.state['plugin_dirs'])
        if path is None:
            raise PluginFailure('plugin %s is not in %s' % (plugin['type'], ', '.join(self.state['plugin_dirs'])))
        if command != 'CHECK':
            self.record([path, command, self.state['namespace'], self.state['interface']])
        # A session of its own: on a timeout the plugin and whatever it started are killed together.
        # setpriv makes it die with the module too: a plugin left running by a killed task would add
        # its rules after the next run removed what the task had made.
        setpriv = shutil.which('setpriv', path=tool_environment()['PATH'])
        argv = [setpriv, '--pdeathsig', 'KILL', '--', path] if setpriv else [path]
        try:
            process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       env=self._environment(command), close_fds=True, start_new_session=True)
        except OSError as error:
            raise PluginFailure('plugin %s (%s) cannot run: %s' % (plugin['type'], command, error))
        try:
            stdout, stderr = process.communicate(json.dumps(self._plugin_config(plugin, prev_result)).encode(),
                                                 timeout=self.state['timeout'])
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise PluginFailure('plugin %s (%s) did not finish in %s seconds' % (plugin['type'], command,
                                                                                 self.state['timeout']))
        output = stdout.decode('utf-8', 'replace').strip()
        if process.returncode != 0:
            try:
                reported = json.loads(output)
                message = reported.get('msg') or output
                if reported.get('details'):
                    message += ' (%s)' % reported['details']
            except (ValueError, AttributeError, RecursionError):
                message = output or stderr.decode('utf-8', 'replace').strip() or 'no message'
            raise PluginFailure('plugin %s (%s) failed: %s' % (plugin['type'], command, message[:2000]))
        if command != 'ADD':
            return None
        try:
            result = json.loads(output)
        except (ValueError, RecursionError):
            raise PluginFailure('plugin %s (ADD) printed no JSON result: %r' % (plugin['type'], output[:200]))
        if not isinstance(result, dict):
            raise PluginFailure('plugin %s (ADD) printed no JSON object: %r' % (plugin['type'], output[:200]))
        return result

    def add(self):
        result = None
        for plugin in self.state['conflist']['plugins']:
            result = self.call('ADD', plugin, result)
        return result

    def check(self, skip=()):
        """CHECK with every plugin but those at the indexes in skip; the first failure is raised."""
        for index, plugin in enumerate(self.state['conflist']['plugins']):
            if index not in skip:
                self.call('CHECK', plugin, self.state.get('result'))

    def failing_checks(self):
        """{index: failure} of the plugins whose CHECK fails right after their ADD.

        Such a CHECK says nothing about the network: Debian 12's portmap, with the nft
        variant of iptables, fails its IPv6 CHECK for every container without an IPv6
        address. Later runs leave these plugins out of their CHECK.
        """
        failing = {}
        for index, plugin in enumerate(self.state['conflist']['plugins']):
            try:
                self.call('CHECK', plugin, self.state.get('result'))
            except PluginFailure as failure:
                failing[index] = str(failure)
        return failing

    def delete(self):
        """DEL with every plugin, last first; the first failure is raised once all were asked."""
        failures = []
        for plugin in reversed(self.state['conflist']['plugins']):
            try:
                self.call('DEL', plugin, self.state.get('result'))
            except PluginFailure as failure:
                failures.append(str(failure))
        if failures:
            raise PluginFailure('; '.join(failures))


def tool_environment():
    """The environment of the plugins and the tools: the module's PATH with sbin, where ip and iptables live."""
    environment = {key: value for key, value in os.environ.items() if key in ('PATH', 'LANG', 'LC_ALL')}
    path = environment.get('PATH') or '/usr/bin:/bin'
    for folder in ('/usr/sbin', '/sbin'):
        if folder not in path.split(':'):
            path += ':' + folder
    environment['PATH'] = path
    return environment


def _run_host_command(argv, record):
    record(argv)
    try:
        finished = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False, timeout=60,
                                  env=tool_environment())
    except (OSError, subprocess.TimeoutExpired) as error:
        raise NetworkError('network: %s failed: %s' % (' '.join(argv), error))
    if finished.returncode != 0:
        raise NetworkError('network: %s failed: %s'
                           % (' '.join(argv), finished.stderr.decode('utf-8', 'replace').strip()))


def new_id(name):
    """A CNI container id of each set-up: rules a plugin could not remove for an earlier one (bridge
    leaves its masquerade rules when the namespace was lost) never collide with the new ones."""
    return '%s-%s' % (name, secrets.token_hex(4))


def new_state(plan):
    return {'name': plan.name, 'cni_id': new_id(plan.name), 'namespace': plan.namespace,
            'owner': plan.owner, 'conflist': plan.conflist, 'ports': plan.ports, 'interface': plan.interface,
            'plugin_dirs': plan.plugin_dirs, 'timeout': plan.timeout, 'digest': plan.digest(),
            'host_namespace': own_network_namespace(), 'result': None, 'unchecked': {}}


@contextlib.contextmanager
def _ports_lock():
    """One task at a time between the port check and the state file that reserves the ports."""
    descriptor = os.open(os.path.join(STATE_DIR, '.lock'), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _reserve(state):
    """Write the state file, under the ports lock, once no other container holds the ports."""
    try:
        os.makedirs(STATE_DIR, mode=0o700, exist_ok=True)
        with _ports_lock():
            problems = port_problems(state['name'], state['ports'])
            if problems:
                raise NetworkError('; '.join(problems))
            write_atomically(state_path(state['name']), json.dumps(state, sort_keys=True))
    except OSError as error:
        raise NetworkError('network: cannot write the state file in %s: %s' % (STATE_DIR, error))


def set_up(state, record):
    """Make the namespace and ADD the network; on any failure everything made is taken back.

    The state file is written first: it marks the namespace as the collection's, and reserves
    the ports. Returns the state with the ADD result and the plugins whose CHECK cannot be trusted.
    """
    name = state['name']
    problem = namespace_problem(name, None)
    if problem:
        raise NetworkError(problem)
    state = dict(state, result=None, unchecked={})
    _reserve(state)
    try:
        if not os.path.lexists(state['namespace']):
            _run_host_command(['ip', 'netns', 'add', name], record)
            # runc brings lo up only in a namespace it makes itself, never in one it joins.
            _run_host_command(['ip', '-n', name, 'link', 'set', 'lo', 'up'], record)
        cni = Cni(state, record)
        state['result'] = cni.add()
        addresses = [ip.get('address') or '' for ip in state['result'].get('ips') or [] if isinstance(ip, dict)]
        for index, port in enumerate(state['ports']):
            family_there = any((':' in address) == (':' in port['hostIP']) for address in addresses)
            if port['hostIP'] not in _EVERY_ADDRESS and not family_there:
                raise PortFailure('network: ports[%d]: host_ip %s is an IPv%s address and the container got none '
                                  'of that kind from network %s' % (index, port['hostIP'],
                                                                    '6' if ':' in port['hostIP'] else '4',
                                                                    state['conflist']['name']))
        if checks(state):
            state['unchecked'] = {str(index): failure for index, failure in cni.failing_checks().items()}
        write_atomically(state_path(name), json.dumps(state, sort_keys=True))
    except BaseException as error:
        # A config a plugin refuses at ADD it refuses at DEL too: the state of a failed set-up is no
        # use to a later run, so it goes, with the namespace, whatever DEL says.
        try:
            refused = tear_down(state, record, force=True)
        except (NetworkError, OSError) as again:
            if isinstance(error, PluginFailure):
                raise NetworkError('network: %s; removing what it made failed too: %s' % (error, again))
            raise
        if isinstance(error, PortFailure):
            raise NetworkError('%s; nothing of the network was left' % error)
        if isinstance(error, PluginFailure):
            raise NetworkError('network: %s (network %s); %s' % (
                error, state['conflist']['name'],
                'its DEL failed too (%s); the namespace and the state file were removed' % '; '.join(refused)
                if refused else 'nothing of it was left'))
        if isinstance(error, OSError):
            raise NetworkError('network: cannot write the state file %s: %s' % (state_path(name), error))
        raise
    return state


def _saved_rules(save_command):
    """(table, rule argv) of every rule iptables-save (or ip6tables-save) prints; none without the command."""
    try:
        finished = subprocess.run([save_command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False,
                                  timeout=60, env=tool_environment())
    except (OSError, subprocess.TimeoutExpired):
        return []
    table = None
    rules = []
    for line in finished.stdout.decode('utf-8', 'replace').splitlines():
        if line.startswith('*'):
            table = line[1:].strip()
        elif line.startswith('-A ') and table:
            try:
                rules.append((table, shlex.split(line)))
            except ValueError:
                continue
    return rules


# iptables-save and the command that changes the same rules, for IPv4 and IPv6.
_RULE_TOOLS = (('iptables-save', 'iptables'), ('ip6tables-save', 'ip6tables'))


def _option_value(rule, options):
    """The values that follow any of these options in a saved rule's words."""
    return [rule[index + 1] for index, word in enumerate(rule[:-1]) if word in options]


def _delete_rules(selected, record):
    """Delete the rules selected(rule) is true of; {(tool, table, chain)} of the CNI- chains they jumped to."""
    jumped = set()
    for tools in _RULE_TOOLS:
        for table, rule in _saved_rules(tools[0]):
            if selected(rule):
                _run_host_command([tools[1], '-w', '-t', table, '-D'] + rule[1:], record)
                jumped.update((tools, table, chain) for chain in _option_value(rule, ('-j', '--jump', '-g', '--goto'))
                              if chain.startswith('CNI-'))
    return jumped


def remove_left_rules(name, record):
    """Remove the iptables rules that name a set-up of this container, and the chains only they jumped to.

    The plugins' DEL removes them, except when it cannot: the bridge plugin leaves its masquerade
    rules when the container's interface is gone, portmap its chain when its DEL fails. Their
    comments name the CNI container id, which is the collection's own (new_id): such rules were
    made for this container and nothing else. A chain one of them jumped to (portmap's CNI-DN-...,
    bridge's CNI-...) that no other rule jumps to is the container's too: flushed and removed.
    """
    marker = re.compile(r'id: "%s-[0-9a-f]{8}"' % re.escape(name))
    jumped = _delete_rules(lambda rule: any(marker.search(word) for word in rule), record)
    remaining = {tools: _saved_rules(tools[0]) for tools in {tools for tools, _table, _chain in jumped}}
    for tools, table, chain in sorted(jumped):
        if not any(chain in rule[2:] for rule_table, rule in remaining[tools] if rule_table == table):
            _run_host_command([tools[1], '-w', '-t', table, '-F', chain], record)
            _run_host_command([tools[1], '-w', '-t', table, '-X', chain], record)


def tear_down(state, record, force=False):
    """DEL the network, remove what the plugins left of it, the namespace and the state file.

    When DEL fails the namespace and the state stay for the next run to try again, unless force:
    then they go anyway. Returns what failed on the way (with force).
    """
    refused = []
    try:
        Cni(state, record).delete()
    except PluginFailure as failure:
        if not force:
            raise NetworkError('network: %s; the namespace %s and %s are kept for the next run to try again '
                               '(a state=absent task with force=true removes them anyway)'
                               % (failure, state['namespace'], state_path(state['name'])))
        refused.append(str(failure))
    try:
        remove_left_rules(state['name'], record)
    except NetworkError as error:
        # Whatever made the rule go meanwhile (a reload of the firewall) is no reason to keep the rest.
        refused.append(str(error))
    if os.path.lexists(state['namespace']):
        try:
            _run_host_command(['ip', 'netns', 'delete', state['name']], record)
        except NetworkError:
            if not force:
                raise
            refused.append('ip netns delete %s failed' % state['name'])
    try:
        os.unlink(state_path(state['name']))
    except FileNotFoundError:
        pass
    return refused


def _namespace_addresses(name):
    """The global addresses of the interfaces in a named namespace (none when it cannot be read)."""
    try:
        finished = subprocess.run(['ip', '-n', name, '-o', 'addr', 'show', 'scope', 'global'], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, check=False, timeout=60, env=tool_environment())
    except (OSError, subprocess.TimeoutExpired):
        return []
    addresses = []
    for line in finished.stdout.decode('utf-8', 'replace').splitlines():
        words = line.split()
        if len(words) > 3 and words[2] in ('inet', 'inet6'):
            addresses.append(words[3].split('/')[0])
    return addresses


def _remove_rules_of_addresses(addresses, record):
    """Remove the rules that match exactly one of these container addresses (the firewall plugin's)."""
    wanted = {'%s/%d' % (address, 128 if ':' in address else 32) for address in addresses}
    _delete_rules(lambda rule: bool(wanted.intersection(
        _option_value(rule, ('-s', '-d', '--source', '--destination')))), record)


def tear_down_damaged(name, record):
    """What can be removed of a network whose state file is damaged: its rules and namespace, and the file.

    Without the network's config DEL cannot run: the rules naming the container's set-ups go, and
    those naming the addresses its namespace holds (they are the container's alone), but an
    address lease of its IPAM plugin may stay.
    """
    remove_left_rules(name, record)
    if os.path.lexists(os.path.join(NETNS_DIR, name)):
        _remove_rules_of_addresses(_namespace_addresses(name), record)
        _run_host_command(['ip', 'netns', 'delete', name], record)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(state_path(name))


def attachable(state, pid):
    """Whether a lost namespace file can be bound again from the container's process (it still runs)."""
    if os.path.lexists(state['namespace']) or not pid:
        return False
    try:
        return _namespace_identity('/proc/%d/ns/net' % pid) != _namespace_identity('/proc/self/ns/net')
    except OSError:
        return False


def attach(state, pid, record):
    """Bind the namespace the container's process is in to its /run/netns name again."""
    _run_host_command(['ip', 'netns', 'attach', state['name'], str(pid)], record)


def checks(state):
    """Whether the network's plugins are asked to CHECK (CNI 0.4.0 and later, unless the list disables it)."""
    return state['conflist'].get('cniVersion') in _CHECK_VERSIONS and not state['conflist'].get('disableCheck')


def health_problem(state):
    """Why the network of a container that exists does not work as made, or None."""
    if not os.path.lexists(state['namespace']):
        return 'network: the namespace %s is gone' % state['namespace']
    if state.get('result') is None:
        return 'network: its set-up did not finish'
    if checks(state):
        try:
            Cni(state, lambda argv: None).check(skip={int(index) for index in state.get('unchecked') or {}})
        except PluginFailure as failure:
            return 'network: CHECK failed: %s' % failure
    return None


def summary(state):
    """What the modules return about a cni network: interfaces with their addresses, and the ports."""
    result = state.get('result') or {}
    interfaces = [dict(item) for item in result.get('interfaces') or [] if isinstance(item, dict)]
    for item in interfaces:
        item['addresses'] = []
    ips = []
    for ip in result.get('ips') or []:
        if not isinstance(ip, dict):
            continue
        ips.append(ip.get('address'))
        index = ip.get('interface')
        if isinstance(index, int) and 0 <= index < len(interfaces):
            interfaces[index]['addresses'].append(ip.get('address'))
    plugins = state['conflist']['plugins']
    return {'mode': 'cni', 'namespace': state['namespace'], 'network': state['conflist']['name'],
            'unchecked': [plugins[int(index)]['type'] for index in sorted(state.get('unchecked') or {}, key=int)
                          if int(index) < len(plugins)],
            'interfaces': [item for item in interfaces if item.get('sandbox')],
            'ips': ips, 'ports': [{'host_port': port.get('hostPort'), 'container_port': port.get('containerPort'),
                                   'protocol': port.get('protocol'), 'host_ip': port.get('hostIP')}
                                  for port in state.get('ports') or []]}


def network_of(config, root, container_id):
    """A container's network as the modules report it, from its config.json and the cni state."""
    namespaces = ((config or {}).get('linux') or {}).get('namespaces') or []
    entry = next((item for item in namespaces if isinstance(item, dict) and item.get('type') == 'network'), None)
    if entry is None:
        return {'mode': 'host', 'namespace': None}
    if not entry.get('path'):
        return {'mode': 'none', 'namespace': None}
    name = namespace_name(root, container_id)
    state = read_state(name)
    if entry['path'] == os.path.join(NETNS_DIR, name) and state is not None:
        return summary(state)
    return {'mode': 'path', 'namespace': entry['path']}
