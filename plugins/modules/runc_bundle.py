#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: runc_bundle
short_description: Make an OCI runtime bundle from an image of the collection's image store
version_added: 0.2.0
description:
  - Makes O(path) a bundle (C(config.json) and a rootfs folder) of the image O(name):O(tag) of the store
    O(store), which M(oci_runtime.runc.runc_image) fills. M(oci_runtime.runc.runc_container) runs it, given
    O(path) as its C(bundle) and no config options.
  - C(umoci unpack) unpacks the image's layers (whiteouts, opaque folders, hard links, symbolic links
    pointing outside) into a new folder C(rootfs-<12 hex of the content id>-<8 random hex>) beside the rootfs
    in use. C(config.json) is switched to the new folder only once it is complete. The rootfs the previous
    C(config.json) pointed at is kept, for the container still running from it; older rootfs folders of the
    module are removed.
  - C(config.json) is the runtime's default spec (C(runc spec) at the bundle's last unpack, kept in
    C(.oci_runtime_runc.base-spec.json), so that a runtime upgrade changes nothing) with the image's settings
    laid over it as the OCI image-spec's conversion rules say. Entrypoint and Cmd become C(process.args) (without both, the
    default spec's C(sh) stays), Env is merged into C(process.env) by name over the default spec's C(PATH)
    (the default C(TERM) is dropped, the process has no terminal), WorkingDir becomes C(process.cwd) (default
    V(/)), User becomes C(process.user), with names looked up in the unpacked rootfs's C(/etc/passwd) and
    C(/etc/group) (symbolic links there resolved inside the rootfs). Labels, the platform, author and
    creation time become annotations; ExposedPorts becomes C(org.opencontainers.image.exposedPorts) (comma
    separated), StopSignal C(org.opencontainers.image.stopSignal); Volumes become mounts, see O(volumes).
    C(process.terminal) is false and C(root.readonly) false.
  - The annotations C(oci_runtime.runc.image-id) (the image's content id, see the collection's
    docs/images.md), C(oci_runtime.runc.image-ref) (O(name):O(tag)) and C(oci_runtime.runc.unpack-options)
    say what the bundle was made from. The same image content with the same options changes nothing and
    unpacks nothing, whatever the manifest digest.
  - The module marks a folder it makes a bundle of with a file C(.oci_runtime_runc.bundle). O(path) must be
    missing, empty, or marked; a folder holding anything else, or a C(config.json) the module did not write,
    is refused before anything changes.
author:
  - oci_runtime.runc developers (@oci-runtime)
extends_documentation_fragment:
  - oci_runtime.runc.runtime
attributes:
  check_mode:
    support: full
    description: Reads the image and the bundle, writes nothing; RV(actions) lists the umoci call that would run.
  diff_mode:
    support: none
    description: No diff; RV(bundle) and RV(annotations) say what the bundle was made from.
options:
  path:
    description:
      - Absolute path of the bundle folder. It is made (mode 0711) when missing; its parent folders too.
      - Must not be a symbolic link or V(/).
    type: path
    required: true
  name:
    description:
      - Image name in the store, for example V(library/busybox); the image is the OCI layout
        O(store)/O(name), which must carry the store's marker C(.oci_runtime_runc.store).
      - Failures about the image's content (a User naming nobody, a bad Volume, umoci refusing a layer)
        name this option.
      - Required when O(state=present); V(absent) needs only O(path).
    type: str
  tag:
    description: Tag of the image (a ref of its OCI layout).
    type: str
    default: latest
  store:
    description: The image store, one OCI layout per image name (see M(oci_runtime.runc.runc_image)).
    type: path
    default: /var/lib/oci-runtime-runc/images
  state:
    description:
      - V(present) O(path) is a bundle of the image's current content.
      - V(absent) removes what the module made at O(path) (C(config.json), its C(.oci_runtime_runc.*.json)
        files, its rootfs folders, the volume folders, the marker), and O(path) itself when nothing else is left (other files stay, with a
        warning). A folder without the marker holds nothing of the module's and is left alone, unchanged.
        A bundle a container of O(root) that is not stopped runs from is refused.
    type: str
    choices: [present, absent]
    default: present
  uid_map:
    description:
      - User id mappings C(container:host:size). umoci gives the files of the rootfs their host owners
        (C(--uid-map)), and C(config.json) gets C(linux.uidMappings) and a user namespace.
      - Needs O(gid_map). A change unpacks a new rootfs.
    type: list
    elements: str
  gid_map:
    description: Group id mappings C(container:host:size), like O(uid_map) (C(--gid-map), C(linux.gidMappings)).
    type: list
    elements: str
  volumes:
    description:
      - How the image's Volumes become mounts.
      - V(bind) a persistent folder per volume, O(path)C(/volumes/<destination, percent-escaped>), bind
        mounted (C(rbind), C(rw)). Each is made once, empty, with the owner and mode of the image's folder
        there, and kept across new image contents; only V(absent) removes them.
      - V(tmpfs) a fresh tmpfs per volume, emptied when the container stops.
    type: str
    choices: [bind, tmpfs]
    default: bind
  umoci_timeout:
    description: Seconds one umoci call may take before it is killed and the task fails; V(0) means no limit.
    type: float
    default: 600
notes:
  - O(rootless) V(true), or V(auto) when not run as root, also unpacks with C(umoci unpack --rootless) and
    bases C(config.json) on C(runc spec --rootless).
  - Needs umoci; the oci_runtime.runc.runtime role installs it.
  - runc_container runs the bundle as it is; it refuses to write its own config options over a
    C(config.json) of this module.
seealso:
  - module: oci_runtime.runc.runc_container
'''

EXAMPLES = r'''
- name: A bundle of busybox from the store
  oci_runtime.runc.runc_bundle:
    path: /srv/containers/web
    name: library/busybox
    tag: "1.36"

- name: Run it
  oci_runtime.runc.runc_container:
    name: web
    bundle: /srv/containers/web

- name: Unpacked for a user namespace, volumes on tmpfs
  oci_runtime.runc.runc_bundle:
    path: /srv/containers/mapped
    name: library/busybox
    uid_map: ["0:100000:65536"]
    gid_map: ["0:100000:65536"]
    volumes: tmpfs

- name: Remove the bundle and its volumes
  oci_runtime.runc.runc_bundle:
    path: /srv/containers/web
    state: absent
'''

RETURN = r'''
bundle:
  description: The bundle; RV(bundle.rootfs) is null in check mode when a new rootfs would be unpacked, and
    after V(absent).
  returned: always
  type: dict
  contains:
    path:
      description: The bundle folder.
      type: str
      sample: /srv/containers/web
    rootfs:
      description: The rootfs folder C(config.json) points at.
      type: str
      sample: /srv/containers/web/rootfs-3f1c0a9e2b7d-5e0c11aa
    content_id:
      description: The image's content id (docs/images.md).
      type: str
      sample: sha256:3f1c0a9e2b7d...
    image_ref:
      description: O(name):O(tag).
      type: str
      sample: library/busybox:1.36
process:
  description: The process object of C(config.json) (in check mode before a new unpack, a User name is
    given as C(username), unresolved).
  returned: always
  type: dict
  sample: {"args": ["sh"], "cwd": "/", "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
           "user": {"uid": 0, "gid": 0}, "terminal": false}
annotations:
  description: The annotations of C(config.json).
  returned: always
  type: dict
stop_signal:
  description: The image's StopSignal, null when it sets none.
  returned: always
  type: str
  sample: SIGINT
actions:
  description: The umoci commands that changed something, as argv lists; planned ones in check mode.
  returned: always
  type: list
  elements: list
  sample: [["umoci", "unpack", "--image", "/var/lib/oci-runtime-runc/images/library/busybox:1.36",
            "/srv/containers/web/.unpack-x1/bundle"]]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci_runtime.runc.plugins.module_utils._bundle import BundleManager
from ansible_collections.oci_runtime.runc.plugins.module_utils._options import BUNDLE, argument_spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(BUNDLE), supports_check_mode=True,
                           required_if=[('state', 'present', ['name'])])
    BundleManager(module).run()


if __name__ == '__main__':
    main()
