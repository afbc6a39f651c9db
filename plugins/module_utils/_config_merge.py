# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How an option's value merges into the config it is laid over: pure functions, no host access."""

from __future__ import annotations

import copy
import os
import re


def replace(current, value):
    """The option's value replaces what was there."""
    return copy.deepcopy(value)


def rootfs_of(bundle, config):
    """The rootfs folder on the host: root.path, relative to the bundle unless absolute."""
    path = (config.get('root') or {}).get('path') or 'rootfs'
    return os.path.normpath(os.path.join(bundle, path))


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


def merge_mounts(current, additions, append=False):
    """Add mounts; one with the destination of a base mount takes its place in the list.

    Order matters: a mount on /dev placed after /dev/pts would hide it.
    ``append`` moves it to the end instead, as versions before 0.2.0 did; only
    to recognise the containers they made.
    """
    merged = [copy.deepcopy(mount) for mount in current or []]
    for mount in additions:
        if not isinstance(mount, dict) or not mount.get('destination'):
            raise ConfigError('mounts: every mount needs a destination, got %r' % (mount,))
        places = [index for index, existing in enumerate(merged)
                  if isinstance(existing, dict) and existing.get('destination') == mount['destination']]
        if places and not append:
            merged[places[0]] = copy.deepcopy(mount)
            for index in reversed(places[1:]):
                del merged[index]
        else:
            for index in reversed(places):
                del merged[index]
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


def place(config, path):
    """The dict holding path[-1], created along the way."""
    holder = config
    for key in path[:-1]:
        if not isinstance(holder.get(key), dict):
            holder[key] = {}
        holder = holder[key]
    return holder


def format_path(path):
    text = ''
    for part in path:
        text += '[%d]' % part if isinstance(part, int) else ('.%s' % part if text else part)
    return text or '(top level)'
