# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The desired OCI config of a container, from the config rows of the option table (_options).

The module (on the host, over the runtime's default spec) and its action
plugin (on the controller, over a minimal spec, for schema validation)
compose the config with the same code.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re

from ansible_collections.oci_runtime.runc.plugins.module_utils._config_merge import (
    ConfigError,
    deep_merge,
    place,
    rootfs_of,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils._network import ANNOTATION_NETWORK
from ansible_collections.oci_runtime.runc.plugins.module_utils._runc_root import read_json_object
from ansible_collections.oci_runtime.runc.plugins.module_utils._options import CONTAINER, rows

# Written into config.json by the collection; never compared as user data.
ANNOTATION_CONFIG_DIGEST = 'oci_runtime.runc.config-digest'
ANNOTATION_RESOURCES_DIGEST = 'oci_runtime.runc.resources-digest'
# Names (never values) of the environment variables that came from secret_env,
# comma separated, so that readers such as runc_info can mask their values.
ANNOTATION_SECRET_ENV = 'oci_runtime.runc.secret-env'
# The runc_containers project a container belongs to: its prune removes only its own.
ANNOTATION_PROJECT = 'oci_runtime.runc.project'
# The digests describe the config and are left out of what is compared; the
# secret names are part of the config. Users may set none of them.
OWN_ANNOTATIONS = (ANNOTATION_CONFIG_DIGEST, ANNOTATION_RESOURCES_DIGEST)
RESERVED_ANNOTATIONS = OWN_ANNOTATIONS + (ANNOTATION_SECRET_ENV, ANNOTATION_NETWORK, ANNOTATION_PROJECT)
# What a masked value reads as, wherever the collection reports a config.
MASKED_VALUE = '********'
SECRET_NAME = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')


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


def apply_rows(config, params, module, context):
    """Lay each config row of the module that the task sets over config, in table order.

    ``context`` tells the rows' apply functions where they are: ``bundle``
    (None on the controller, where nothing of the host can be read),
    ``rootfs`` (runc_exec's container), ``append_mounts``.
    """
    for row in rows(module, 'config'):
        value = params.get(row.name)
        if value is None:
            continue
        try:
            if row.apply:
                row.apply(config, value, context)
                continue
            holder = place(config, row.path)
            key = row.path[-1]
            holder[key] = row.merge(holder.get(key), value)
        except ConfigError:
            raise
        except (TypeError, AttributeError, KeyError, ValueError) as error:
            # A spec (or a base) of another shape than OCI's: say where, never quote values (secrets).
            raise ConfigError('%s: does not fit the config composed so far (%s at %s)'
                              % (row.name, type(error).__name__, '.'.join(row.path) or 'the top'))


def compose_config(base_spec, params, module=CONTAINER, append_mounts=False, bundle=None, resolved_users=None,
                   built=None):
    """The effective config: the base spec, then ``spec``, then each config option, in table order.

    ``process.terminal`` is false unless ``spec`` says otherwise: detached
    containers have no terminal unless a console socket receives it.
    ``append_mounts`` composes as versions before 0.2.0 did (see merge_mounts).
    ``bundle`` is None on the controller, where nothing of the host can be read.
    ``resolved_users`` (user names and the ids they stand for) is used, and filled.
    ``built`` keeps what rows made of their option for the next composition of the same task
    (the network option's plan, whose network config is read from the host once), and is filled.
    """
    config = deep_merge(base_spec, {'process': {'terminal': False}})
    secret_names = sorted(params.get('secret_env') or {})
    for name in secret_names:
        if not SECRET_NAME.match(str(name)):
            # The names are kept in an annotation, comma separated: only plain names fit.
            raise ConfigError('secret_env: %r is not a variable name (letters, digits and _, not first a digit)'
                              % (name,))
        if name in (params.get('env') or {}):
            raise ConfigError('secret_env: %s is in env too; name each variable once' % name)
    # runc_containers gives its items the project (runc_container's params have no such key).
    own_annotations = {ANNOTATION_PROJECT: params['project']} if params.get('project') else {}
    apply_rows(config, params, module, {'params': params, 'append_mounts': append_mounts, 'bundle': bundle,
                                        'resolved_users': {} if resolved_users is None else resolved_users,
                                        'own_annotations': own_annotations,
                                        'built': {} if built is None else built})
    annotations = config.get('annotations') or {}
    if not isinstance(annotations, dict):
        raise ConfigError('spec: annotations must be a dict of strings')
    for name in RESERVED_ANNOTATIONS:
        if name in annotations:
            raise ConfigError('annotations: %s is set by the collection itself' % name)
    if secret_names:
        # Names only: readers of the config (runc_info, diffs) mask their values.
        config.setdefault('annotations', {})[ANNOTATION_SECRET_ENV] = ','.join(secret_names)
    if own_annotations:
        config.setdefault('annotations', {}).update(own_annotations)
    return config


# A bundle's config.json is read as every JSON object file of the collection is.
read_config_file = read_json_object


def rootfs_path(bundle, config):
    """The rootfs folder on the host: root.path, relative to the bundle unless absolute."""
    return rootfs_of(bundle, config)


def canonical_json(value):
    return json.dumps(value, sort_keys=True, separators=(',', ':'))


def digest(value):
    return hashlib.sha256(canonical_json(value).encode('utf-8')).hexdigest()


def without_own_annotations(config):
    """config without the collection's annotations.

    A new top-level dict (and annotations dict) sharing the nested values: readers
    only, such as digests, diffs and records. A deep copy of every config of every
    item was most of a no-op's time in runc_containers.
    """
    config = dict(config)
    annotations = config.get('annotations')
    if isinstance(annotations, dict):
        annotations = {name: value for name, value in annotations.items() if name not in OWN_ANNOTATIONS}
        if annotations:
            config['annotations'] = annotations
        else:
            config.pop('annotations')
    return config


def resources_of(config):
    return copy.deepcopy((config.get('linux') or {}).get('resources') or {})


def without_resources(config):
    """The config minus linux.resources and the collection's annotations (sharing nested values)."""
    identity = without_own_annotations(config)
    if isinstance(identity.get('linux'), dict) and 'resources' in identity['linux']:
        identity['linux'] = {key: value for key, value in identity['linux'].items() if key != 'resources'}
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
    """The config as written to config.json: with the collection's digests (sharing nested values)."""
    written = dict(config)
    annotations = written['annotations'] = dict(written.get('annotations') or {})
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
