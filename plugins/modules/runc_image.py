#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: runc_image
short_description: Keep an OCI image in the local image store, copied from a registry or a file with skopeo
version_added: 0.2.0
description:
  - V(present) makes sure the image O(name):O(tag) is in the store on the managed host, copying it from
    O(source) with C(skopeo copy) when it is missing (or, with O(pull=always), when the source holds
    another image). M(oci_runtime.runc.runc_bundle) makes runtime bundles from the store.
  - V(absent) removes the tag from the store, and the image's folder once no tag is left.
  - The store holds one OCI image layout per image name, C(<store>/<name>); tags are the layout's refs.
    Every folder the module makes there carries the marker file C(.oci_runtime_runc.store), and the
    module never writes to or removes a folder that holds other things without it.
  - An image is identified by its content (RV(image.content_id)), not its manifest digest, which
    changes between transports. A second run with the same source copies nothing.
  - A copy goes to a hidden layout in the store first; only once skopeo finished and the copy is the
    image the source described (content and platform) are its blobs moved in and the index replaced
    in one rename. A failed copy leaves the store as it was.
  - The runtime options of the action group are accepted so that C(module_defaults) for
    C(group/oci_runtime.runc.runc) work; this module does not call the runtime and ignores them.
author:
  - oci_runtime.runc developers (@oci-runtime)
extends_documentation_fragment:
  - oci_runtime.runc.runtime
attributes:
  check_mode:
    support: full
    description: Reads the store and the source (C(skopeo inspect)) and reports the copy that would run
      in RV(actions); writes nothing.
  diff_mode:
    support: full
    description: Before and after show the content id under the tag.
  action_group:
    description: Member of C(group/oci_runtime.runc.runc); the runtime options are accepted and ignored.
options:
  name:
    description:
      - Name of the image in the store, for example V(library/busybox). Relative; no empty, V(.) or
        V(..) parts, no V(:) or V(@).
    type: str
    required: true
  tag:
    description: Tag of the image in the store (the ref of the layout).
    type: str
    default: latest
  state:
    description:
      - V(present) the image is in the store under O(tag).
      - V(absent) O(tag) is not in the store. The layout folder goes when no tag is left in it, and only
        when it carries the marker.
    type: str
    choices: [present, absent]
    default: present
  store:
    description:
      - Absolute path of the image store. Created when missing.
      - It, and every folder of O(name) in it, must be missing, empty, or carry the marker file
        C(.oci_runtime_runc.store); anything else fails the task before anything is written.
    type: path
    default: /var/lib/oci-runtime-runc/images
  source:
    description:
      - Where to copy the image from, as a skopeo transport reference, for example
        V(docker://registry.example.com/library/busybox:1.36), V(oci:/srv/layouts/busybox:1.36),
        V(oci-archive:/srv/busybox.tar), V(docker-archive:/srv/busybox.tar) or V(dir:/srv/busybox).
      - Required for V(present) unless the image is in the store already and O(pull=missing).
    type: str
  pull:
    description:
      - V(missing) copies only when O(tag) is not in the store; the source is not contacted otherwise.
      - V(always) reads the source's image config each run and copies when its content id differs from
        the stored one.
    type: str
    choices: [missing, always]
    default: missing
  tls_verify:
    description: Require HTTPS and a valid certificate from a V(docker://) source. V(false) also allows
      plain HTTP.
    type: bool
    default: true
  username:
    description:
      - User name for a V(docker://) source; needs O(password).
      - The credentials go to skopeo in an authfile written with mode 0600 into a private temporary
        folder that is removed after the task, never on its command line.
    type: str
  password:
    description: Password for O(username). Never shown in results, messages or logs.
    type: str
  authfile:
    description: An existing containers-auth.json(5) file for a V(docker://) source (C(--src-authfile));
      instead of O(username) and O(password).
    type: path
  policy:
    description:
      - Signature policy file for skopeo (C(--policy)).
      - Without it, C(/etc/containers/policy.json) when it exists; otherwise a policy that accepts any
        image, written for this task into a private temporary folder.
    type: path
  platform:
    description:
      - C(os/arch) or C(os/arch/variant) of the image to copy, for example V(linux/arm64)
        (skopeo C(--override-os), C(--override-arch), C(--override-variant)).
      - Without it, the host's (V(linux) and the host's architecture). An image whose config names
        another platform fails the task, naming this option, before anything is written.
    type: str
  skopeo_path:
    description: The skopeo binary, a name looked up on E(PATH) or an absolute path.
    type: str
    default: skopeo
  skopeo_timeout:
    description: Seconds one skopeo call may take before it is killed and the task fails.
    type: float
    default: 600
notes:
  - Needs skopeo on the managed host; the collection's oci_runtime.runc.runtime role installs it.
seealso:
  - module: oci_runtime.runc.runc_bundle
'''

EXAMPLES = r'''
- name: Copy busybox from a registry into the store
  oci_runtime.runc.runc_image:
    name: library/busybox
    tag: "1.36"
    source: docker://registry.example.com/library/busybox:1.36

- name: Follow a moving tag of a private registry
  oci_runtime.runc.runc_image:
    name: apps/web
    source: docker://registry.example.com/apps/web:stable
    pull: always
    username: deploy
    password: "{{ vault_registry_password }}"

- name: Load an image from an archive, for another architecture
  oci_runtime.runc.runc_image:
    name: apps/web
    tag: arm64
    source: oci-archive:/srv/images/web-arm64.tar
    platform: linux/arm64

- name: Remove a tag
  oci_runtime.runc.runc_image:
    name: apps/web
    tag: arm64
    state: absent
'''

RETURN = r'''
image:
  description: The image under the tag after the task (the one that would be copied, in check mode); null
    when there is none.
  returned: always
  type: dict
  contains:
    name:
      description: Image name in the store.
      type: str
      sample: library/busybox
    tag:
      description: Tag.
      type: str
      sample: "1.36"
    store_path:
      description: The image's OCI layout folder.
      type: str
      sample: /var/lib/oci-runtime-runc/images/library/busybox
    content_id:
      description: The image's identity, the same through every transport (see docs/images.md).
      type: str
      sample: sha256:5b0f3a1e9c2d...
    manifest_digest:
      description: Digest of the manifest in the store; null in check mode before a copy.
      type: str
    config_digest:
      description: Digest of the image config blob in the store; null in check mode before a copy.
      type: str
    size:
      description: Bytes of the manifest, config and layer blobs in the store; null in check mode before a copy.
      type: int
    config:
      description: The C(config) object of the image config (Entrypoint, Cmd, Env, User, WorkingDir, ...).
      type: dict
    architecture:
      description: Architecture of the image.
      type: str
      sample: amd64
    os:
      description: Operating system of the image.
      type: str
      sample: linux
actions:
  description: The skopeo commands that changed the store, as argv lists (planned ones in check mode). They
    never hold credentials.
  returned: always
  type: list
  elements: list
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci_runtime.runc.plugins.module_utils._image import ImageTask
from ansible_collections.oci_runtime.runc.plugins.module_utils._options import IMAGE, argument_spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(IMAGE), supports_check_mode=True)
    ImageTask(module).run()


if __name__ == '__main__':
    main()
