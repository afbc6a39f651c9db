# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""runc_container's logic: read the container, compare it with the task, act on the difference."""

from __future__ import annotations

import json
import os
import signal
import tempfile

from typing import NamedTuple, Optional

from ansible_collections.oci_runtime.runc.plugins.module_utils import _container_config as cfg
from ansible_collections.oci_runtime.runc.plugins.module_utils._image_identity import (
    ANNOTATION_IMAGE_ID,
    ANNOTATION_STOP_SIGNAL,
    BUNDLE_MARKER,
    IMAGE_CONFIG,
    bundle_lock,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils._config_merge import format_path
from ansible_collections.oci_runtime.runc.plugins.module_utils._lifecycle import ALIVE, current_state, stop
from ansible_collections.oci_runtime.runc.plugins.module_utils import _network as net
from ansible_collections.oci_runtime.runc.plugins.module_utils._network import ANNOTATION_NETWORK
from ansible_collections.oci_runtime.runc.plugins.module_utils._runc_root import DefaultSpec, Record, prune_orphans
from ansible_collections.oci_runtime.runc.plugins.module_utils._supervision import RECORD_DIR, UNIT_DIR, Supervisor
from ansible_collections.oci_runtime.runc.plugins.module_utils._options_resources import (
    ignored_parts,
    resources_without,
    with_kept_paths,
    without_paths,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils._options import (
    CONTAINER,
    flag_values,
    recreating_options,
    rows,
    writes_config,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils._task import (
    ContainerTask,
    TaskError,
    checked_id,
    in_bundle,
    is_within,
    require_absolute,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils.runc import (
    CreateOptions,
    DeleteOptions,
    ProcessIO,
    RuncError,
    parse_signal,
    subcommand_of,
)


class KnownConfig(NamedTuple):
    """What an existing container was made with, as far as anybody can tell.

    ``config``, ``create_options`` and ``base`` are None when unknown;
    ``record`` is the collection's record when there is one (see Record).
    ``append_mounts``: composed as versions before 0.2.0 did (merge_mounts).
    """

    digest: str
    resources: dict
    config: Optional[dict] = None
    create_options: Optional[dict] = None
    base: Optional[dict] = None
    record: Optional[dict] = None
    append_mounts: bool = False


def image_config_of(bundle):
    """The config runc_bundle made from the image, when the bundle is one of its own; else None."""
    if not os.path.isfile(os.path.join(bundle, BUNDLE_MARKER)):
        return None
    try:
        config = cfg.read_config_file(os.path.join(bundle, IMAGE_CONFIG))
    except (OSError, ValueError):
        return None
    return config if ANNOTATION_IMAGE_ID in (config.get('annotations') or {}) else None


# Options passed to `runc create` that a new container needs to change.
CREATE_TIME_OPTIONS = recreating_options(CONTAINER)
# Also passed to `runc create`, but no reason to re-create: kept in the record
# so that a rollback makes the previous container exactly as it was made.
REPLAY_OPTIONS = tuple(row.name for row in rows(CONTAINER, 'flag') if 'create' in row.commands and not row.recreates)


def config_differences(before, after, path=()):
    """Every path where two configs differ, as readable strings (all of them, not the first)."""
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key in sorted(set(before) | set(after), key=str):
            found += config_differences(before.get(key), after.get(key), path + (key,))
        return found
    if before != after:
        return [format_path(path)]
    return []


# A container's state not read yet (None is read, and absent).
NOT_READ = object()


class ContainerManager(ContainerTask):
    """Brings one container to the state the task describes.

    runc_container runs one; runc_containers one per item, each given the state its
    single ``runc list`` read (``listed``) and the default spec the items share.
    """

    def __init__(self, module, listed=NOT_READ, default_spec=None, listed_all=None):
        super().__init__(module)
        self.listed = listed
        # Every container runc_containers listed: refuse_shared_bundle reads it instead of a runc list of
        # its own, which fails while another item's container is being deleted.
        self.listed_all = listed_all
        # The container's systemd unit, when the task asks for one (restart) or one of ours runs it.
        self.supervisor = Supervisor(module, self.root, self.container_id, self.record_action)
        # The record in the runc root; a container its unit runs has its record where a reboot leaves it
        # (manage_supervised switches to it), since systemd makes that container again.
        self.record = Record(self.root, self.container_id)
        self.assume_absent = False   # check mode: a planned unit stop deletes the container
        self.default_spec = default_spec or DefaultSpec(self.runc, self.root, rootless=self.params['rootless'] == 'true')
        self.recreate_reasons = []
        self.config_backup = None   # (path, bytes or None) of config.json before this task wrote it
        self.desired = None
        self.bundle = None
        self.image_base = None     # the config runc_bundle made from the image, for such a bundle
        self.adopted = None        # the base learnt for a record of an earlier version (desired_for_existing)
        # user.name -> [uid, gid, groups] as resolved for a new container, and as the existing one's
        # record keeps them: a name keeps the ids it had when the container was made.
        self.resolved_users = {}
        self.existing_users = {}
        self.network_plan = None    # what the task asks of the network (net.Plan), when it sets network
        self.built = {}             # what compose_config's rows made of their options, kept between compositions
        self.network_name = net.namespace_name(self.root, self.container_id)
        self.replaced_network = None   # the state of the cni network a re-creation took down, for a rollback
        self.network_taken_down = False   # check mode: the DEL of the network is planned already

    # -- input ---------------------------------------------------------------------------------

    def validate(self):
        """Refuse bad input before anything on the host is read or changed."""
        params = self.params
        checked_id(self.container_id)
        self.supervisor.load()
        require_absolute(params, 'bundle', 'pid_file', 'console_socket')
        if writes_config(params) and not params['bundle']:
            raise TaskError('bundle: required with spec and the container config options, '
                            'to know where config.json goes')
        if params['bundle'] is not None:
            if os.path.lexists(params['bundle']) and not os.path.isdir(params['bundle']):
                raise TaskError('bundle: %s exists and is not a folder' % params['bundle'])
            self.bundle = os.path.realpath(params['bundle'])
            self.image_base = image_config_of(self.bundle)
            if writes_config(params):
                self.refuse_foreign_config()
        self.kill_signal = self.stop_signal(self.image_base)
        self.create_options = {name: params[name] for name in CREATE_TIME_OPTIONS}
        try:
            self.ignored = ignored_parts(params.get('comparisons'), rows(CONTAINER, 'config'), CREATE_TIME_OPTIONS)
        except cfg.ConfigError as error:
            raise TaskError(str(error))
        for name in ('stdout_path', 'stderr_path'):
            if params[name] is not None and (not params[name] or '\0' in params[name]):
                raise TaskError('%s: %r is not a file path' % (name, params[name]))
        # Bad config is refused here, before the lock or anything else touches the host.
        if params['state'] != 'absent':
            self.desired = self.desired_config()
            if self.bundle and writes_config(params):
                self.refuse_a_bundle_in_runtime_places()
            # The plan the network row made composing the desired config (read from the host once).
            self.network_plan = self.built.get('network_plan')
            if self.network_plan is not None and self.network_plan.mode == 'cni' \
                    and (os.geteuid() != 0 or params['rootless'] == 'true'):
                raise TaskError('network: mode cni needs root, not a rootless runtime: ip netns, iptables and '
                                'the CNI plugins change the host\'s network')
            if not self.bundle and not self.supervisor.wanted and self.current_state() is None:
                raise TaskError('bundle: required to create container %s' % self.container_id)
        self.supervisor.validate(self.runc, self.bundle, self.kill_signal, self.network_plan)

    def current_state(self):
        """The container's state before the task acted: as runc_containers listed it, else runc state.

        The list was read before this container's lock: read again under it when another task
        held the lock first, or when the list says the container is missing (this task would
        create it, and a task that just did must not be raced).
        """
        if self.assume_absent:
            return None
        waited = self.lock is not None and self.lock.waited
        creating = self.listed is None and self.params['state'] != 'absent'
        if self.listed is NOT_READ or waited or creating:
            return current_state(self.runc, self.container_id)
        return self.listed

    def stop_signal(self, image_base):
        """kill_signal, else the image's StopSignal for a bundle runc_bundle made, else SIGTERM."""
        stop_signal = ((image_base or {}).get('annotations') or {}).get(ANNOTATION_STOP_SIGNAL)
        try:
            return parse_signal(self.params['kill_signal'] or stop_signal or 'SIGTERM')
        except RuncError as error:
            raise TaskError('kill_signal: %s%s' % (error, '' if self.params['kill_signal'] else
                                                   ' (the StopSignal of the image)'))

    def refuse_a_bundle_in_runtime_places(self):
        """config.json never goes into the runc root (runc's container state) or the container's rootfs folder."""
        root = os.path.realpath(self.root)
        if is_within(self.bundle, root):
            raise TaskError('bundle: %s is inside the runc root %s, where runc keeps the containers\' state; give '
                            'a folder outside it' % (self.params['bundle'], root))
        # Only the rootfs itself: a bundle somewhere below a rootfs of / (a host tool's container) is common.
        rootfs = os.path.realpath(cfg.rootfs_path(self.bundle, self.desired))
        if self.bundle == rootfs:
            raise TaskError('bundle: %s is the container\'s rootfs: config.json would be written among the '
                            'container\'s own files; give the folder that holds the rootfs' % self.params['bundle'])

    def refuse_foreign_config(self):
        """Never overwrite a config.json the collection did not write (it carries no digest of ours)."""
        path = os.path.join(self.bundle, 'config.json')
        if not os.path.lexists(path):
            return
        if os.path.islink(path) or not os.path.isfile(path):
            raise TaskError('bundle: %s is not a regular file; the module writes config.json only over one '
                            'it wrote itself' % path)
        try:
            config = self.read_config()
        except TaskError as error:
            raise TaskError('%s; it is not one this collection wrote, so it is left alone' % error)
        annotations = config.get('annotations') or {}
        if self.image_base is not None and ANNOTATION_IMAGE_ID in annotations:
            return   # runc_bundle's: the module lays the task's options over the image's config
        if cfg.ANNOTATION_CONFIG_DIGEST not in annotations:
            raise TaskError('bundle: %s was not written by this collection (it has no %s annotation) and is '
                            'left alone; give bundle without spec and the config options to run it as it '
                            'is, or move it away to have the module write one'
                            % (path, cfg.ANNOTATION_CONFIG_DIGEST))

    def desired_config(self, base=None, append_mounts=False, resolved_users=None):
        """The config the task asks for, over base (the runtime's default spec when None).

        None when the task names no bundle.
        """
        if not self.bundle:
            return None
        if writes_config(self.params):
            try:
                if base is None:
                    base = self.image_base if self.image_base is not None else self.default_spec.shared()
                config = cfg.compose_config(base, self.params,
                                            append_mounts=append_mounts, bundle=self.bundle,
                                            resolved_users=self.resolved_users if resolved_users is None
                                            else resolved_users, built=self.built)
            except cfg.ConfigError as error:
                raise TaskError(str(error))
        else:
            config = self.read_config()
            if config is None:
                raise TaskError('bundle: %s has no config.json; give spec or the config options '
                                '(args, env, ...) to have one written' % self.bundle)
        source = 'spec' if writes_config(self.params) else 'bundle'
        for key, kind in (('root', dict), ('process', dict), ('linux', dict)):
            if not isinstance(config.get(key, {}), kind):
                raise TaskError('%s: %s of the config must be an object' % (source, key))
        if not isinstance(config.get('root', {}).get('path', ''), str):
            raise TaskError('%s: root.path of the config must be a string' % source)
        rootfs = cfg.rootfs_path(self.bundle, config)
        if not os.path.isdir(rootfs):
            source = 'rootfs' if self.params.get('rootfs') else 'bundle'
            raise TaskError('%s: the rootfs folder %s does not exist' % (source, rootfs))
        if (config.get('process') or {}).get('terminal') and not self.params['console_socket']:
            raise TaskError('console_socket: required when process.terminal is true; a detached '
                            'container has nowhere else to send its terminal')
        return config

    def read_config(self, bundle=None):
        path = os.path.join(bundle or self.bundle, 'config.json')
        try:
            return cfg.read_config_file(path)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise TaskError('bundle: cannot read %s: %s' % (path, getattr(error, 'strerror', None) or error))

    def disk_config_of(self, state):
        """The config.json of the bundle an existing container runs from (None without one)."""
        return self.read_config(state['bundle']) if state and state.get('bundle') else None

    def option_of_path(self, filename):
        # The unit file and the record kept beside it are the restart option's.
        if filename and filename.startswith((UNIT_DIR + os.sep, RECORD_DIR + os.sep)):
            return 'restart'
        return super().option_of_path(filename)

    def failing_option(self, error):
        subcommand = subcommand_of(error.argv or [])
        if subcommand == 'update':
            return 'resources'
        if subcommand in ('create', 'start'):
            return 'bundle'
        return 'name'

    def creates_lock(self):
        # Removing a container that is not there writes nothing, not even a lock file.
        if self.params['state'] == 'absent' and not os.path.isdir(os.path.join(self.root, self.container_id)):
            return False
        return super().creates_lock()

    # -- compare -----------------------------------------------------------------------------

    def known_config(self, state, disk_config):
        """A KnownConfig of the existing container, or None when nothing is known.

        The collection's record is exact and holds the base spec the config
        was composed over; without it, the digest runc shows as an annotation;
        for a container made without this collection, the bundle's
        config.json is the best witness.
        """
        record = self.record.load(state['created'], (state.get('annotations') or {}).get(cfg.ANNOTATION_CONFIG_DIGEST))
        if record and record.get('config') is not None:
            return KnownConfig(digest=record['config_digest'], resources=record.get('resources') or {},
                               config=record['config'], create_options=record.get('create_options'),
                               base=record.get('base'), record=record,
                               append_mounts=bool(record.get('append_mounts')))
        disk_resources = cfg.resources_of(disk_config) if disk_config else {}
        annotated_digest = (state.get('annotations') or {}).get(cfg.ANNOTATION_CONFIG_DIGEST)
        if annotated_digest:
            return KnownConfig(digest=annotated_digest, resources=disk_resources)
        if disk_config is not None:
            return KnownConfig(digest=cfg.config_digest(disk_config, self.create_options),
                               resources=disk_resources, config=disk_config)
        return None

    def remember(self, created, config, base, create_options=None, replay_options=None, append_mounts=False,
                 resolved_users=None):
        """Record what the container now runs with, and the base it was composed over (see known_config)."""
        create_options = self.create_options if create_options is None else create_options
        supervised = self.record.path == self.supervisor.record_path
        if supervised:
            os.makedirs(RECORD_DIR, mode=0o700, exist_ok=True)
        self.record.save(created, config_digest=cfg.config_digest(config, create_options),
                         resources=cfg.resources_of(config), config=cfg.without_own_annotations(config),
                         create_options=create_options, base=base, append_mounts=append_mounts,
                         resolved_users=resolved_users if resolved_users is not None else self.resolved_users,
                         replay_options=replay_options if replay_options is not None else
                         {name: self.params[name] for name in REPLAY_OPTIONS},
                         runtime=self.default_spec.stamp[0],
                         unit=self.supervisor.name if supervised else None)

    def desired_for_existing(self, known):
        """The task's config over the base the existing container was made from.

        Comparing over that base, not over today's default spec, is what keeps
        a runtime upgrade (whose ``runc spec`` differs) from re-creating every
        container; see docs/idempotency.md. A record of an earlier version of
        the collection has no base: if the task composed over today's spec
        (as that version composed it) gives the config the container was made
        with, today's spec was its base, and the record learns it (adopted).
        """
        if known is None or not writes_config(self.params) or self.image_base is not None:
            # A bundle of runc_bundle: the image is part of the task's intent, so the config is
            # composed over the image's config as it is now; a new image content re-creates.
            return self.desired
        self.existing_users = dict((known.record or {}).get('resolved_users') or {})
        if known.base is not None:
            if self.desired is not None and not known.append_mounts and self.existing_users == self.resolved_users \
                    and known.base == self.default_spec.shared():
                return self.desired   # validate composed it over the same base, with the same users
            return self.desired_config(base=known.base, append_mounts=known.append_mounts,
                                       resolved_users=self.existing_users)
        if known.record is None:
            return self.desired
        for append_mounts in (False, True):
            candidate = self.desired_config(append_mounts=append_mounts)
            if cfg.config_digest(candidate, self.create_options) == known.digest:
                self.adopted = dict(base=self.default_spec.load(), append_mounts=append_mounts)
                return candidate
        return self.desired

    def runtime_changes(self, known):
        """With runtime_change=recreate: why the runtime changed under the container, if it did."""
        if self.params['runtime_change'] != 'recreate' or known is None or known.record is None:
            return []
        reasons = []
        recorded_runtime = known.record.get('runtime')
        if recorded_runtime and recorded_runtime != self.default_spec.stamp[0]:
            reasons.append('runtime_change: the runtime is %s, the container was made with %s'
                           % (self.default_spec.stamp[0], recorded_runtime))
        if known.base is not None and ANNOTATION_IMAGE_ID not in (known.base.get('annotations') or {}):
            changed_paths = config_differences(known.base, self.default_spec.shared())
            if changed_paths:
                reasons.append('runtime_change: the runtime\'s default spec changed (%s)' % ', '.join(changed_paths))
        return reasons

    def compare(self, state, desired, known, disk_config):
        """Fill recreate_reasons and return the resources runc update must apply."""
        if state is None or desired is None:
            return {}
        if state.get('bundle') and os.path.realpath(state['bundle']) != self.bundle:
            self.recreate_reasons.append('bundle: %s -> %s' % (state['bundle'], self.bundle))
        if known is None:
            self.module.warn('cannot tell what config container %s was created with; '
                             'assuming it matches' % self.container_id)
            return {}
        self.recreate_reasons += self.runtime_changes(known)
        # comparisons: ignored parts leave both sides. The stored digest covers them, so then the configs
        # themselves are compared, which needs the one the container was made with.
        ignored = self.ignored
        if ignored and known.config is None:
            self.module.warn('comparisons: cannot apply to container %s, the config it was made with is unknown '
                             '(no record of it); compared as a whole' % self.container_id)
            ignored = None
        paths = ignored.paths if ignored else ()
        changed_options = [name for name in CREATE_TIME_OPTIONS if known.create_options is not None
                           and known.create_options.get(name) != self.create_options[name]
                           and not (ignored and name in ignored.options)]
        if ignored:
            differs = bool(changed_options) or (cfg.config_digest(without_paths(known.config, paths), {})
                                                != cfg.config_digest(without_paths(desired, paths), {}))
        else:
            differs = known.digest != cfg.config_digest(desired, self.create_options)
        if differs:
            before = known.config if known.config is not None else (disk_config or {})
            changed_paths = config_differences(cfg.without_resources(without_paths(before, paths)),
                                               cfg.without_resources(without_paths(desired, paths)))
            network_path = format_path(('annotations', ANNOTATION_NETWORK))
            network_changed = network_path in changed_paths
            if network_changed:
                changed_paths.remove(network_path)
                self.recreate_reasons.append('network: its config list, ports or interface changed')
            if changed_paths:
                self.recreate_reasons.append('config: %s' % ', '.join(changed_paths))
            if changed_options:
                self.recreate_reasons.append('create options: %s' % ', '.join(changed_options))
            if not (changed_paths or changed_options or network_changed):
                self.recreate_reasons.append('config: differs from the one the container was created with')
        updatable, other = cfg.resource_changes(resources_without(known.resources, paths),
                                                resources_without(cfg.resources_of(desired), paths))
        if other:
            self.recreate_reasons.append('resources not updatable in place: %s' % ', '.join(other))
        if updatable and state['status'] == 'stopped':
            # A stopped container has no cgroup left to update.
            self.recreate_reasons.append('resources of a stopped container: %s' % ', '.join(sorted(updatable)))
        if self.params['recreate'] == 'always':
            self.recreate_reasons.append('recreate is always')
        return {} if self.recreate_reasons else updatable

    # -- act ---------------------------------------------------------------------------------

    def run_step(self, subcommand, call, *args):
        """Run one mutating call, or in check mode record what it would run."""
        self.changed = True
        if self.check_mode:
            self.planned.append(self.runc.argv(subcommand, *args))
            return None
        return call()

    def write_config(self, desired):
        """Write config.json (0600) atomically, only when its content differs.

        The first write keeps the previous bytes (or their absence) in
        config_backup, for restore_config.
        """
        written = cfg.annotated(desired, self.create_options)
        if self.read_config() == written:
            return False
        self.refuse_shared_bundle()
        self.changed = True
        if self.check_mode:
            return True
        path = os.path.join(self.bundle, 'config.json')
        if self.config_backup is None:
            previous = None
            if os.path.exists(path):
                with open(path, 'rb') as stream:
                    previous = stream.read()
            self.config_backup = (path, previous)
        if not os.path.isdir(self.bundle):
            os.makedirs(self.bundle, mode=0o700)
        if self.image_base is not None:
            # runc_bundle works on this folder under the same lock.
            with bundle_lock(self.bundle):
                self.replace_file(path, (json.dumps(written, indent=2, sort_keys=True) + '\n').encode('utf-8'))
        else:
            self.replace_file(path, (json.dumps(written, indent=2, sort_keys=True) + '\n').encode('utf-8'))
        return True

    def refuse_shared_bundle(self):
        """Never rewrite the config.json of a bundle another container runs from.

        Its process settings would change under it: runc_exec in that
        container would then run with this task's user and capabilities.
        """
        if self.listed_all is not None:
            listed = self.listed_all
        else:
            listed = self.runc.list() if self.runc.root is None or os.path.isdir(self.runc.root) else []
        for state in listed:
            if state['id'] != self.container_id and os.path.realpath(state['bundle']) == self.bundle:
                raise TaskError('bundle: %s is the bundle of container %s too; give each container whose '
                                'config the module writes a bundle of its own' % (self.bundle, state['id']))

    def restore_config(self):
        """Put config.json back as it was before this task, after a failure."""
        if self.config_backup is None:
            return
        path, previous = self.config_backup
        if previous is None:
            if os.path.exists(path):
                os.unlink(path)
        else:
            self.replace_file(path, previous)
        self.config_backup = None

    def replace_file(self, path, content):
        """Replace config.json in one rename, 0600 from the start (it may hold secrets).

        Not AnsibleModule.atomic_move: it changes the process's umask for a moment, which a
        runc_containers item creating a container in another thread would inherit.
        """
        handle, temporary = tempfile.mkstemp(prefix='.config.json.', dir=os.path.dirname(path))
        try:
            with os.fdopen(handle, 'wb') as stream:
                stream.write(content)
                stream.flush()
                os.fsync(stream.fileno())
            os.rename(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)

    def roll_back(self, old_state, known, error):
        """After a failed re-creation, bring the previous container back exactly as it was.

        Its own create options, stdio files and pid file (from its record),
        its config.json and its status, paused included.
        """
        record = (known.record if known else None) or {}
        create_options = record.get('create_options') or dict.fromkeys(CREATE_TIME_OPTIONS)
        # Records of earlier versions do not have them: the task's are the best guess.
        replay_options = record.get('replay_options') or {name: self.params[name] for name in REPLAY_OPTIONS}
        old_bundle = old_state['bundle']
        try:
            if current_state(self.runc, self.container_id) is not None:
                self.runc.delete(self.container_id, DeleteOptions(force=True))
            self.take_down_network(force=True)
            if self.replaced_network is not None:
                # The previous network's config under a new CNI container id (its address may differ).
                net.set_up(dict(self.replaced_network, cni_id=net.new_id(self.replaced_network['name'])),
                           self.record_action)
            self.restore_config()
            self.runc.create(self.container_id, old_bundle, CreateOptions(
                pid_file=replay_options.get('pid_file'), console_socket=replay_options.get('console_socket'),
                no_pivot=bool(create_options.get('no_pivot')),
                no_new_keyring=bool(create_options.get('no_new_keyring')),
                io=ProcessIO(stdout_path=in_bundle(create_options.get('stdout_path'), old_bundle),
                             stderr_path=in_bundle(create_options.get('stderr_path'), old_bundle))))
            if old_state['status'] in ALIVE:
                self.runc.start(self.container_id)
            if old_state['status'] == 'paused':
                self.runc.pause(self.container_id)
            elif old_state['status'] == 'stopped':
                stop(self.runc, self.container_id, signal.SIGKILL, 0)
            if record:
                created = self.runc.state(self.container_id)['created']
                self.remember(created, record['config'], record.get('base'), create_options, replay_options,
                              append_mounts=bool(record.get('append_mounts')),
                              resolved_users=record.get('resolved_users') or {})
        except Exception as rollback_error:  # pylint: disable=broad-except
            # Already failing: whatever went wrong here must reach the message, not a traceback.
            outcome = 'bringing the previous container back failed too: %s' % rollback_error
            if current_state(self.runc, self.container_id) is None:
                self.take_down_network_quietly()
        else:
            outcome = 'the previous container was made again as it was (%s)' % old_state['status']
        if isinstance(error, (OSError, TaskError)):
            return TaskError('%s; %s' % (self.described(error), outcome))
        return RuncError('%s; %s' % (error, outcome), argv=error.argv, exit_status=error.exit_status,
                         stdout=error.stdout, stderr=error.stderr, runc_message=error.runc_message)

    def create(self, desired):
        if self.bundle is None:
            raise TaskError('bundle: required to create container %s' % self.container_id)
        options = CreateOptions(
            io=ProcessIO(stdout_path=in_bundle(self.params['stdout_path'], self.bundle),
                         stderr_path=in_bundle(self.params['stderr_path'], self.bundle)),
            **flag_values(CONTAINER, 'create', self.params))
        # What a killed task or a reboot left of the container's network goes first: DEL gives its
        # addresses back.
        self.take_down_network(force=True)
        network = self.set_up_network()
        try:
            self.run_step('create', lambda: self.runc.create(self.container_id, self.bundle, options),
                          *(['--bundle', self.bundle] + options.args('create') + [self.container_id]))
        except BaseException:
            if network is not None:
                self.take_down_network_quietly()
            raise
        if self.check_mode:
            return
        state = self.runc.state(self.container_id)
        config = desired if desired is not None else self.read_config()
        base = (self.image_base if self.image_base is not None else self.default_spec.load()) \
            if writes_config(self.params) else None
        self.remember(state['created'], config, base)

    def stop(self):
        self.run_step('kill', lambda: stop(
            self.runc, self.container_id, self.kill_signal, self.params['stop_timeout'],
            self.params['kill_all']), self.container_id, str(self.kill_signal))

    def delete(self, force=False, replacing=False):
        options = DeleteOptions(force=force)
        self.run_step('delete', lambda: self.runc.delete(self.container_id, options),
                      *(options.args() + [self.container_id]))
        if not self.check_mode:
            self.record.remove()
        # A re-creation replaces the network whatever its DEL says (the rules it names go anyway);
        # a removal keeps it for another try unless the task forces it.
        self.take_down_network(force=replacing or self.params['force'], keep=replacing)

    # -- the network ---------------------------------------------------------------------------

    def record_action(self, argv):
        """Report a host change (the network's, the unit's) among the actions; in check mode, the plan."""
        self.changed = True
        (self.planned if self.check_mode else self.runc.mutations_run).append(list(argv))

    def set_up_network(self):
        """The cni network of a new container, before `runc create` joins its namespace; its state, or None."""
        if self.network_plan is None or self.network_plan.mode != 'cni':
            return None
        state = net.new_state(self.network_plan)
        if self.check_mode:
            self.record_action(['ip', 'netns', 'add', state['name']])
            self.record_action(['ip', '-n', state['name'], 'link', 'set', 'lo', 'up'])
            for path in self.network_plan.plugin_paths():
                self.record_action([path, 'ADD', state['namespace'], state['interface']])
            return None
        return net.set_up(state, self.record_action)

    def take_down_network(self, force, keep=False):
        """DEL the container's cni network, if it has one, and remove its namespace.

        keep: remember it, to set it up again should the re-creation fail.
        """
        state = net.read_state(self.network_name)
        if state is None and net.damaged_state(self.network_name):
            self.record_action(['ip', 'netns', 'delete', self.network_name])
            if not self.check_mode:
                net.tear_down_damaged(self.network_name, self.record_action)
                self.module.warn('network: %s was damaged: without the network\'s config DEL could not run (an '
                                 'address lease may stay); the namespace, its rules and the file were removed'
                                 % net.state_path(self.network_name))
            return
        if state is None:
            return
        if self.check_mode:
            if self.network_taken_down:
                return
            self.network_taken_down = True
            for plugin in reversed(state['conflist']['plugins']):
                self.record_action([net.find_plugin(plugin['type'], state['plugin_dirs']) or plugin['type'], 'DEL',
                                    state['namespace'], state['interface']])
            if os.path.lexists(state['namespace']):
                self.record_action(['ip', 'netns', 'delete', state['name']])
            return
        if keep:
            self.replaced_network = dict(state, result=None, unchecked={})
        for refused in net.tear_down(state, self.record_action, force=force):
            self.module.warn('%s; the namespace and the state file were removed anyway' % refused)

    def take_down_network_quietly(self):
        """After a failure: the new network goes too, and nothing of that may hide the first error."""
        try:
            self.take_down_network(force=True)
        except (TaskError, OSError) as error:
            self.module.warn('taking the network down after the failure failed too: %s' % error)

    def network_facts(self, status):
        """What the module returns about the container's network."""
        if status == 'absent':
            return None
        plan = self.network_plan
        state = net.read_state(self.network_name)
        if state is not None and not (self.check_mode and self.recreate_reasons):
            return net.summary(state)
        if plan is None:
            return None
        if plan.mode == 'cni':
            # Check mode: what would be set up.
            return net.summary(net.new_state(plan))
        return {'mode': plan.mode, 'namespace': plan.path if plan.mode == 'path' else None}

    def network_problem(self, state):
        """Why an existing container's cni network must be made again (with the container), or None."""
        if state['status'] == 'stopped':
            return None
        network = net.read_state(self.network_name)
        if network is None:
            if self.network_plan is not None and self.network_plan.mode == 'cni':
                return 'network: no state of its cni network (%s)' % net.state_path(self.network_name)
            return None
        problem = net.namespace_problem(self.network_name, state.get('pid'))
        if problem:
            raise TaskError(problem)
        if net.attachable(network, state.get('pid')):
            # The namespace file was removed (ip netns delete) but the container still runs in it:
            # the network itself is whole, and DEL needs the namespace to take it down one day.
            if self.check_mode:
                self.record_action(['ip', 'netns', 'attach', network['name'], str(state['pid'])])
                return None
            net.attach(network, state['pid'], self.record_action)
        return net.health_problem(network)

    def simple(self, subcommand):
        method = getattr(self.runc, subcommand)
        self.run_step(subcommand, lambda: method(self.container_id), self.container_id)

    def update(self, resources, desired, state, known):
        try:
            self.run_step('update', lambda: self.runc.update(self.container_id, resources),
                          '--resources=-', self.container_id)
        except RuncError as error:
            raise self.put_resources_back(error, known.resources)
        if not self.check_mode:
            record = known.record or {}
            adopted = self.adopted or {}
            self.remember(state['created'], desired, adopted.get('base', known.base),
                          record.get('create_options') or self.create_options, record.get('replay_options'),
                          append_mounts=adopted.get('append_mounts', known.append_mounts),
                          resolved_users=self.existing_users)
            self.adopted = None

    def put_resources_back(self, error, applied):
        """After a refused runc update, apply what the container had again.

        runc writes one cgroup file after another and stops at the first the
        kernel refuses: the ones before it (a cpuset, say) are changed already.
        """
        try:
            self.runc.update(self.container_id, applied)
        except RuncError as again:
            outcome = 'putting the previous resources back failed too, so the container may run with some ' \
                      'of the new ones: %s' % again
        else:
            outcome = 'the container runs with its previous resources again'
        return RuncError('%s; %s' % (error, outcome), argv=error.argv, exit_status=error.exit_status,
                         stdout=error.stdout, stderr=error.stderr, runc_message=error.runc_message)

    def converge(self, state, known, desired_existing, resources):
        """Walk the container from its current status to the desired one; return the final status."""
        status = state['status'] if state else 'absent'
        wanted = self.params['state']
        if status != 'absent':
            # Whatever the task does next may take the network down: never in somebody else's namespace.
            foreign = net.namespace_problem(self.network_name, state.get('pid'))
            if foreign and net.read_state(self.network_name) is not None:
                raise TaskError(foreign)
        if wanted == 'absent':
            if status == 'absent':
                # The network of a container a reboot took away: DEL gives its addresses back.
                self.take_down_network(force=self.params['force'])
                return status
            if self.params['force'] or status == 'created':
                self.delete(force=True)
            else:
                if status != 'stopped':
                    self.stop()
                self.delete()
            return 'absent'

        if status != 'absent' and self.recreate_reasons and self.params['recreate'] == 'never':
            raise TaskError('recreate: container %s differs from the task (%s) and recreate is never'
                            % (self.container_id, '; '.join(self.recreate_reasons)))
        if status == 'stopped' and wanted in ALIVE and not self.recreate_reasons:
            self.recreate_reasons.append('state: runc cannot start a stopped container again; it is made anew')
        if wanted == 'present' and status != 'absent':
            # present keeps an existing container's status, through a re-creation too.
            wanted = status if status != 'created' else 'present'

        if (status == 'absent' or self.recreate_reasons) and self.network_plan is not None \
                and self.network_plan.mode == 'cni':
            # Before the container it replaces is stopped; checked again when the ports are reserved.
            problems = net.port_problems(self.network_name, self.network_plan.ports)
            foreign = net.namespace_problem(self.network_name, state.get('pid') if state else None)
            if problems or foreign:
                raise TaskError('; '.join(problems + ([foreign] if foreign else [])))
        replaced = None
        if status != 'absent' and self.recreate_reasons:
            if status in ALIVE:
                self.stop()
            self.delete(force=status == 'created', replacing=True)
            replaced, status = state, 'absent'
        elif status != 'absent':
            if resources:
                self.update(resources, desired_existing, state, known)
            # Only once the update took: config.json must say what the container runs with.
            if desired_existing is not None and writes_config(self.params):
                self.write_config(desired_existing)

        try:
            if status == 'absent':
                if self.desired is not None and writes_config(self.params):
                    self.write_config(self.desired)
                self.create(self.desired)
                status = 'created'
            if status == 'created' and wanted in ALIVE:
                self.simple('start')
                status = 'running'
        except (RuncError, OSError, TaskError) as error:
            if replaced is not None:
                raise self.roll_back(replaced, known, error)
            if not self.check_mode and current_state(self.runc, self.container_id) is None:
                # Nothing was made: config.json goes back to what the user had.
                self.restore_config()
            raise
        if status == 'paused' and wanted == 'running':
            self.simple('resume')
            status = 'running'
        if status == 'running' and wanted == 'paused':
            self.simple('pause')
            status = 'paused'
        if wanted == 'stopped' and status != 'stopped':
            self.stop()
            status = 'stopped'
        return status

    # -- the task ------------------------------------------------------------------------------

    def finish(self, lock):
        if self.check_mode:
            return
        self.default_spec.store()
        if self.params['state'] == 'absent':
            lock.release(remove=True)
        if self.changed:
            prune_orphans(self.root)

    def manage(self):
        if self.lock is not None and self.lock.waited:
            # Another task held the container's lock first: its unit may have changed since validate read it.
            self.supervisor.validate(self.runc, self.bundle, self.kill_signal, self.network_plan)
        if not self.supervisor.involved:
            return self.manage_direct()
        if not self.supervisor.wanted:
            return self.leave_supervision()
        return self.manage_supervised()

    def manage_direct(self):
        """The container as runc runs it, without a unit."""
        state = self.current_state()
        if state and self.params['kill_signal'] is None and self.image_base is None and state.get('bundle'):
            # A task without bundle (state=absent, say) stops the container as its image asks.
            self.kill_signal = self.stop_signal(image_config_of(state['bundle']))
        disk_config = self.disk_config_of(state)
        known = self.known_config(state, disk_config) if state else None
        desired_existing = self.desired_for_existing(known) if state and self.params['state'] != 'absent' else None
        same_bundle = not self.bundle or (state and os.path.realpath(state.get('bundle') or '') == self.bundle)
        before_config = (known.config if known else None) or (disk_config if same_bundle else self.read_config())
        resources = self.compare(state, desired_existing, known, disk_config)
        if state and self.params['state'] != 'absent' and not self.recreate_reasons:
            problem = self.network_problem(state)
            if problem:
                self.recreate_reasons.append(problem)
        if state and self.params['state'] == 'absent':
            self.supervisor.refuse_a_unit_not_ours('state', 'removing')
        elif state and self.params['state'] == 'stopped' and state.get('status') in ALIVE:
            self.supervisor.refuse_a_unit_not_ours('state', 'stopping')
        elif state and self.recreate_reasons and self.params['recreate'] != 'never':
            self.supervisor.refuse_a_unit_not_ours('recreate', 're-creating')
        if (self.ignored.paths and desired_existing is not None and known is not None and known.config is not None
                and not self.recreate_reasons):
            # Ignored differences stay unapplied: config.json and the record keep what the container runs with.
            desired_existing = with_kept_paths(desired_existing, known.config, self.ignored.paths)
        final_status = self.converge(state, known, desired_existing, resources)
        if self.adopted and state and not self.recreate_reasons and final_status != 'absent' and not self.check_mode:
            record = known.record
            self.remember(state['created'], desired_existing, self.adopted['base'],
                          record.get('create_options') or self.create_options, record.get('replay_options'),
                          append_mounts=self.adopted['append_mounts'], resolved_users=self.existing_users)

        return self.result(state, final_status, before_config, desired_existing)

    def result(self, state, final_status, before_config, desired_existing, after_config=NOT_READ):
        final_state = state
        if self.changed and not self.check_mode:
            final_state = current_state(self.runc, self.container_id)
        result = dict(changed=self.changed, actions=self.actions(),
                      container=container_facts(final_state),
                      network=self.network_facts(final_status),
                      recreate_reasons=self.recreate_reasons,
                      supervision=self.supervisor.facts() if self.supervisor.wanted else None)
        if self.module._diff:
            if after_config is not NOT_READ:
                pass   # the supervised path knows what config.json now holds
            elif final_status == 'absent':
                after_config = None
            elif self.recreate_reasons or state is None:
                after_config = self.desired if self.desired is not None else before_config
            else:
                after_config = desired_existing if desired_existing is not None else before_config
            result['diff'] = dict(
                before=dict(status=state['status'] if state else 'absent', config=self.shown(before_config)),
                after=dict(status=final_status, config=self.shown(after_config)))
            if self.supervisor.involved:
                result['diff']['before']['unit'] = self.supervisor.text_before if self.supervisor.ours else None
                result['diff']['after']['unit'] = self.supervisor.text if self.supervisor.wanted else None
        return result

    # -- supervision (restart) -------------------------------------------------------------------

    def leave_supervision(self):
        """state=absent, or restart=no for a container a unit of ours runs: the unit goes first.

        Stopping the unit deletes the container (its ExecStopPost); then the
        task goes on as for any container: absent removes what is left, the
        other states make it again without a unit.
        """
        supervisor = self.supervisor
        state = self.current_state()
        if supervisor.runs(state) and self.params['state'] != 'absent':
            reason = 'restart: no; unit %s ran the container and is removed' % supervisor.name
            if self.params['recreate'] == 'never':
                raise TaskError('recreate: container %s would be made again (%s) and recreate is never'
                                % (self.container_id, reason))
            self.recreate_reasons.append(reason)
        before_config = self.disk_config_of(state)
        was_active = supervisor.active
        was_enabled = supervisor.shown.get('UnitFileState') == 'enabled'
        supervisor.remove()
        if was_active:
            # The stop deleted the container (would delete it, in check mode): what runc_containers listed is old.
            self.assume_absent = self.check_mode
            self.listed = NOT_READ
        try:
            result = self.manage_direct()
        except (RuncError, OSError, TaskError) as error:
            if self.check_mode or self.params['state'] == 'absent':
                raise
            # The container runc alone was to make failed: the unit of ours comes back, and with it the container.
            if current_state(self.runc, self.container_id) is None:
                self.restore_config()
                outcome = supervisor.reinstate(was_active, was_enabled)
            else:
                outcome = 'unit %s stays removed: a container of that id exists' % supervisor.name
            raise TaskError('%s; %s' % (self.described(error), outcome))
        if 'diff' in result:
            result['diff']['before'].update(status=state['status'] if state else 'absent',
                                            config=self.shown(before_config))
        return result

    def manage_supervised(self):
        """A container run by its unit: config.json and the unit as the task asks, then the unit's state."""
        supervisor = self.supervisor
        wanted = self.params['state']
        state = self.current_state()
        run_by_unit = supervisor.runs(state)
        unit_record = Record(self.root, self.container_id, path=supervisor.record_path)
        if run_by_unit:
            self.record = unit_record
        disk_config = self.disk_config_of(state)
        known = self.known_config(state, disk_config) if state else None
        desired_existing = self.desired_for_existing(known) if state else None
        before_config = (known.config if known else None) or disk_config or self.read_config()
        resources = self.plan_supervised(state, run_by_unit, known, desired_existing, disk_config)
        if resources is None:
            resources = {}
        elif self.ignored.paths and desired_existing is not None and known is not None and known.config is not None \
                and not self.recreate_reasons:
            # Ignored differences stay unapplied: config.json and the record keep what the container runs with.
            desired_existing = with_kept_paths(desired_existing, known.config, self.ignored.paths)
        config = desired_existing if run_by_unit and not self.recreate_reasons else self.desired
        shown = supervisor.shown
        was_enabled = shown.get('UnitFileState') == 'enabled'
        replaced = None    # a container made without the unit, deleted here: made again should the unit fail
        new_container = False
        try:
            if resources:
                self.update(resources, desired_existing, state, known)
            if state is not None and not run_by_unit:
                # Made without the unit (by hand, or before restart was set): stopped as the task says.
                if state['status'] in ALIVE:
                    self.stop()
                self.delete(force=state['status'] == 'created', replacing=True)
                replaced = state
            if writes_config(self.params):
                self.write_config(config)
            supervisor.write()
            if wanted == 'running':
                new_container = self.start_unit(state, run_by_unit, was_enabled)
            else:
                self.stop_unit()
            final_state = None if self.check_mode else current_state(self.runc, self.container_id)
            if wanted == 'stopped' and final_state is not None:
                # ExecStopPost could not delete it (its time ran out, say): the container is the unit's, ours.
                self.delete(force=True)
                final_state = None
            if wanted == 'running' and not self.check_mode and \
                    (final_state is None or final_state['status'] not in ALIVE):
                raise TaskError('restart: unit %s started, but container %s is %s right after; see journalctl '
                                '--unit %s' % (supervisor.name, self.container_id,
                                               final_state['status'] if final_state else 'absent', supervisor.name))
        except (RuncError, OSError, TaskError) as error:
            if self.check_mode:
                raise
            # config.json first: the unit put back starts the container from it.
            self.restore_config()
            outcome = supervisor.put_back(was_active=run_by_unit, was_enabled=was_enabled)
            message = '%s; %s' % (self.described(error), outcome)
            if replaced is not None:
                raise self.roll_back(replaced, known, TaskError(message))
            raise TaskError(message)
        if new_container and not self.check_mode:
            # The unit made the container from the task's config, over today's base.
            self.record = unit_record
            self.remember(final_state['created'], config,
                          (self.image_base if self.image_base is not None else self.default_spec.load())
                          if writes_config(self.params) else None)
        final_status = 'absent' if wanted == 'stopped' else (
            'running' if self.check_mode else final_state['status'])
        return self.result(state, final_status, before_config, desired_existing,
                           after_config=config if config is not None else before_config)

    def plan_supervised(self, state, run_by_unit, known, desired_existing, disk_config):
        """Fill recreate_reasons; the resources runc update must apply, None when nothing is compared."""
        supervisor = self.supervisor
        resources = None
        if state is not None and run_by_unit and self.params['state'] == 'running':
            resources = self.compare(state, desired_existing, known, disk_config)
            if supervisor.intent_changed():
                self.recreate_reasons.append('restart: unit %s makes the container from other options now (bundle, '
                                             'run flags, stdout_path, stderr_path or pid_file)' % supervisor.name)
            if resources and (self.recreate_reasons or state['status'] not in ALIVE):
                resources = {}
        elif state is not None and not run_by_unit:
            self.recreate_reasons.append('restart: container %s is not run by unit %s'
                                         % (self.container_id, supervisor.name))
        if state is not None and self.recreate_reasons and self.params['recreate'] == 'never':
            raise TaskError('recreate: container %s differs from the task (%s) and recreate is never'
                            % (self.container_id, '; '.join(self.recreate_reasons)))
        return resources

    def start_unit(self, state, run_by_unit, was_enabled):
        """Enable the unit and have it run the container; returns whether it makes a new one."""
        supervisor = self.supervisor
        if not was_enabled:
            supervisor.step('enable', supervisor.name)
        if supervisor.shown.get('ActiveState') == 'failed':
            # The start limit may have been hit: a task asking for the container starts it again.
            supervisor.step('reset-failed', supervisor.name)
        if not run_by_unit:
            supervisor.step('start', supervisor.name)
            return True
        if self.recreate_reasons:
            supervisor.step('restart', supervisor.name)
            return True
        if state['status'] == 'paused':
            self.simple('resume')
        return False

    def stop_unit(self):
        """Stop and disable the unit: its ExecStopPost deletes the container."""
        supervisor = self.supervisor
        if supervisor.enabled:
            supervisor.step('disable', supervisor.name)
        if supervisor.active:
            supervisor.step('stop', supervisor.name)
        if supervisor.shown.get('ActiveState') == 'failed' or (supervisor.active and not self.check_mode):
            # A stop by SIGKILL (stop_timeout 0) ends the unit failed: a stopped container is no failure.
            supervisor.quietly('reset-failed', supervisor.name)

    def shown(self, config):
        """A config as diff mode shows it: without the collection's digests, secret values masked."""
        if not config:
            return None
        recorded = cfg.secret_env_names(config)
        names = None if recorded is None else set(recorded) | set(self.params.get('secret_env') or {})
        return cfg.mask_env(cfg.without_own_annotations(config), names)


def container_facts(state):
    """What the module returns about a container (None when it does not exist)."""
    if state is None:
        return None
    return {key: state.get(key) for key in
            ('id', 'pid', 'status', 'bundle', 'rootfs', 'created', 'annotations', 'owner')}
