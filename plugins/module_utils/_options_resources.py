# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rows of the option table for resources in plain units (memory: 512M, cpus: 1.5), and comparisons.

The resource rows come after the ``resources`` row in the table, so each wins
over the same field given there. They all write into ``linux.resources``,
where the comparison already looks field by field: a change that ``runc
update`` can apply is applied in place.
"""

from __future__ import annotations

import copy
import re

from ansible_collections.oci_runtime.runc.plugins.module_utils._config_merge import ConfigError, place
from ansible_collections.oci_runtime.runc.plugins.module_utils._option import CONTAINER, Option


RESOURCES = ('linux', 'resources')
# The CFS period cpus is counted in (microseconds), as docker --cpus does.
CPU_PERIOD = 100000

_SIZE = re.compile(r'^([0-9]+(?:\.[0-9]+)?) *([kmgt]?)(?:i?b)?$', re.IGNORECASE)
_UNITS = {'': 1, 'k': 1024, 'm': 1024 ** 2, 'g': 1024 ** 3, 't': 1024 ** 4}
_CPU_LIST = re.compile(r'^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$')
_MISSING = object()


# -- plain units -----------------------------------------------------------------------------

def parse_size(value, option, unlimited=False):
    """Bytes from a whole number or a size text (512M, 1.5g, 100k, 64MiB; binary units).

    ``unlimited`` accepts -1 (no limit). Zero and other negatives are refused:
    runc reads 0 as "not set", which would leave the old limit in place.
    """
    if isinstance(value, bool):
        raise ConfigError('%s: %r is not a size (bytes, or a number with k, m, g or t)' % (option, value))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        text = value.strip()
        if unlimited and text == '-1':
            return -1
        match = _SIZE.match(text)
        if not match:
            raise ConfigError('%s: %r is not a size (bytes, or a number with k, m, g or t)' % (option, value))
        # Whole and fraction apart, in integers: exact, and no float rounding (1.1G is not 1181116006.4).
        whole, fraction = (match.group(1).split('.') + [''])[:2]
        scale = 10 ** len(fraction)
        unit = _UNITS[match.group(2).lower()]
        if fraction and unit == 1:
            raise ConfigError('%s: %r is not a whole number of bytes' % (option, value))
        size = (int(whole) * scale + int(fraction or 0)) * unit // scale
    elif isinstance(value, int):
        size = value
    else:
        raise ConfigError('%s: %r is not a size (bytes, or a number with k, m, g or t)' % (option, value))
    if unlimited and size == -1:
        return -1
    if size <= 0:
        raise ConfigError('%s: %r is not a limit; give a positive size%s'
                          % (option, value, ', or -1 for no limit' if unlimited else ''))
    return size


def format_size(size):
    """Bytes in the largest binary unit that divides them (for messages)."""
    if size < 0:
        return str(size)
    for unit in ('t', 'g', 'm', 'k'):
        if size % _UNITS[unit] == 0:
            return '%d%s' % (size // _UNITS[unit], unit.upper())
    return str(size)


def cpu_quota(cpus):
    """The CFS quota (microseconds per CPU_PERIOD) for a number of CPUs."""
    if isinstance(cpus, bool) or not isinstance(cpus, (int, float)):
        raise ConfigError('cpus: %r is not a number of CPUs' % (cpus,))
    if cpus <= 0:
        raise ConfigError('cpus: %r is not a number of CPUs above 0' % (cpus,))
    quota = int(round(cpus * CPU_PERIOD))
    # The kernel refuses a quota under 1 ms.
    if quota < 1000:
        raise ConfigError('cpus: %r is too small; give at least 0.01 CPUs' % (cpus,))
    return quota


# CONFIG_NR_CPUS is at most 8192 on Linux.
MAX_CPUS = 8192


def canonical_cpu_list(text, option='cpuset_cpus'):
    """A CPU list (0-1, 0,1, 3,0-1) as the kernel writes it: sorted ranges, so equal sets compare equal."""
    compact = str(text).replace(' ', '')
    if not isinstance(text, (str, int)) or isinstance(text, bool) or not _CPU_LIST.match(compact):
        raise ConfigError('%s: %r is not a CPU list (such as 0-1 or 0,2)' % (option, text))
    cpus = set()
    for part in compact.split(','):
        bounds = part.split('-')
        first, last = int(bounds[0]), int(bounds[-1])
        if last < first:
            raise ConfigError('%s: %r: the range %s goes backwards' % (option, text, part))
        if last >= MAX_CPUS:
            # Checked before the range is expanded: 0-99999999999 would fill the memory.
            raise ConfigError('%s: %r names CPU %d; Linux numbers CPUs below %d' % (option, text, last, MAX_CPUS))
        cpus.update(range(first, last + 1))
    ranges = []
    for cpu in sorted(cpus):
        if ranges and ranges[-1][1] == cpu - 1:
            ranges[-1][1] = cpu
        else:
            ranges.append([cpu, cpu])
    return ','.join('%d' % first if first == last else '%d-%d' % (first, last) for first, last in ranges)


def whole_number(value, option, low=None, high=None, unlimited=False):
    """An int from an int or its text; within low..high (or -1 with unlimited)."""
    if isinstance(value, bool):
        raise ConfigError('%s: %r is not a whole number' % (option, value))
    try:
        number = int(value.strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise ConfigError('%s: %r is not a whole number' % (option, value))
    if isinstance(value, float) and not value.is_integer():
        raise ConfigError('%s: %r is not a whole number' % (option, value))
    if unlimited and number == -1:
        return number
    if (low is not None and number < low) or (high is not None and number > high):
        bounds = ('from %d to %d' % (low, high) if high is not None else 'at least %d' % low)
        raise ConfigError('%s: %s is out of range; give a number %s%s'
                          % (option, number, bounds, ', or -1 for no limit' if unlimited else ''))
    return number


# -- how they go into the config ------------------------------------------------------------

def merge_memory(current, value):
    return parse_size(value, 'memory')


def apply_memory_swap(config, value, context):
    """memory.swap counts memory plus swap (docker's --memory-swap); below the memory limit it means nothing."""
    swap = parse_size(value, 'memory_swap', unlimited=True)
    memory = place(config, RESOURCES + ('memory', 'swap'))
    limit = memory.get('limit')
    if swap != -1:
        if not isinstance(limit, int) or limit <= 0:
            raise ConfigError('memory_swap: needs a memory limit (memory), since it counts memory plus swap')
        if swap < limit:
            raise ConfigError('memory_swap: %s is below the memory limit %s; it counts memory plus swap'
                              % (format_size(swap), format_size(limit)))
    memory['swap'] = swap


def apply_cpus(config, value, context):
    cpu = place(config, RESOURCES + ('cpu', 'quota'))
    cpu['quota'] = cpu_quota(value)
    cpu['period'] = CPU_PERIOD


def merge_cpu_shares(current, value):
    # The kernel's bounds for cpu.shares; outside them it silently clamps, and re-runs would differ.
    return whole_number(value, 'cpu_shares', 2, 262144)


def merge_cpuset_cpus(current, value):
    return canonical_cpu_list(value)


def merge_pids_limit(current, value):
    # 0 reads as "not set" to runc: it would keep the old limit.
    return whole_number(value, 'pids_limit', 1, unlimited=True)


def merge_blkio_weight(current, value):
    return whole_number(value, 'blkio_weight', 10, 1000)


# -- comparisons -------------------------------------------------------------------------------

# Top-level keys of an OCI config; a path given to comparisons starts with one.
CONFIG_KEYS = frozenset(('ociVersion', 'process', 'root', 'hostname', 'domainname', 'mounts', 'hooks',
                         'annotations', 'linux', 'solaris', 'windows', 'vm', 'zos'))
_DOTTED_WORDS = re.compile(r'^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$')


class Ignored:
    """What comparisons leaves out: config paths (tuples) and create options (names)."""

    def __init__(self, paths=(), options=()):
        self.paths = tuple(paths)
        self.options = frozenset(options)

    def __bool__(self):
        return bool(self.paths or self.options)

    def __repr__(self):
        return 'Ignored(%r, %r)' % (self.paths, sorted(self.options))


# Places of the OCI config that hold lists: a path further into one names nothing a dict could drop.
LIST_PATHS = (('process', 'args'), ('process', 'env'), ('process', 'rlimits'), ('mounts',),
              ('linux', 'namespaces'), ('linux', 'devices'), ('linux', 'maskedPaths'),
              ('linux', 'readonlyPaths'), ('linux', 'uidMappings'), ('linux', 'gidMappings'),
              ('linux', 'resources', 'devices'))


def ignored_parts(comparisons, config_rows, create_options=()):
    """The Ignored of a comparisons dict: option names (by their row's path) or dotted OCI paths."""
    if not comparisons:
        return Ignored()
    if not isinstance(comparisons, dict):
        raise ConfigError('comparisons: must be a dict of option names or config paths to strict or ignore')
    paths_by_option = {}
    for row in config_rows:
        paths_by_option.setdefault(row.name, row.path)
    paths = []
    options = []
    for key in sorted(comparisons, key=str):
        how = comparisons[key]
        if how not in ('strict', 'ignore'):
            raise ConfigError('comparisons: %s: %r is neither strict nor ignore' % (key, how))
        if key == 'spec' or key == '':
            raise ConfigError('comparisons: %r is the whole config; name the parts to ignore' % key)
        if key in create_options:
            if how == 'ignore':
                options.append(key)
            continue
        if key in paths_by_option:
            path = paths_by_option[key]
        elif isinstance(key, str) and _DOTTED_WORDS.match(key) and key.split('.')[0] in CONFIG_KEYS:
            path = tuple(key.split('.'))
            into_list = next((list_path for list_path in LIST_PATHS if path[:len(list_path)] == list_path
                              and len(path) > len(list_path)), None)
            if into_list:
                raise ConfigError('comparisons: %r goes into %s, a list: only the whole list can be ignored'
                                  % (key, '.'.join(into_list)))
        else:
            raise ConfigError('comparisons: %r is neither an option of runc_container nor a path of the OCI '
                              'config (dotted, such as process.env or linux.resources.memory)' % (key,))
        if how == 'ignore' and path not in paths:
            paths.append(path)
    return Ignored(paths, options)


def without_paths(config, paths):
    """A copy of config without the values at paths (missing ones are no matter)."""
    stripped = copy.deepcopy(config)
    for path in paths:
        holder = stripped
        for key in path[:-1]:
            holder = holder.get(key) if isinstance(holder, dict) else None
        if isinstance(holder, dict):
            holder.pop(path[-1], None)
    return stripped


def with_kept_paths(desired, current, paths):
    """desired, with the values at paths taken from current (or absent, as there).

    What an existing container runs with when the task's differences there are
    ignored: config.json and the record keep saying the truth.
    """
    kept = copy.deepcopy(desired)
    for path in paths:
        source = current
        for key in path:
            source = source.get(key, _MISSING) if isinstance(source, dict) else _MISSING
        holder = kept
        for key in path[:-1]:
            if not isinstance(holder.get(key), dict):
                if source is _MISSING:
                    holder = None
                    break
                holder[key] = {}
            holder = holder[key]
        if holder is None:
            continue
        if source is _MISSING:
            holder.pop(path[-1], None)
        else:
            holder[path[-1]] = copy.deepcopy(source)
    return kept


def resources_without(resources, paths):
    """linux.resources without what the ignored paths cover."""
    stripped = without_paths({'linux': {'resources': resources}}, paths)
    return ((stripped.get('linux') or {}).get('resources')) or {}


RESOURCE_ROWS = [
    Option('memory', dict(type='raw'), (CONTAINER,), path=RESOURCES + ('memory', 'limit'), merge=merge_memory,
           in_place=True, rule='replace; bytes or 512M, 1.5G (binary units)'),
    Option('memory_swap', dict(type='raw'), (CONTAINER,), path=RESOURCES + ('memory', 'swap'),
           apply=apply_memory_swap, in_place=True, rule='replace; memory plus swap, like memory; -1 no limit'),
    Option('cpus', dict(type='float'), (CONTAINER,), path=RESOURCES + ('cpu', 'quota'), apply=apply_cpus,
           in_place=True, rule='replace; quota = cpus x period, period = 100000'),
    Option('cpu_shares', dict(type='int'), (CONTAINER,), path=RESOURCES + ('cpu', 'shares'),
           merge=merge_cpu_shares, in_place=True, rule='replace'),
    Option('cpuset_cpus', dict(type='str'), (CONTAINER,), path=RESOURCES + ('cpu', 'cpus'),
           merge=merge_cpuset_cpus, in_place=True, rule='replace; as sorted ranges'),
    Option('pids_limit', dict(type='int'), (CONTAINER,), path=RESOURCES + ('pids', 'limit'),
           merge=merge_pids_limit, in_place=True, rule='replace; -1 no limit'),
    Option('blkio_weight', dict(type='int'), (CONTAINER,), path=RESOURCES + ('blockIO', 'weight'),
           merge=merge_blkio_weight, in_place=True, rule='replace'),
    Option('comparisons', dict(type='dict'), (CONTAINER,),
           target='what the comparison with an existing container leaves out'),
]
