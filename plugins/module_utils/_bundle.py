# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An OCI runtime bundle made from an image of the store (runc_bundle, docs/images.md).

umoci unpacks the image's layers into a new rootfs folder beside the one in
use; config.json is the runtime's default spec with the image's settings laid
over it as the OCI image-spec's conversion rules say, and is switched to the
new rootfs only once that is complete. Only what carries the module's marker
is ever changed or removed.
"""

from __future__ import annotations

import copy
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import stat
import subprocess
import tempfile
import urllib.parse
from dataclasses import dataclass
from typing import Dict, List, Optional

from ansible_collections.oci_runtime.runc.plugins.module_utils._image_identity import (
    ANNOTATION_IMAGE_ID,
    ANNOTATION_STOP_SIGNAL,
    BASE_SPEC,
    BUNDLE_MARKER,
    IMAGE_CONFIG,
    STORE_MARKER,
    ImageNameError,
    bundle_lock,
    checked_store,
    content_id,
    layout_path,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils._runc_root import DefaultSpec, write_atomically
from ansible_collections.oci_runtime.runc.plugins.module_utils._runtime_options import (
    effective_root,
    error_result,
    runc_from_params,
    runtime_fault,
    runtime_option_problem,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils.runc import RuncError

ANNOTATION_CONFIG_DIGEST = 'oci_runtime.runc.config-digest'
ANNOTATION_IMAGE_REF = 'oci_runtime.runc.image-ref'
# How the current rootfs was unpacked (rootless, id maps): a change needs a new unpack.
ANNOTATION_UNPACK = 'oci_runtime.runc.unpack-options'
ANNOTATION_EXPOSED_PORTS = 'org.opencontainers.image.exposedPorts'
# rootfs-<12 hex of the content id>-<8 random hex>: the folders the module unpacked.
ROOTFS_NAME = re.compile(r'^rootfs-[0-9a-f]{12}-[0-9a-f]{8}$')
UNPACK_PREFIX = '.unpack-'
VOLUMES_FOLDER = 'volumes'
TAG = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$')
DIGEST = re.compile(r'^sha256:([0-9a-f]{64})$')
ID_MAP = re.compile(r'^(\d+):(\d+):(\d+)$')
MANIFEST_TYPES = ('application/vnd.oci.image.manifest.v1+json',
                  'application/vnd.docker.distribution.manifest.v2+json')
MAX_BLOB = 16 * 1024 * 1024
MAX_ACCOUNT_FILE = 4 * 1024 * 1024
MAX_SYMLINKS = 40
# The runtime's default spec sets TERM for its terminal; a bundle's process has none.
DROPPED_BASE_ENV = ('TERM',)


class BundleError(Exception):
    """The task cannot be done; the message starts with the option at fault."""


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(',', ':'))


# -- options ---------------------------------------------------------------------------------

def parse_id_map(option, entries):
    """["container:host:size", ...] as runtime-spec mappings."""
    mappings = []
    for entry in entries or []:
        match = ID_MAP.match(entry or '')
        if not match or int(match.group(3)) == 0:
            raise BundleError('%s: %r is not container:host:size (numbers, size above 0)' % (option, entry))
        mappings.append({'containerID': int(match.group(1)), 'hostID': int(match.group(2)),
                         'size': int(match.group(3))})
    return mappings


def host_id(mappings, container_id):
    """The host id of a container id under mappings (itself without mappings; None when unmapped)."""
    if not mappings:
        return container_id
    for mapping in mappings:
        if mapping['containerID'] <= container_id < mapping['containerID'] + mapping['size']:
            return mapping['hostID'] + container_id - mapping['containerID']
    return None


# -- the image in the store ----------------------------------------------------------------------

@dataclass
class Image:
    ref: str                 # name:tag
    layout: str              # the OCI layout folder
    tag: str
    config: Dict
    content_id: str


def _read_blob(layout, digest, option, what):
    match = DIGEST.match(digest if isinstance(digest, str) else '')
    if not match:
        raise BundleError('%s: the %s digest %r of %s is not a sha256 digest' % (option, what, digest, layout))
    path = os.path.join(layout, 'blobs', 'sha256', match.group(1))
    try:
        with open(path, 'rb') as stream:
            blob = stream.read(MAX_BLOB + 1)
    except OSError as error:
        raise BundleError('%s: cannot read the %s of %s: %s' % (option, what, layout, error.strerror or error))
    if len(blob) > MAX_BLOB:
        raise BundleError('%s: the %s blob %s is larger than %d bytes' % (option, what, path, MAX_BLOB))
    if hashlib.sha256(blob).hexdigest() != match.group(1):
        raise BundleError('%s: the %s blob %s does not match its digest' % (option, what, path))
    try:
        parsed = json.loads(blob.decode('utf-8'))
    except ValueError as error:
        raise BundleError('%s: the %s blob %s is not JSON: %s' % (option, what, path, error))
    if not isinstance(parsed, dict):
        raise BundleError('%s: the %s blob %s is not a JSON object' % (option, what, path))
    return parsed


def read_image(store, name, tag):
    """The image name:tag of the store, from its layout's index, manifest and config blob."""
    if not tag or not TAG.match(tag):
        raise BundleError('tag: %r is not a tag (letters, digits, "_", "." and "-", at most 128)' % (tag,))
    try:
        layout = layout_path(store, name)
    except ImageNameError as error:
        raise BundleError('name: %s' % error)
    if not os.path.isdir(store):
        raise BundleError('store: %s is not a folder' % store)
    if not os.path.isfile(os.path.join(layout, 'oci-layout')):
        raise BundleError('name: the store %s has no image %s (no OCI layout at %s)' % (store, name, layout))
    if not os.path.isfile(os.path.join(layout, STORE_MARKER)):
        raise BundleError('name: %s is not an image of the collection\'s store (it has no %s)'
                          % (layout, STORE_MARKER))
    try:
        with open(os.path.join(layout, 'index.json')) as stream:
            index = json.load(stream)
    except (OSError, ValueError) as error:
        raise BundleError('name: cannot read the index of %s: %s' % (layout, error))
    manifests = index.get('manifests') if isinstance(index, dict) else None
    if not isinstance(manifests, list):
        raise BundleError('name: the index of %s lists no manifests' % layout)
    tags = []
    found = []
    for descriptor in manifests:
        ref = ((descriptor.get('annotations') or {}).get('org.opencontainers.image.ref.name')
               if isinstance(descriptor, dict) else None)
        if isinstance(ref, str):
            tags.append(ref)
            if ref == tag:
                found.append(descriptor)
    if not found:
        raise BundleError('tag: %s has no tag %s in the store %s (its tags: %s)'
                          % (name, tag, store, ', '.join(sorted(tags)) or 'none'))
    if len(found) > 1:
        raise BundleError('tag: %s:%s names %d manifests in %s; it must name one' % (name, tag, len(found), layout))
    if found[0].get('mediaType') not in MANIFEST_TYPES:
        raise BundleError('tag: %s:%s is a %s, not an image manifest; copy one platform\'s image into the store'
                          % (name, tag, found[0].get('mediaType')))
    manifest = _read_blob(layout, found[0].get('digest'), 'tag', 'manifest')
    config_descriptor = manifest.get('config')
    if not isinstance(config_descriptor, dict):
        raise BundleError('tag: the manifest of %s:%s names no config' % (name, tag))
    image_config = _read_blob(layout, config_descriptor.get('digest'), 'tag', 'image config')
    if not isinstance(image_config.get('config') or {}, dict):
        raise BundleError('tag: the image config of %s:%s has a config that is not an object' % (name, tag))
    return Image(ref='%s:%s' % (name, tag), layout=layout, tag=tag, config=image_config,
                 content_id=content_id(image_config))


# -- files inside a rootfs -----------------------------------------------------------------------

def resolve_in_rootfs(rootfs, path):
    """The host path of a path inside rootfs, symbolic links resolved as if rootfs were /.

    A link pointing at /etc means rootfs/etc, and '..' stops at rootfs: an
    image's links never lead the module outside it. The last part may be
    missing; it is never a link.
    """
    pending = [part for part in path.split('/') if part]
    resolved = []
    followed = 0
    while pending:
        part = pending.pop(0)
        if part == '.':
            continue
        if part == '..':
            if resolved:
                resolved.pop()
            continue
        candidate = os.path.join(rootfs, *resolved, part)
        if os.path.islink(candidate):
            followed += 1
            if followed > MAX_SYMLINKS:
                raise OSError('too many levels of symbolic links below %s' % rootfs)
            target = os.readlink(candidate)
            if target.startswith('/'):
                resolved = []
            pending = [item for item in target.split('/') if item] + pending
            continue
        resolved.append(part)
    return os.path.join(rootfs, *resolved)


def read_rootfs_file(rootfs, path):
    """Text of a regular file inside rootfs (links resolved inside it), None when missing."""
    host_path = resolve_in_rootfs(rootfs, path)
    try:
        descriptor = os.open(host_path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    with os.fdopen(descriptor, 'rb') as stream:
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            return None
        return stream.read(MAX_ACCOUNT_FILE).decode('utf-8', 'replace')


def _account_entries(text, fields):
    for line in (text or '').splitlines():
        if not line or line.startswith('#'):
            continue
        parts = line.split(':')
        if len(parts) >= fields:
            yield parts


def _number(text):
    return int(text) if text.isdigit() else None


def resolve_user(image_user, rootfs, image_ref):
    """process.user of an image's User ("user", "user:group", "uid", "uid:gid"; empty: root).

    Names come from the rootfs's /etc/passwd and /etc/group. Without a
    group, the user's primary group and the groups listing it in /etc/group
    apply.
    """
    image_user = image_user or ''
    user_part, group_part = (image_user.split(':', 1) + [''])[:2]
    passwd = read_rootfs_file(rootfs, '/etc/passwd')
    users = [(parts[0], _number(parts[2]), _number(parts[3])) for parts in _account_entries(passwd, 7)]
    entry = None
    if not user_part:
        uid = 0
    else:
        entry = next((item for item in users if item[0] == user_part), None)
        if entry is None and _number(user_part) is not None:
            uid = _number(user_part)
            entry = next((item for item in users if item[1] == uid), None)
        elif entry is None:
            raise BundleError('name: the image %s runs as User %r, but %r names nobody in its /etc/passwd'
                              % (image_ref, image_user, user_part))
        else:
            uid = entry[1]
        if uid is None:
            raise BundleError('name: the image %s runs as User %r, whose /etc/passwd entry has no numeric uid'
                              % (image_ref, image_user))
    groups = list(_account_entries(read_rootfs_file(rootfs, '/etc/group'), 4))
    user = {'uid': uid}
    if group_part:
        if _number(group_part) is not None:
            user['gid'] = _number(group_part)
        else:
            group = next((parts for parts in groups if parts[0] == group_part), None)
            if group is None or _number(group[2]) is None:
                raise BundleError('name: the image %s runs as User %r, but %r names no group in its /etc/group'
                                  % (image_ref, image_user, group_part))
            user['gid'] = _number(group[2])
        return user
    user['gid'] = entry[2] if entry is not None and entry[2] is not None else 0
    if entry is not None:
        additional = sorted({_number(parts[2]) for parts in groups
                             if entry[0] in parts[3].split(',') and _number(parts[2]) is not None} - {user['gid']})
        if additional:
            user['additionalGids'] = additional
    return user


# -- the config ------------------------------------------------------------------------------

def image_volumes(image):
    """The image's Volumes, normalized, sorted; a bad one is refused."""
    volumes = (image.config.get('config') or {}).get('Volumes') or {}
    if not isinstance(volumes, dict):
        raise BundleError('name: the image %s has Volumes that are not an object' % image.ref)
    destinations = []
    for destination in volumes:
        normalized = os.path.normpath(destination) if isinstance(destination, str) else ''
        if not normalized.startswith('/') or normalized == '/' or '..' in normalized.split('/') \
                or '\0' in normalized:
            raise BundleError('name: the image %s has a Volume %r that is not an absolute folder path'
                              % (image.ref, destination))
        destinations.append(normalized)
    return sorted(set(destinations))


def volume_folder(bundle, destination):
    """<bundle>/volumes/<destination, escaped>: one folder per destination, never two for one."""
    return os.path.join(bundle, VOLUMES_FOLDER, urllib.parse.quote(destination.strip('/'), safe=''))


def _merge_env(base, image_env):
    names = {}
    merged = []
    for item in list(base) + list(image_env):
        name = item.split('=', 1)[0]
        if name in names:
            merged[names[name]] = item
        else:
            names[name] = len(merged)
            merged.append(item)
    return merged


def convert(base_spec, image, user, bundle, rootfs_name, volumes_mode, uid_map, gid_map, unpack_options):
    """config.json of the bundle: the runtime's default spec with the image's settings (image-spec conversion)."""
    settings = image.config.get('config') or {}
    config = copy.deepcopy(base_spec)
    process = config.setdefault('process', {})
    process['terminal'] = False
    args = list(settings.get('Entrypoint') or []) + list(settings.get('Cmd') or [])
    if args:
        process['args'] = args
    base_env = [item for item in process.get('env') or [] if item.split('=', 1)[0] not in DROPPED_BASE_ENV]
    process['env'] = _merge_env(base_env, settings.get('Env') or [])
    process['cwd'] = settings.get('WorkingDir') or '/'
    process['user'] = user
    config['root'] = {'path': rootfs_name, 'readonly': False}

    annotations = dict(config.get('annotations') or {})
    for key, field in (('org.opencontainers.image.os', 'os'),
                       ('org.opencontainers.image.architecture', 'architecture'),
                       ('org.opencontainers.image.variant', 'variant'),
                       ('org.opencontainers.image.author', 'author'),
                       ('org.opencontainers.image.created', 'created')):
        if isinstance(image.config.get(field), str) and image.config[field]:
            annotations[key] = image.config[field]
    labels = settings.get('Labels') or {}
    annotations.update({key: str(value) for key, value in labels.items()})
    ports = settings.get('ExposedPorts') or {}
    if ports:
        annotations[ANNOTATION_EXPOSED_PORTS] = ','.join(sorted(ports))
    if settings.get('StopSignal'):
        annotations[ANNOTATION_STOP_SIGNAL] = settings['StopSignal']
    annotations[ANNOTATION_IMAGE_ID] = image.content_id
    annotations[ANNOTATION_IMAGE_REF] = image.ref
    annotations[ANNOTATION_UNPACK] = canonical(unpack_options)
    config['annotations'] = annotations

    volumes = image_volumes(image)
    mounts = [mount for mount in config.get('mounts') or [] if mount.get('destination') not in volumes]
    for destination in volumes:
        if volumes_mode == 'tmpfs':
            mounts.append({'destination': destination, 'type': 'tmpfs', 'source': 'tmpfs',
                           'options': ['nosuid', 'nodev', 'mode=755']})
        else:
            mounts.append({'destination': destination, 'type': 'bind',
                           'source': volume_folder(bundle, destination), 'options': ['rbind', 'rw']})
    config['mounts'] = mounts

    if uid_map or gid_map:
        linux = config.setdefault('linux', {})
        linux['uidMappings'] = uid_map
        linux['gidMappings'] = gid_map
        namespaces = linux.setdefault('namespaces', [])
        if not any(namespace.get('type') == 'user' for namespace in namespaces):
            namespaces.append({'type': 'user'})
    return config


# -- umoci ---------------------------------------------------------------------------------------

class Umoci:
    """umoci through argv lists, with a time limit; every call that writes is kept in ``mutations_run``."""

    def __init__(self, timeout):
        self.timeout = timeout if timeout and timeout > 0 else None
        self.mutations_run: List[List[str]] = []

    @staticmethod
    def unpack_argv(image, bundle, rootless, uid_map, gid_map):
        argv = ['umoci', 'unpack']
        if rootless:
            argv.append('--rootless')
        for option, entries in (('--uid-map', uid_map), ('--gid-map', gid_map)):
            for mapping in entries:
                argv += [option, '%(containerID)d:%(hostID)d:%(size)d' % mapping]
        return argv + ['--image', '%s:%s' % (image.layout, image.tag), bundle]

    def run(self, argv, option):
        self.mutations_run.append(list(argv))
        try:
            completed = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                       errors='replace', timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired:
            raise BundleError('umoci_timeout: %s took longer than %s seconds and was killed'
                              % (' '.join(argv[:2]), self.timeout))
        except OSError as error:
            raise BundleError('%s: cannot run umoci: %s (install umoci; the oci_runtime.runc.runtime role does)'
                              % (option, error.strerror or error))
        if completed.returncode != 0:
            said = (completed.stderr or completed.stdout or '').strip()
            raise BundleError('%s: umoci says: %s' % (option, said[-4000:] or 'exit status %d' % completed.returncode))
        return completed


# -- the bundle folder -----------------------------------------------------------------------------

@dataclass
class BundleState:
    """What is at path now."""
    exists: bool
    ours: bool                      # carries the marker
    config: Optional[Dict]          # config.json, when the module wrote one
    rootfs_name: Optional[str]      # the rootfs folder config.json points at, when it exists
    image_config: Optional[Dict] = None   # the config made from the image (IMAGE_CONFIG), when there is one
    base_spec: Optional[Dict] = None      # the default spec of its last unpack (BASE_SPEC), when it is sound
    base_spec_unsound: bool = False       # a BASE_SPEC is there but damaged, or of another unpack


def _write_atomically(path, text):
    write_atomically(path, text, mode=0o644, prefix='.%s.' % os.path.basename(path), suffix='')


def _read_own_json(path):
    """A JSON object the module wrote in the bundle, or None when it is missing, a link or unreadable."""
    if not os.path.isfile(path) or os.path.islink(path):
        return None
    try:
        with open(path) as stream:
            value = json.load(stream)
    except (OSError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _spec_digest(spec):
    return 'sha256:' + hashlib.sha256(json.dumps(spec, sort_keys=True, separators=(',', ':')).encode()).hexdigest()


def base_spec_entry(spec, rootfs_name):
    """What BASE_SPEC holds: the spec, the rootfs of the unpack it belongs to, and a digest of both."""
    return {'rootfs': rootfs_name, 'spec': spec, 'digest': _spec_digest([rootfs_name, spec])}


def sound_base_spec(entry, rootfs_name):
    """The spec of a BASE_SPEC entry when it is whole and belongs to that rootfs, else None.

    A damaged or hand-edited file, or one a killed unpack wrote for a rootfs that never
    became current, is not composed over: the runtime's spec of today is.
    """
    if not isinstance(entry, dict) or not isinstance(entry.get('spec'), dict) or entry.get('rootfs') != rootfs_name:
        return None
    return entry['spec'] if entry.get('digest') == _spec_digest([rootfs_name, entry['spec']]) else None


def _remove(path):
    if os.path.islink(path) or not os.path.isdir(path):
        os.unlink(path)
    else:
        shutil.rmtree(path)


class BundleManager:
    """Reads what is at path and the image, compares, and makes the bundle what the task asks."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.check_mode = module.check_mode
        self.runc = runc_from_params(self.params)
        self.umoci = Umoci(self.params['umoci_timeout'])
        self.planned: List[List[str]] = []
        self.warnings: List[str] = []
        self.path = None
        self.configs_written = False

    # -- input ---------------------------------------------------------------------------

    def validate(self):
        params = self.params
        problem = runtime_option_problem(params)
        if problem:
            raise BundleError(problem)
        path = params['path']
        if not path or not os.path.isabs(path):
            raise BundleError('path: %r is not an absolute path' % (path,))
        self.path = os.path.normpath(path)
        if self.path == '/':
            raise BundleError('path: / cannot be a bundle')
        if os.path.islink(self.path):
            raise BundleError('path: %s is a symbolic link; give the folder itself' % self.path)
        if os.path.lexists(self.path) and not os.path.isdir(self.path):
            raise BundleError('path: %s exists and is not a folder' % self.path)
        # runc reports bundles by their real paths: so must the comparisons with them.
        self.path = os.path.realpath(self.path)
        try:
            checked_store(params['store'])
        except ImageNameError as error:
            raise BundleError('store: %s' % error)
        self.uid_map = parse_id_map('uid_map', params['uid_map'])
        self.gid_map = parse_id_map('gid_map', params['gid_map'])
        if bool(self.uid_map) != bool(self.gid_map):
            raise BundleError('%s: needed with %s; a user namespace maps both'
                              % (('gid_map', 'uid_map') if self.uid_map else ('uid_map', 'gid_map')))
        rootless = params['rootless']
        self.rootless = rootless == 'true' or (rootless == 'auto' and os.geteuid() != 0)
        self.unpack_options = {'rootless': self.rootless, 'uid_map': self.uid_map, 'gid_map': self.gid_map}

    def read_state(self):
        """What is at path; a folder holding what the module did not make is refused."""
        if not os.path.lexists(self.path):
            return BundleState(False, False, None, None)
        ours = os.path.isfile(os.path.join(self.path, BUNDLE_MARKER))
        if not ours:
            entries = sorted(os.listdir(self.path))
            # Removing: nothing of the module's is there, which is what absent asks.
            if entries and self.params['state'] == 'present':
                shown = ', '.join(entries[:5]) + (', ...' if len(entries) > 5 else '')
                raise BundleError('path: %s holds files that runc_bundle did not make (%s; no %s); they are '
                                  'left alone: give an empty or new folder' % (self.path, shown, BUNDLE_MARKER))
            return BundleState(True, False, None, None)
        config_path = os.path.join(self.path, 'config.json')
        config = None
        if os.path.lexists(config_path):
            try:
                if os.path.islink(config_path) or not os.path.isfile(config_path):
                    raise ValueError('not a regular file')
                with open(config_path) as stream:
                    config = json.load(stream)
            except (OSError, ValueError, RecursionError) as error:
                raise BundleError('path: %s cannot be read (%s); it is left alone' % (config_path, error))
            annotations = config.get('annotations') if isinstance(config, dict) else None
            if not isinstance(annotations, dict) or ANNOTATION_IMAGE_ID not in annotations:
                raise BundleError('path: %s was not written by runc_bundle (no %s annotation); it is left alone'
                                  % (config_path, ANNOTATION_IMAGE_ID))
        # Either is made again below when it is missing or unreadable.
        image_config = _read_own_json(os.path.join(self.path, IMAGE_CONFIG))
        # What the module made is compared with what it would make, not with a config.json
        # runc_container has laid a task's options over since.
        made = image_config if isinstance(image_config, dict) else config
        rootfs_name = ((made or {}).get('root') or {}).get('path')
        if not (isinstance(rootfs_name, str) and ROOTFS_NAME.match(rootfs_name)
                and os.path.isdir(os.path.join(self.path, rootfs_name))
                and not os.path.islink(os.path.join(self.path, rootfs_name))):
            rootfs_name = None
        base_spec_path = os.path.join(self.path, BASE_SPEC)
        base_spec = sound_base_spec(_read_own_json(base_spec_path), rootfs_name)
        return BundleState(True, True, made, rootfs_name, image_config, base_spec,
                           base_spec is None and os.path.lexists(base_spec_path))

    # -- acting --------------------------------------------------------------------------

    def actions(self):
        return self.planned if self.check_mode else self.umoci.mutations_run

    def wrote(self):
        """Whether the task changed the host before it failed (a failed unpack takes back what it made)."""
        return not self.check_mode and self.configs_written

    def present(self, state):
        store = self.params['store']
        if not os.path.isdir(store):
            raise BundleError('store: %s is not a folder' % store)
        # runc_image writes under an exclusive lock on the store: read and unpack under a shared one.
        store_lock = os.open(store, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            fcntl.flock(store_lock, fcntl.LOCK_SH)
            return self.present_locked(state)
        finally:
            os.close(store_lock)

    def present_locked(self, state):
        image = read_image(self.params['store'], self.params['name'], self.params['tag'])
        current = state.config or {}
        annotations = current.get('annotations') or {}
        needs_unpack = not (state.rootfs_name
                            and annotations.get(ANNOTATION_IMAGE_ID) == image.content_id
                            and annotations.get(ANNOTATION_UNPACK) == canonical(self.unpack_options))
        image_volumes(image)   # a bad Volume is refused before anything is unpacked
        default_spec = DefaultSpec(self.runc, effective_root(self.params), rootless=self.rootless)
        # Until the next unpack the bundle is composed over the spec of its last one: a runtime
        # upgraded or switched underneath it changes neither the bundle nor its containers.
        base_spec = state.base_spec if state.base_spec is not None and not needs_unpack else default_spec.load()
        if state.base_spec_unsound and not needs_unpack:
            self.warnings.append('%s is damaged or of another unpack; the runtime\'s default spec of today is the '
                                 'base, and it is written again' % os.path.join(self.path, BASE_SPEC))
        settings = image.config.get('config') or {}
        changed = False
        if not self.check_mode:
            # Under the bundle's lock: an unpack folder here is one a killed task left.
            for entry in os.listdir(self.path) if state.ours else []:
                leftover = os.path.join(self.path, entry)
                if entry.startswith(UNPACK_PREFIX) and os.path.isdir(leftover) and not os.path.islink(leftover):
                    shutil.rmtree(leftover)
        if not needs_unpack:
            rootfs_name = state.rootfs_name
            # The user was resolved from the rootfs as unpacked, before any container ran in it: a
            # container rewriting its own /etc/passwd must not choose the uid of its next re-creation.
            stored_user = ((state.image_config or {}).get('process') or {}).get('user')
            if isinstance(stored_user, dict) and isinstance(stored_user.get('uid'), int):
                user = dict(stored_user)
            else:
                user = resolve_user(settings.get('User'), os.path.join(self.path, rootfs_name), image.ref)
            desired = convert(base_spec, image, user, self.path, rootfs_name, self.params['volumes'],
                              self.uid_map, self.gid_map, self.unpack_options)
            missing_volumes = self.missing_volumes(image)
            if desired != current or missing_volumes:
                changed = True
                if not self.check_mode:
                    self.make_volumes(image, os.path.join(self.path, rootfs_name))
                    self.write_configs(desired, base_spec, rootfs_name)
                    default_spec.store()
            elif state.base_spec is None and not self.check_mode:
                # A bundle of an earlier version (or with a damaged file) learns the base it matches,
                # which changes nothing it runs with.
                _write_atomically(os.path.join(self.path, BASE_SPEC),
                                  json.dumps(base_spec_entry(base_spec, rootfs_name), indent=2))
        elif self.check_mode:
            changed = True
            rootfs_name = None
            self.planned.append(Umoci.unpack_argv(image, os.path.join(self.path, UNPACK_PREFIX + 'XXXXXX', 'bundle'),
                                                  self.rootless, self.uid_map, self.gid_map))
            user = resolve_user(settings.get('User'), '/nonexistent', image.ref) \
                if _numeric_user(settings.get('User')) else {'username': settings.get('User')}
            desired = convert(base_spec, image, user, self.path, 'rootfs-%s-XXXXXXXX' % image.content_id[7:19],
                              self.params['volumes'], self.uid_map, self.gid_map, self.unpack_options)
        else:
            changed = True
            desired, rootfs_name = self.unpack(state, image, base_spec)
            default_spec.store()
        process = desired.get('process') or {}
        desired_annotations = desired.get('annotations') or {}
        return dict(
            changed=changed,
            actions=self.actions(),
            bundle={'path': self.path,
                    'rootfs': os.path.join(self.path, rootfs_name) if rootfs_name else None,
                    'content_id': image.content_id, 'image_ref': image.ref},
            process=process,
            annotations=desired_annotations,
            stop_signal=desired_annotations.get(ANNOTATION_STOP_SIGNAL),
        )

    def unpack(self, state, image, base_spec):
        """A new rootfs beside the current one; config.json switched to it once it is complete."""
        created = not state.exists
        if created:
            os.makedirs(self.path, mode=0o711)
        temporary = None
        new_rootfs = None
        try:
            if not state.ours:
                _write_atomically(os.path.join(self.path, BUNDLE_MARKER),
                                  'made by oci_runtime.runc.runc_bundle; do not remove\n')
            # umoci refuses a folder holding config.json: unpack into a fresh one inside path.
            temporary = tempfile.mkdtemp(prefix=UNPACK_PREFIX, dir=self.path)
            unpacked = os.path.join(temporary, 'bundle')
            self.umoci.run(Umoci.unpack_argv(image, unpacked, self.rootless, self.uid_map, self.gid_map), 'name')
            settings = image.config.get('config') or {}
            user = resolve_user(settings.get('User'), os.path.join(unpacked, 'rootfs'), image.ref)
            rootfs_name = 'rootfs-%s-%s' % (image.content_id[7:19], secrets.token_hex(4))
            new_rootfs = os.path.join(self.path, rootfs_name)
            os.rename(os.path.join(unpacked, 'rootfs'), new_rootfs)
            desired = convert(base_spec, image, user, self.path, rootfs_name, self.params['volumes'],
                              self.uid_map, self.gid_map, self.unpack_options)
            self.make_volumes(image, new_rootfs)
            self.write_configs(desired, base_spec, rootfs_name)
        except BaseException:
            if created:
                shutil.rmtree(self.path, ignore_errors=True)
            else:
                for leftover in (temporary, new_rootfs):
                    if leftover and os.path.lexists(leftover):
                        shutil.rmtree(leftover, ignore_errors=True)
            raise
        shutil.rmtree(temporary, ignore_errors=True)
        self.prune(keep={rootfs_name, state.rootfs_name})
        return desired, rootfs_name

    def write_configs(self, desired, base_spec, rootfs_name):
        """The image's config and its base beside config.json, and config.json itself unless runc_container owns it."""
        config_path = os.path.join(self.path, 'config.json')
        try:
            with open(config_path) as stream:
                current = json.load(stream)
        except (OSError, ValueError, RecursionError):
            current = None
        text = json.dumps(desired, indent=2)
        self.configs_written = True
        # Bound to the rootfs: one a killed unpack wrote before config.json switched is not sound.
        _write_atomically(os.path.join(self.path, BASE_SPEC),
                          json.dumps(base_spec_entry(base_spec, rootfs_name), indent=2))
        _write_atomically(os.path.join(self.path, IMAGE_CONFIG), text)
        owned_by_container = isinstance(current, dict) and ANNOTATION_CONFIG_DIGEST in (current.get('annotations') or {})
        if not owned_by_container:
            _write_atomically(config_path, text)

    def prune(self, keep):
        """Remove the module's rootfs folders but the ones kept, and unpack folders a killed run left.

        A rootfs a container of the runc root still runs from is kept too, with a warning.
        """
        in_use = {}
        for container in self.runc.list():
            if container.get('status') != 'stopped' and isinstance(container.get('rootfs'), str):
                in_use[os.path.normpath(container['rootfs'])] = container['id']
        for entry in sorted(os.listdir(self.path)):
            full = os.path.join(self.path, entry)
            if entry in keep or os.path.islink(full) or not os.path.isdir(full):
                continue
            if full in in_use:
                self.warnings.append('%s is kept: container %s still runs from it' % (full, in_use[full]))
                continue
            if ROOTFS_NAME.match(entry) or entry.startswith(UNPACK_PREFIX):
                shutil.rmtree(full)

    def missing_volumes(self, image):
        if self.params['volumes'] != 'bind':
            return []
        return [destination for destination in image_volumes(image)
                if not os.path.isdir(volume_folder(self.path, destination))]

    def make_volumes(self, image, rootfs):
        """The persistent folders of bind volumes; made once, with the owner and mode of the image's folder."""
        if self.params['volumes'] != 'bind':
            return
        for destination in self.missing_volumes(image):
            parent = os.path.join(self.path, VOLUMES_FOLDER)
            if not os.path.isdir(parent):
                os.mkdir(parent, 0o755)
            folder = volume_folder(self.path, destination)
            inside = resolve_in_rootfs(rootfs, destination)
            try:
                image_folder = os.lstat(inside)
            except FileNotFoundError:
                image_folder = None
            if image_folder is not None and stat.S_ISDIR(image_folder.st_mode):
                owner, group, mode = image_folder.st_uid, image_folder.st_gid, stat.S_IMODE(image_folder.st_mode)
            else:
                owner, group, mode = host_id(self.uid_map, 0), host_id(self.gid_map, 0), 0o755
            os.mkdir(folder, 0o700)
            os.chown(folder, owner if owner is not None else 0, group if group is not None else 0)
            os.chmod(folder, mode)

    def containers_using(self):
        """Containers of the runc root that are not stopped and run from path."""
        using = []
        for container in self.runc.list():
            if os.path.normpath(container.get('bundle') or '') == self.path and container.get('status') != 'stopped':
                using.append('%s (%s)' % (container['id'], container['status']))
        return using

    def absent(self, state):
        if not state.exists or not state.ours:
            return dict(changed=False, actions=[], bundle={'path': self.path, 'rootfs': None, 'content_id': None,
                                                           'image_ref': None},
                        process={}, annotations={}, stop_signal=None)
        using = self.containers_using()
        if using:
            raise BundleError('path: %s is the bundle of %s; remove the container first'
                              % (self.path, ', '.join(using)))
        annotations = (state.config or {}).get('annotations') or {}
        if not self.check_mode:
            for entry in sorted(os.listdir(self.path)):
                full = os.path.join(self.path, entry)
                if entry in ('config.json', IMAGE_CONFIG, BASE_SPEC, VOLUMES_FOLDER) or ROOTFS_NAME.match(entry) \
                        or entry.startswith(UNPACK_PREFIX):
                    _remove(full)
            _remove(os.path.join(self.path, BUNDLE_MARKER))
            left = sorted(os.listdir(self.path))
            if left:
                self.warnings.append('%s keeps files runc_bundle did not make: %s' % (self.path, ', '.join(left)))
            else:
                os.rmdir(self.path)
        return dict(changed=True, actions=[],
                    bundle={'path': self.path, 'rootfs': None, 'content_id': annotations.get(ANNOTATION_IMAGE_ID),
                            'image_ref': annotations.get(ANNOTATION_IMAGE_REF)},
                    process={}, annotations={}, stop_signal=None)

    def run(self):
        try:
            self.validate()
            with bundle_lock(self.path):
                state = self.read_state()
                if self.params['state'] == 'absent':
                    result = self.absent(state)
                else:
                    result = self.present(state)
        except BundleError as error:
            self.module.fail_json(msg=str(error), changed=self.wrote(), actions=self.actions())
        except RuncError as error:
            self.module.fail_json(msg=runtime_fault(error, 'runtime_path'), changed=self.wrote(), actions=self.actions(),
                                  **error_result(error))
        except OSError as error:
            self.module.fail_json(msg='path: %s' % error, changed=self.wrote(), actions=self.actions())
        except (TypeError, AttributeError, KeyError, ValueError) as error:
            # An image config of another shape than the image-spec's (a User that is not a string, say).
            self.module.fail_json(msg='name: the image\'s config has another shape than the OCI image-spec\'s (%s)'
                                  % type(error).__name__, changed=self.wrote(), actions=self.actions())
        if self.warnings:
            result['warnings'] = self.warnings
        self.module.exit_json(**result)


def _numeric_user(image_user):
    user_part, group_part = ((image_user or '').split(':', 1) + [''])[:2]
    return (not user_part or user_part.isdigit()) and (not group_part or group_part.isdigit())
