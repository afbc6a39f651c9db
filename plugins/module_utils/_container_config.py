# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The desired OCI config of a container, from runc_container's options.

One table, CONFIG_OPTIONS, says for each convenience option where it goes in
the OCI config. The module (on the host, over the runtime's default spec) and
its action plugin (on the controller, over a minimal spec, for schema
validation) compose the config with the same code.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re

# Written into config.json by the collection; never compared as user data.
ANNOTATION_CONFIG_DIGEST = 'oci_runtime.runc.config-digest'
ANNOTATION_RESOURCES_DIGEST = 'oci_runtime.runc.resources-digest'
# Names (never values) of the environment variables that came from secret_env,
# comma separated, so that readers such as runc_info can mask their values.
ANNOTATION_SECRET_ENV = 'oci_runtime.runc.secret-env'
# The digests describe the config and are left out of what is compared; the
# secret names are part of the config. Users may set none of them.
OWN_ANNOTATIONS = (ANNOTATION_CONFIG_DIGEST, ANNOTATION_RESOURCES_DIGEST)
RESERVED_ANNOTATIONS = OWN_ANNOTATIONS + (ANNOTATION_SECRET_ENV,)
# What a masked value reads as, wherever the collection reports a config.
MASKED_VALUE = '********'


def secret_env_names(config):
    """The names the collection recorded as secret in a config's annotations.

    None when the annotations cannot be read: then no value can be shown safely.
    """
    annotations = config.get('annotations') if isinstance(config, dict) else None
    if annotations is None:
        return []
    if not isinstance(annotations, dict):
        return None
    text = annotations.get(ANNOTATION_SECRET_ENV)
    if text is None:
        return []
    if not isinstance(text, str):
        return None
    return [name for name in text.split(',') if name]


def mask_env(config, names=None):
    """A copy of config whose env values of names (every one when names is None) read MASKED_VALUE."""
    masked = copy.deepcopy(config)
    process = masked.get('process') if isinstance(masked, dict) else None
    if not isinstance(process, dict) or not isinstance(process.get('env'), list):
        return masked
    entries = []
    for entry in process['env']:
        key = entry.split('=', 1)[0] if isinstance(entry, str) else None
        if key is not None and '=' in entry and (names is None or key in names):
            entry = '%s=%s' % (key, MASKED_VALUE)
        entries.append(entry)
    process['env'] = entries
    return masked


def hide_secrets(value, secrets):
    """value (str, list, dict, nested) with every occurrence of every secret replaced by a mask.

    Ansible masks no_log values itself in module results; this does not rely on it.
    """
    if isinstance(value, str):
        # Longest first, so that a secret holding another is masked whole.
        for secret in sorted((secret for secret in secrets if secret), key=len, reverse=True):
            value = value.replace(secret, MASKED_VALUE)
        return value
    if isinstance(value, (list, tuple)):
        return [hide_secrets(item, secrets) for item in value]
    if isinstance(value, dict):
        return {key: hide_secrets(item, secrets) for key, item in value.items()}
    return value


# Fields of linux.resources that `runc update` applies to a live container.
# A change anywhere else in the config needs a new container.
UPDATABLE_RESOURCES = {
    'memory': ('limit', 'reservation', 'swap'),
    'cpu': ('shares', 'quota', 'period', 'realtimeRuntime', 'realtimePeriod', 'cpus', 'mems'),
    'blockIO': ('weight',),
    'pids': ('limit',),
}

# A valid config for the controller-side schema check, standing in for the
# runtime's default spec, which only the managed host can produce.
MINIMAL_SPEC = {
    'ociVersion': '1.0.2',
    'process': {'terminal': False, 'user': {'uid': 0, 'gid': 0}, 'args': ['sh'],
                'env': ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], 'cwd': '/'},
    'root': {'path': 'rootfs', 'readonly': True},
    'hostname': 'runc',
    'linux': {'namespaces': [{'type': 'pid'}, {'type': 'mount'}]},
}


class ConfigOption:
    """A module option that sets one place of the OCI config."""

    def __init__(self, name, argspec, path, how='set'):
        self.name = name
        self.argspec = argspec
        self.path = path
        # set | merge (deep-merge dicts) | env (merge KEY=VALUE lists) | mounts (by destination)
        self.how = how


CONFIG_OPTIONS = (
    ConfigOption('args', dict(type='list', elements='str'), ('process', 'args')),
    ConfigOption('env', dict(type='dict'), ('process', 'env'), how='env'),
    ConfigOption('secret_env', dict(type='dict', no_log=True), ('process', 'env'), how='env'),
    ConfigOption('cwd', dict(type='str'), ('process', 'cwd')),
    ConfigOption('hostname', dict(type='str'), ('hostname',)),
    ConfigOption('rootfs', dict(type='str'), ('root', 'path')),
    ConfigOption('readonly_rootfs', dict(type='bool'), ('root', 'readonly')),
    ConfigOption('annotations', dict(type='dict'), ('annotations',), how='merge'),
    ConfigOption('mounts', dict(type='list', elements='dict'), ('mounts',), how='mounts'),
    ConfigOption('cgroups_path', dict(type='str'), ('linux', 'cgroupsPath')),
    ConfigOption('resources', dict(type='dict'), ('linux', 'resources'), how='merge'),
)


class ConfigError(ValueError):
    """The options do not make a usable config; the message names the option."""


def deep_merge(base, override):
    """Merge override into a copy of base: dicts recursively, anything else replaced.

    A None value in override removes the key, so users can drop a part of the
    default spec (for example ``linux: {seccomp: null}``).
    """
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def merge_env(current, additions, option='env'):
    """Override or add KEY=VALUE entries, keeping the order of those already there."""
    entries = []
    position = {}
    for entry in current or []:
        key = entry.split('=', 1)[0]
        position[key] = len(entries)
        entries.append(entry)
    for key in sorted(additions):
        value = additions[key]
        if not isinstance(key, str) or '=' in key or '\0' in key or not key:
            raise ConfigError('%s: invalid variable name %r' % (option, key))
        entry = '%s=%s' % (key, _env_value(key, value, option))
        if key in position:
            entries[position[key]] = entry
        else:
            entries.append(entry)
    return entries


def merge_mounts(current, additions):
    """Add mounts; one with the destination of a base mount takes its place in the list.

    Order matters: a mount on /dev placed after /dev/pts would hide it.
    """
    merged = [copy.deepcopy(mount) for mount in current or []]
    for mount in additions:
        if not isinstance(mount, dict) or not mount.get('destination'):
            raise ConfigError('mounts: every mount needs a destination, got %r' % (mount,))
        places = [index for index, existing in enumerate(merged)
                  if isinstance(existing, dict) and existing.get('destination') == mount['destination']]
        if places:
            merged[places[0]] = copy.deepcopy(mount)
            for index in reversed(places[1:]):
                del merged[index]
        else:
            merged.append(copy.deepcopy(mount))
    return merged


# Fields of linux.resources whose values are strings in the OCI spec; every
# other leaf there is a number.
_STRING_RESOURCE_FIELDS = frozenset(('cpus', 'mems', 'pageSize', 'type', 'access', 'name'))
_INTEGER_TEXT = re.compile(r'^-?[0-9]+$')


def coerce_resource_numbers(resources, option='resources'):
    """A copy of linux.resources with numbers given as text ("{{ n }}" renders as text before
    ansible-core 2.19) turned into numbers; anything else that is not a number is refused."""
    def walk(value, path):
        if isinstance(value, dict):
            return {key: (copy.deepcopy(item) if key == 'unified' and not path else walk(item, path + (key,)))
                    for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item, path + (index,)) for index, item in enumerate(value)]
        field = next((part for part in reversed(path) if isinstance(part, str)), '')
        if isinstance(value, str) and field not in _STRING_RESOURCE_FIELDS:
            if not _INTEGER_TEXT.match(value.strip()):
                raise ConfigError('%s: %s: %r is not a whole number' % (option, format_path(path), value))
            return int(value.strip())
        return value
    if not isinstance(resources, dict):
        return resources
    return walk(resources, ())


def _env_value(key, value, option='env'):
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        # YAML turns yes/no/null into other types; a silent "True" helps nobody.
        # The value itself is left out: it may be a secret.
        kind = ('null' if value is None else 'a boolean' if isinstance(value, bool)
                else 'a list' if isinstance(value, list) else 'a dict')
        raise ConfigError('%s: the value of %s must be a string or a number, not %s (quote it)'
                          % (option, key, kind))
    if '\0' in str(value):
        raise ConfigError('%s: the value of %s holds a NUL byte' % (option, key))
    return str(value)


def _place(config, path):
    """The dict holding path[-1], created along the way."""
    holder = config
    for key in path[:-1]:
        if not isinstance(holder.get(key), dict):
            holder[key] = {}
        holder = holder[key]
    return holder


def compose_config(base_spec, params):
    """The effective config: base spec, then ``spec``, then the convenience options.

    ``process.terminal`` is false unless ``spec`` says otherwise: detached
    containers have no terminal unless a console socket receives it.
    """
    config = deep_merge(base_spec, {'process': {'terminal': False}})
    if params.get('spec'):
        spec = params['spec']
        if isinstance((spec.get('linux') or {}).get('resources'), dict):
            spec = deep_merge(spec, {'linux': {'resources': None}})
            spec['linux']['resources'] = coerce_resource_numbers(params['spec']['linux']['resources'], 'spec')
        config = deep_merge(config, spec)
    secret_names = sorted(params.get('secret_env') or {})
    for name in secret_names:
        if name in (params.get('env') or {}):
            raise ConfigError('secret_env: %s is in env too; name each variable once' % name)
    for option in CONFIG_OPTIONS:
        value = params.get(option.name)
        if value is None:
            continue
        holder = _place(config, option.path)
        key = option.path[-1]
        if option.name == 'resources':
            value = coerce_resource_numbers(value)
        if option.how == 'env':
            holder[key] = merge_env(holder.get(key), value, option.name)
        elif option.how == 'mounts':
            holder[key] = merge_mounts(holder.get(key), value)
        elif option.how == 'merge':
            holder[key] = deep_merge(holder.get(key) or {}, value)
        else:
            holder[key] = copy.deepcopy(value)
    annotations = config.get('annotations') or {}
    for name in RESERVED_ANNOTATIONS:
        if name in annotations:
            raise ConfigError('annotations: %s is set by the collection itself' % name)
    if secret_names:
        # Names only: readers of the config (runc_info, diffs) mask their values.
        config.setdefault('annotations', {})[ANNOTATION_SECRET_ENV] = ','.join(secret_names)
    return config


def option_for_path(path, params):
    """Name the option a JSON path of the config came from, for error messages."""
    path = tuple(path)
    for option in CONFIG_OPTIONS:
        if params.get(option.name) is not None and path[:len(option.path)] == option.path:
            return option.name
    return 'spec'


def format_path(path):
    text = ''
    for part in path:
        text += '[%d]' % part if isinstance(part, int) else ('.%s' % part if text else part)
    return text or '(top level)'


def rootfs_path(bundle, config):
    """The rootfs folder on the host: root.path, relative to the bundle unless absolute."""
    path = (config.get('root') or {}).get('path') or 'rootfs'
    return os.path.normpath(os.path.join(bundle, path))


def canonical_json(value):
    return json.dumps(value, sort_keys=True, separators=(',', ':'))


def digest(value):
    return hashlib.sha256(canonical_json(value).encode('utf-8')).hexdigest()


def without_own_annotations(config):
    config = copy.deepcopy(config)
    annotations = config.get('annotations')
    if isinstance(annotations, dict):
        for name in OWN_ANNOTATIONS:
            annotations.pop(name, None)
        if not annotations:
            config.pop('annotations')
    return config


def resources_of(config):
    return copy.deepcopy((config.get('linux') or {}).get('resources') or {})


def without_resources(config):
    """The config minus linux.resources and the collection's annotations."""
    identity = without_own_annotations(config)
    (identity.get('linux') or {}).pop('resources', None)
    return identity


def config_digest(config, create_options):
    """Digest of everything that needs a new container to change.

    linux.resources is left out: runc update changes most of it in place; the
    rest is compared field by field (see resource_changes).
    """
    return digest({'config': without_resources(config), 'create': create_options})


def resources_digest(config):
    return digest(resources_of(config))


def annotated(config, create_options):
    """The config as written to config.json: with the collection's digests."""
    written = copy.deepcopy(config)
    annotations = written.setdefault('annotations', {})
    annotations[ANNOTATION_CONFIG_DIGEST] = config_digest(config, create_options)
    annotations[ANNOTATION_RESOURCES_DIGEST] = resources_digest(config)
    return written


def resource_changes(current, desired):
    """Compare two linux.resources dicts.

    Returns (updatable, other): ``updatable`` is the dict to send to
    ``runc update`` (every updatable field whose desired value differs);
    ``other`` lists paths of differences runc update cannot apply, among them
    updatable fields that were removed (runc has no "unset").
    """
    updatable = {}
    other = []
    for section in sorted(set(current) | set(desired)):
        before = current.get(section)
        after = desired.get(section)
        if before == after:
            continue
        fields = UPDATABLE_RESOURCES.get(section)
        if not fields or not isinstance(after, dict) or not isinstance(before or {}, dict):
            other.append(section)
            continue
        before = before or {}
        for key in sorted(set(before) | set(after)):
            if before.get(key) == after.get(key):
                continue
            if key in fields and key in after:
                updatable.setdefault(section, {})[key] = after[key]
            else:
                other.append('%s.%s' % (section, key))
    return updatable, other
