# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's options, declared once.

Each row of OPTIONS is one option of one or more modules: its name and
argument spec, and, where it has one, its target (a place of the OCI config,
or a flag of the runtime's subcommands), how it merges with the base config,
whether ``runc update`` changes it in place, and whether a change needs a new
container. The modules' argument specs, the container config composition,
the create/exec/checkpoint/restore flags, the comparison and docs/options.md
are all derived from these rows. DOCUMENTATION stays hand-written; a unit test
checks that it documents exactly the rows of each module.
"""

from __future__ import annotations

import functools

from collections.abc import Mapping

from ansible_collections.oci_runtime.runc.plugins.module_utils._config_merge import (
    coerce_resource_numbers,
    deep_merge,
    merge_env,
    merge_mounts,
    replace,
)

from ansible_collections.oci_runtime.runc.plugins.module_utils._image_identity import DEFAULT_STORE
from ansible_collections.oci_runtime.runc.plugins.module_utils._options_linux import LINUX_ROWS
from ansible_collections.oci_runtime.runc.plugins.module_utils._options_process import PROCESS_ROWS
from ansible_collections.oci_runtime.runc.plugins.module_utils._options_resources import RESOURCE_ROWS
from ansible_collections.oci_runtime.runc.plugins.module_utils._option import (  # noqa: F401 (re-exported)  pylint: disable=unused-import
    ALL,
    BUNDLE,
    CHECKPOINT,
    CONTAINER,
    CONTAINERS,
    EXEC,
    IMAGE,
    INFO,
    MODULES,
    RUN,
    WAIT,
    Option,
)


def rows(module, kind=None):
    """The rows of one module, in table order; kind 'config' or 'flag' narrows them."""
    chosen = [row for row in OPTIONS if module in row.modules]
    if kind == 'config':
        return [row for row in chosen if row.is_config]
    if kind == 'flag':
        return [row for row in chosen if row.flag]
    return chosen


def argument_spec(module):
    """The argument spec of a module, from its rows."""
    return {row.name: dict(row.spec) for row in rows(module)}


def flag_values(module, command, params):
    """Keyword arguments for the client's options class of a subcommand, from the task's values."""
    values = {}
    for row in rows(module, 'flag'):
        if command in row.commands:
            value = params[row.name]
            values[row.flag] = list(value or []) if row.spec.get('type') == 'list' else value
    return values


def recreating_options(module):
    """Names of the options, besides the config, whose change needs a new container."""
    return tuple(row.name for row in rows(module) if row.recreates)


def writes_config(params, module=CONTAINER):
    """True when the task gives spec or a config option: then the module owns config.json."""
    return any(params.get(row.name) is not None for row in rows(module, 'config'))


def not_a_dict_problem(params, module=CONTAINER):
    """The option with suboptions given something else than a dict (network: 5), named; else None.

    ansible-core's own argument check fails on such a value with a TypeError that names nothing.
    """
    for row in rows(module):
        value = params.get(row.name)
        if row.spec.get('options') and row.spec.get('type') == 'dict' and value is not None \
                and not isinstance(value, Mapping):
            return '%s: expected a dict of its options, got %r' % (row.name, value)
    return None


def option_for_path(path, params, module=CONTAINER):
    """The option a JSON path of the config came from, for error messages (the last one that set it)."""
    path = tuple(path)
    found = 'spec'
    for row in rows(module, 'config'):
        if row.name != 'spec' and params.get(row.name) is not None and path[:len(row.path)] == row.path:
            found = row.name
    return found


# -- how values go into the config ----------------------------------------------------------

def merge_dict(current, value):
    return deep_merge(current if isinstance(current, dict) else {}, value)


def merge_resources(current, value, option='resources'):
    return merge_dict(current, coerce_resource_numbers(value, option))


def apply_spec(config, spec, context):
    """spec is deep-merged over the whole config; numbers in its resources may be text."""
    resources = (spec.get('linux') or {}).get('resources') if isinstance(spec.get('linux'), dict) else None
    if isinstance(resources, dict):
        spec = deep_merge(spec, {'linux': {'resources': None}})
        spec['linux']['resources'] = coerce_resource_numbers(resources, 'spec')
    merged = deep_merge(config, spec)
    config.clear()
    config.update(merged)


def apply_mounts(config, mounts, context):
    """Mounts merge by destination; containers of earlier versions had replaced mounts moved to the end."""
    config['mounts'] = merge_mounts(config.get('mounts'), mounts, append=context.get('append_mounts', False))


# -- the table ----------------------------------------------------------------------------------
# Order matters for config rows: each is laid over what the rows before it made.

OPTIONS = [
    # The runtime options every module takes (doc fragment oci_runtime.runc.runtime).
    Option('runtime_path', dict(type='str', default='runc'), ALL, target='the runtime binary'),
    Option('root', dict(type='path'), ALL, target='global `--root`'),
    Option('debug', dict(type='bool', default=False), ALL, target='global `--debug`'),
    Option('log', dict(type='path'), ALL, target='global `--log`'),
    Option('log_format', dict(type='str', choices=['text', 'json']), ALL, target='global `--log-format`'),
    Option('systemd_cgroup', dict(type='bool', default=False), ALL, target='global `--systemd-cgroup`'),
    Option('rootless', dict(type='str', choices=['auto', 'true', 'false'], default='auto'), ALL, target='global `--rootless`'),
    Option('runtime_timeout', dict(type='float', default=600.0), ALL, target='a time limit on each runtime call'),

    # Which container, and what to do with it.
    Option('name', dict(type='str', required=True, aliases=['id']), (CONTAINER, EXEC, CHECKPOINT)),
    Option('name', dict(type='list', elements='str', aliases=['id']), (INFO,)),
    Option('name', dict(type='str', aliases=['id']), (RUN,), target='the job\'s container id (run-<random> when unset)'),
    Option('name', dict(type='str', required=True, aliases=['id']), (WAIT,)),
    Option('state', dict(type='str', default='running',
                         choices=['present', 'running', 'paused', 'stopped', 'absent']), (CONTAINER,)),
    Option('state', dict(type='str', default='checkpointed', choices=['checkpointed', 'restored']),
           (CHECKPOINT,)),
    Option('bundle', dict(type='path'), (CONTAINER, CHECKPOINT)),
    Option('bundle', dict(type='path', required=True), (RUN,)),
    Option('recreate', dict(type='str', default='auto', choices=['auto', 'never', 'always']), (CONTAINER,)),
    Option('runtime_change', dict(type='str', default='keep', choices=['keep', 'recreate']), (CONTAINER,)),
    Option('kill_signal', dict(type='raw'), (CONTAINER, RUN)),
    Option('stop_timeout', dict(type='float', default=10.0), (CONTAINER, RUN)),
    Option('kill_all', dict(type='bool', default=False), (CONTAINER,)),
    # Supervision by systemd (docs/supervision.md): a unit per container when restart is not no.
    # Unset, each keeps what the container's unit has (or, for a new unit, _supervision.DEFAULT_POLICY).
    Option('restart', dict(type='str', choices=['no', 'on-failure', 'always']), (CONTAINER,),
           target='a systemd unit, `Restart=`'),
    Option('restart_sec', dict(type='float'), (CONTAINER,), target='the unit\'s `RestartSec=`'),
    Option('start_limit_burst', dict(type='int'), (CONTAINER,), target='the unit\'s `StartLimitBurst=`'),
    Option('start_limit_interval', dict(type='float'), (CONTAINER,),
           target='the unit\'s `StartLimitIntervalSec=`'),
    Option('force', dict(type='bool', default=False), (CONTAINER, CHECKPOINT)),
    Option('lock_timeout', dict(type='float', default=120.0), (CONTAINER, CHECKPOINT)),
    Option('schema_path', dict(type='path'), (CONTAINER, RUN)),
    Option('validate_spec', dict(type='bool', default=True), (CONTAINER, RUN)),

    # The container config: the base spec, then spec, then each option.
    Option('spec', dict(type='dict'), (CONTAINER,), path=(), apply=apply_spec, rule='deep merge'),
    Option('args', dict(type='list', elements='str'), (CONTAINER,), path=('process', 'args'), merge=replace,
           rule='replace'),
    Option('env', dict(type='dict'), (CONTAINER, EXEC), path=('process', 'env'), merge=merge_env,
           rule='merge by name'),
    Option('secret_env', dict(type='dict', no_log=True), (CONTAINER, EXEC), path=('process', 'env'),
           merge=functools.partial(merge_env, option='secret_env'), rule='merge by name'),
    Option('cwd', dict(type='str'), (CONTAINER, EXEC), path=('process', 'cwd'), merge=replace, rule='replace'),
    Option('hostname', dict(type='str'), (CONTAINER,), path=('hostname',), merge=replace, rule='replace'),
    Option('rootfs', dict(type='str'), (CONTAINER,), path=('root', 'path'), merge=replace, rule='replace'),
    Option('readonly_rootfs', dict(type='bool'), (CONTAINER,), path=('root', 'readonly'), merge=replace,
           rule='replace'),
    Option('annotations', dict(type='dict'), (CONTAINER,), path=('annotations',), merge=merge_dict,
           rule='merge by key'),
    Option('mounts', dict(type='list', elements='dict'), (CONTAINER,), path=('mounts',), apply=apply_mounts,
           rule='merge by destination, in the base\'s place'),
    Option('cgroups_path', dict(type='str'), (CONTAINER,), path=('linux', 'cgroupsPath'), merge=replace,
           rule='replace'),
    Option('resources', dict(type='dict'), (CONTAINER,), path=('linux', 'resources'), merge=merge_resources,
           in_place=True, rule='deep merge'),

]

# Rows of their own modules, by theme; their config rows are laid over the ones above.
OPTIONS += PROCESS_ROWS + LINUX_ROWS + RESOURCE_ROWS

OPTIONS += [
    # How the runtime makes the container: flags of runc create and restore.
    Option('pid_file', dict(type='path'), (CONTAINER, CHECKPOINT), flag='pid_file', commands=('create', 'restore')),
    Option('no_pivot', dict(type='bool', default=False), (CONTAINER, CHECKPOINT, RUN), flag='no_pivot',
           commands=('create', 'restore', 'run'), recreates=True),
    Option('no_new_keyring', dict(type='bool', default=False), (CONTAINER, RUN), flag='no_new_keyring',
           commands=('create', 'run'), recreates=True),
    Option('console_socket', dict(type='path'), (CONTAINER, CHECKPOINT), flag='console_socket',
           commands=('create', 'restore')),
    Option('stdout_path', dict(type='str'), (CONTAINER, CHECKPOINT), recreates=True),
    Option('stderr_path', dict(type='str'), (CONTAINER, CHECKPOINT), recreates=True),
    Option('no_subreaper', dict(type='bool', default=False), (CHECKPOINT,), flag='no_subreaper',
           commands=('restore',)),

    # runc checkpoint and restore (CRIU).
    Option('image_path', dict(type='path', required=True), (CHECKPOINT,)),
    Option('work_path', dict(type='path'), (CHECKPOINT,)),
    Option('parent_path', dict(type='path'), (CHECKPOINT,), flag='parent_path', commands=('checkpoint',)),
    Option('leave_running', dict(type='bool', default=False), (CHECKPOINT,), flag='leave_running',
           commands=('checkpoint',)),
    Option('pre_dump', dict(type='bool', default=False), (CHECKPOINT,), flag='pre_dump', commands=('checkpoint',)),
    Option('tcp_established', dict(type='bool', default=False), (CHECKPOINT,), flag='tcp_established',
           commands=('checkpoint', 'restore')),
    Option('ext_unix_sk', dict(type='bool', default=False), (CHECKPOINT,), flag='ext_unix_sk',
           commands=('checkpoint', 'restore')),
    Option('shell_job', dict(type='bool', default=False), (CHECKPOINT,), flag='shell_job',
           commands=('checkpoint', 'restore')),
    Option('file_locks', dict(type='bool', default=False), (CHECKPOINT,), flag='file_locks',
           commands=('checkpoint', 'restore')),
    Option('page_server', dict(type='str'), (CHECKPOINT,), flag='page_server', commands=('checkpoint',)),
    Option('manage_cgroups_mode', dict(type='str', choices=['soft', 'full', 'strict', 'ignore']), (CHECKPOINT,),
           flag='manage_cgroups_mode', commands=('checkpoint', 'restore')),
    Option('empty_ns', dict(type='list', elements='str'), (CHECKPOINT,), flag='empty_ns',
           commands=('checkpoint', 'restore')),
    Option('lazy_pages', dict(type='bool', default=False), (CHECKPOINT,), flag='lazy_pages',
           commands=('checkpoint', 'restore')),
    Option('status_file', dict(type='path'), (CHECKPOINT,), flag='status_file', commands=('checkpoint',)),
    Option('auto_dedup', dict(type='bool', default=False), (CHECKPOINT,), flag='auto_dedup',
           commands=('checkpoint', 'restore')),
    Option('extra_args', dict(type='list', elements='str'), (CHECKPOINT,), flag='extra_args',
           commands=('checkpoint', 'restore')),

    # runc exec.
    Option('argv', dict(type='list', elements='str', required=True), (EXEC,)),
    # user, capabilities and no_new_privileges: process rows (_options_process), shared with runc_container.
    Option('stdin', dict(type='str'), (EXEC,)),
    Option('timeout', dict(type='float', default=0.0), (EXEC, RUN)),
    Option('detach', dict(type='bool', default=False), (EXEC,), flag='detach', commands=('exec',)),
    Option('check_rc', dict(type='bool', default=True), (EXEC, RUN)),
    Option('strip_empty_ends', dict(type='bool', default=True), (EXEC,)),

    # runc_bundle: an OCI runtime bundle made from an image of the store (docs/images.md).
    Option('path', dict(type='path', required=True), (BUNDLE,)),
    Option('name', dict(type='str'), (BUNDLE,)),
    Option('tag', dict(type='str', default='latest'), (BUNDLE,)),
    Option('store', dict(type='path', default=DEFAULT_STORE), (BUNDLE,)),
    Option('state', dict(type='str', default='present', choices=['present', 'absent']), (BUNDLE,)),
    Option('uid_map', dict(type='list', elements='str'), (BUNDLE,), target='umoci `--uid-map`, linux.uidMappings'),
    Option('gid_map', dict(type='list', elements='str'), (BUNDLE,), target='umoci `--gid-map`, linux.gidMappings'),
    Option('volumes', dict(type='str', default='bind', choices=['bind', 'tmpfs']), (BUNDLE,)),
    Option('umoci_timeout', dict(type='float', default=600.0), (BUNDLE,), target='a time limit on each umoci call'),

    # runc_image: an image in the local store, copied there with skopeo (docs/images.md).
    Option('name', dict(type='str', required=True), (IMAGE,)),
    Option('tag', dict(type='str', default='latest'), (IMAGE,)),
    Option('state', dict(type='str', default='present', choices=['present', 'absent']), (IMAGE,)),
    Option('store', dict(type='path', default=DEFAULT_STORE), (IMAGE,)),
    Option('source', dict(type='str'), (IMAGE,), target='skopeo source reference'),
    Option('pull', dict(type='str', default='missing', choices=['missing', 'always']), (IMAGE,)),
    Option('tls_verify', dict(type='bool', default=True), (IMAGE,), target='skopeo `--src-tls-verify`'),
    Option('username', dict(type='str'), (IMAGE,), target='a private skopeo authfile'),
    Option('password', dict(type='str', no_log=True), (IMAGE,), target='a private skopeo authfile'),
    Option('authfile', dict(type='path'), (IMAGE,), target='skopeo `--src-authfile`'),
    Option('policy', dict(type='path'), (IMAGE,), target='skopeo `--policy`'),
    Option('platform', dict(type='str'), (IMAGE,), target='skopeo `--override-os/-arch/-variant`'),
    Option('skopeo_path', dict(type='str', default='skopeo'), (IMAGE,), target='the skopeo binary'),
    Option('skopeo_timeout', dict(type='float', default=600.0), (IMAGE,), target='a time limit on each skopeo call'),

    # runc_info.
    Option('status', dict(type='list', elements='str',
                          choices=['created', 'running', 'pausing', 'paused', 'stopped']), (INFO,)),
    Option('annotations', dict(type='dict'), (INFO,)),
    Option('gather', dict(type='list', elements='str', default=['state'],
                          choices=['state', 'processes', 'stats', 'version', 'features', 'config', 'network']),
           (INFO,)),
    Option('ps_args', dict(type='list', elements='str'), (INFO,)),
    Option('max_workers', dict(type='int', default=8), (INFO, CONTAINERS)),
    Option('mask_env', dict(type='bool', default=False), (INFO,)),

    # runc_run: a container run to completion, a job (docs/jobs.md).
    Option('keep', dict(type='bool', default=False), (RUN,), target='`runc run --keep`'),
    Option('creates', dict(type='path'), (RUN,)),
    Option('removes', dict(type='path'), (RUN,)),

    # runc_wait: until a container's condition holds (docs/jobs.md).
    Option('status', dict(type='str', choices=['running', 'paused', 'stopped', 'absent']), (WAIT,)),
    Option('oom', dict(type='bool', default=False), (WAIT,), target='`runc events`: an oom event'),
    Option('memory_above', dict(type='str'), (WAIT,), target='`runc events --stats`: memory.usage.usage'),
    Option('pids_above', dict(type='int'), (WAIT,), target='`runc events --stats`: pids.current'),
    Option('interval', dict(type='float', default=1.0), (WAIT,)),
    Option('timeout', dict(type='float', default=60.0), (WAIT,)),

    # runc_containers: the containers of a project, each item a runc_container task (docs/containers.md).
    Option('project', dict(type='str', required=True), (CONTAINERS,), target='the annotation oci_runtime.runc.project'),
    Option('containers', dict(type='list', elements='dict', default=[]), (CONTAINERS,),
           target='one runc_container task per item'),
    Option('defaults', dict(type='dict', default={}), (CONTAINERS,), target='every item\'s unset options'),
    Option('prune', dict(type='bool', default=False), (CONTAINERS,), target='state=absent for the project\'s others'),
]

# runc_run composes a job's config as runc_container composes a container's: every config row,
# but the network (the module sets up no CNI network for a job).
for _row in OPTIONS:
    if _row.is_config and CONTAINER in _row.modules and _row.name != 'network':
        _row.modules = _row.modules | {RUN}
