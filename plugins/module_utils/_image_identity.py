# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What makes two images the same image, and where the store keeps one (docs/images.md).

The manifest digest changes when an image moves between transports (a
registry, an oci: layout, an archive), so it cannot say whether two copies
hold the same thing. The image config's platform, layer diff_ids and runtime
config do not change: ``content_id`` is a digest of those.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os

# Every folder the collection makes in the store carries this file; nothing
# without it is ever written to or removed.
STORE_MARKER = '.oci_runtime_runc.store'
DEFAULT_STORE = '/var/lib/oci-runtime-runc/images'


class ImageNameError(ValueError):
    """An image name the store cannot hold."""


def content_id(image_config):
    """sha256 of the canonical JSON of what an image is: platform, layers and runtime config.

    ``image_config`` is the parsed config blob of the image (the JSON that
    ``skopeo inspect --config --raw`` prints and a manifest's config descriptor
    names).
    """
    if not isinstance(image_config, dict):
        raise ValueError('the image config is not a JSON object')
    rootfs = image_config.get('rootfs')
    diff_ids = rootfs.get('diff_ids') if isinstance(rootfs, dict) else None
    identity = {
        'architecture': image_config.get('architecture'),
        'os': image_config.get('os'),
        'diff_ids': list(diff_ids or []),
        'config': image_config.get('config') or {},
    }
    if image_config.get('variant'):
        identity['variant'] = image_config['variant']
    canonical = json.dumps(identity, sort_keys=True, separators=(',', ':'))
    return 'sha256:' + hashlib.sha256(canonical.encode('utf-8')).hexdigest()


# What runc_bundle writes in a bundle: the bundle folder's marker (nothing in a folder without it is
# touched), the config made from the image (kept beside config.json: runc_container lays a task's
# options over it, and once it has, config.json is runc_container's), the base spec it was made over
# (runc_bundle's alone), and two annotations of that config that runc_container reads too.
BUNDLE_MARKER = '.oci_runtime_runc.bundle'
IMAGE_CONFIG = '.oci_runtime_runc.image-config.json'
# The runtime's default spec the image config was composed over at unpack: composed over again until
# the next unpack, so that a runtime upgrade (another `runc spec`) changes no bundle and no container.
BASE_SPEC = '.oci_runtime_runc.base-spec.json'
ANNOTATION_IMAGE_ID = 'oci_runtime.runc.image-id'
ANNOTATION_STOP_SIGNAL = 'org.opencontainers.image.stopSignal'

# What an OCI image layout holds itself.
LAYOUT_ENTRIES = ('blobs', 'index.json', 'oci-layout')


def checked_store(store):
    """A store path skopeo and umoci read the same way: absolute, and no ':' (their references split at it)."""
    if not isinstance(store, str) or not os.path.isabs(store) or os.path.normpath(store) == '/':
        raise ImageNameError('%r is not an absolute path of a folder other than /' % (store,))
    if ':' in store or '\0' in store:
        raise ImageNameError('%r holds a ":", which skopeo and umoci read as the start of a tag' % (store,))
    return os.path.normpath(store)


def checked_image_name(name):
    """The name, when the store can hold it: relative, no empty, '.' or '..' parts, no ':' or '@'."""
    if not isinstance(name, str) or not name:
        raise ImageNameError('must be a non-empty string')
    if name.startswith('/'):
        raise ImageNameError('%r is absolute; give a name such as library/busybox' % name)
    for part in name.split('/'):
        if part in ('', '.', '..'):
            raise ImageNameError('%r has an empty, "." or ".." part' % name)
        if part in LAYOUT_ENTRIES or part.startswith('.'):
            # A name's layout must never sit inside another's (its blobs, or the collection's files).
            raise ImageNameError('%r has a part %r, which an image layout or the store uses itself' % (name, part))
    for character in (':', '@'):
        if character in name:
            raise ImageNameError('%r holds %r; give the tag in the tag option' % (name, character))
    if any(character.isspace() or character == '\0' for character in name):
        raise ImageNameError('%r holds white space or a NUL byte' % name)
    return name


def layout_path(store, name):
    """The OCI image layout folder of an image name in the store."""
    return os.path.join(store, *checked_image_name(name).split('/'))


@contextlib.contextmanager
def bundle_lock(path):
    """An exclusive flock on the bundle folder (on its parent while it does not exist yet).

    Two tasks on one bundle would otherwise prune each other's rootfs and
    unpack folders; runc_container takes it too while it writes config.json.
    """
    target = path if os.path.isdir(path) else os.path.dirname(path)
    descriptor = os.open(target, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC) if os.path.isdir(target) else None
    try:
        if descriptor is not None:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        if descriptor is not None:
            os.close(descriptor)
