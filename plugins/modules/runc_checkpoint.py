#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: runc_checkpoint
short_description: Checkpoint a running OCI container to disk with CRIU, or restore it from there
version_added: 0.1.0
description:
  - V(checkpointed) saves a running container to an image folder with C(runc checkpoint) (CRIU). The
    image is written to a hidden folder beside O(image_path) and moved there only when CRIU succeeded,
    so O(image_path) never holds half an image. On failure the partial folder is removed and the
    container keeps running.
  - Once CRIU made a complete image, it is never removed. If it cannot be moved to O(image_path), the
    task fails and its message says where the new image, the earlier image and the container are.
    Every failure's message says what is where, never more than happened.
  - Hidden folders that a run killed halfway left beside O(image_path) (C(.NAME.partial-*) and
    C(.NAME.previous-*) carrying the marker file, see O(image_path)) are removed once a checkpoint to
    O(image_path) succeeds; a complete image among them is kept, with a warning.
  - A run killed after CRIU succeeded leaves the container gone and its image complete in a
    C(.NAME.partial-*) folder. When the container is absent or stopped and O(image_path) holds
    nothing, the next run moves the one such folder whose marker names the container to
    O(image_path), which finishes that checkpoint (changed, with a warning); several fail, named.
  - The checkpoint's runc gets the parent-death signal C(SIGKILL), so it dies with a killed module;
    CRIU then fails the dump when it next reports to runc and lets the container run on.
  - While a checkpoint writes O(image_path), a lock file C(.oci_runtime_runc.NAME.lock) beside it keeps
    other checkpoints to the same O(image_path) waiting (O(lock_timeout)); it is removed afterwards.
    What is at O(image_path) is looked at again under that lock right before the dump and right before
    the new image is moved there; if it changed meanwhile (a folder made there, an image another task
    wrote), it is left alone, the task fails, and the new image stays in its hidden folder, named in
    the message.
  - The collection's record of the container (see M(oci_runtime.runc.runc_container)) is copied into
    the image as C(.oci_runtime_runc.record.json) and given back to the restored container (same name
    only), so that runc_container knows it after a restore, on this host or another.
  - Only what the module can tell is a checkpoint image is ever replaced or removed, see O(force).
  - V(restored) brings the container back from the image with C(runc restore), here or on another host
    the image was copied to. Restoring never removes or changes the image.
  - Before acting, the module checks the CRIU on E(PATH) (present, recent enough, passing C(criu check))
    and what the options need from the kernel.
author:
  - oci_runtime.runc developers (@oci-runtime)
extends_documentation_fragment:
  - oci_runtime.runc.runtime
attributes:
  check_mode:
    support: full
    description: Checks CRIU and reports the runtime commands that would run in RV(actions).
  diff_mode:
    support: full
    description: Before and after show the container's status and whether a complete image exists.
options:
  name:
    description: Container id.
    type: str
    required: true
    aliases: [id]
  state:
    description:
      - V(checkpointed) a complete image of the container exists at O(image_path), and the container no
        longer runs (unless O(leave_running) or O(pre_dump)). Nothing is done when that is already so.
      - V(restored) the container runs, restored from the image at O(image_path) when it did not. A
        stopped container of that name is deleted first; one that was created but never started is
        left alone and the task fails.
    type: str
    choices: [checkpointed, restored]
    default: checkpointed
  image_path:
    description:
      - Absolute path of the image folder. Its parent folder is created when missing.
      - Symbolic links in its parent folders are resolved, and every check and change uses the
        resolved path. To checkpoint, O(image_path) itself must not be a symbolic link; restoring reads
        through one.
      - Every folder the module makes for an image first gets a marker file,
        C(.oci_runtime_runc.checkpoint), so that a checkpoint cut short can be told from other folders.
      - To checkpoint, O(image_path) must not be V(/), a runc root (O(root), or any folder with
        subfolders holding C(state.json)), inside O(root), the bundle or rootfs of a container of
        O(root), or an ancestor of any of these. The task fails before doing anything, in check mode
        too, force or not.
    type: path
    required: true
  force:
    description:
      - Replace a checkpoint image that this module made at O(image_path).
      - Only a folder carrying the marker file C(.oci_runtime_runc.checkpoint) is ever replaced, complete
        (with C(inventory.img)) or left incomplete by a checkpoint of this module, and only while it holds
        nothing but CRIU's and runc's files (C(*.img), C(dump.log), C(restore.log), C(stats-dump),
        C(stats-restore), C(irmap-cache), C(descriptors.json)), the marker and the record
        (C(.oci_runtime_runc.record.json)).
      - A complete image without the marker (made by C(runc checkpoint) itself, or copied without it) is
        never replaced, with or without O(force); the task fails, saying it was not made by this
        collection and must be removed by hand. It still counts as the checkpoint asked for when the
        container does not run or O(leave_running) is set.
      - Anything else at O(image_path) (a file, an empty folder, a folder holding other files) is
        refused, with or without O(force).
      - With O(lazy_pages), the image already there is moved to a hidden folder beside it while the new
        one is written, put back if the checkpoint fails (even when the incomplete one cannot be removed),
        and removed only once the new one is complete. When that removal fails, the task succeeds with a
        warning naming the folder left.
    type: bool
    default: false
  work_path:
    description:
      - Folder for CRIU's work files and logs. By default the image folder for a checkpoint, and a
        private temporary folder for a restore, which leaves the image unchanged.
      - For O(lazy_pages), the same folder the C(criu lazy-pages) daemon was given with C(-W).
      - Must not be O(image_path) or inside it, so that CRIU's logs never change an image. The module
        never removes a O(work_path) you give.
    type: path
  parent_path:
    description: Image of an earlier pre-dump to build on (C(--parent-path)); needs a kernel with memory
      change tracking.
    type: path
  leave_running:
    description: Keep the container running after the checkpoint (C(--leave-running)).
    type: bool
    default: false
  pre_dump:
    description: Dump the memory only, leaving the container running (C(--pre-dump)); needs a kernel with
      memory change tracking (C(CONFIG_MEM_SOFT_DIRTY)), checked before anything is done.
    type: bool
    default: false
  tcp_established:
    description: Allow established TCP connections (C(--tcp-established)).
    type: bool
    default: false
  ext_unix_sk:
    description: Allow external unix sockets (C(--ext-unix-sk)).
    type: bool
    default: false
  shell_job:
    description: Allow shell jobs, for containers with a terminal (C(--shell-job)).
    type: bool
    default: false
  file_locks:
    description: Handle file locks (C(--file-locks)).
    type: bool
    default: false
  page_server:
    description: C(ADDRESS:PORT) of a CRIU page server to send memory pages to (C(--page-server)); with
      O(lazy_pages), where this side serves the pages from.
    type: str
  manage_cgroups_mode:
    description: How CRIU handles the container's cgroups (C(--manage-cgroups-mode)). runc 1.1 knows
      C(soft), C(full) and C(strict); C(ignore) needs runc 1.2.
    type: str
    choices: [soft, full, strict, ignore]
  empty_ns:
    description: Namespaces to create empty on restore instead of restoring (C(--empty-ns)), for example
      V(network).
    type: list
    elements: str
  lazy_pages:
    description:
      - Post-copy migration (C(--lazy-pages)). The checkpoint serves memory pages from O(page_server)
        until the restored container has them all, so the checkpoint task only ends once the restore on
        the other side is done; run it with C(async). The image is written straight to O(image_path),
        because the other side reads it during the dump.
      - The restoring host runs C(criu lazy-pages --page-server --address <source> --port <port>
        -D <image_path> -W <work_path>) first; both hosts need C(fs.pipe-max-size) of at least 4194304.
    type: bool
    default: false
  status_file:
    description: Absolute path of a file (often a FIFO) CRIU writes a NUL byte to once the lazy-pages page
      server is ready (C(--status-fd)). A FIFO needs a reader before the checkpoint can start. Its folder
      must exist.
    type: path
  auto_dedup:
    description: Deduplicate memory pages of the image against its parent (C(--auto-dedup)).
    type: bool
    default: false
  extra_args:
    description: More arguments for C(runc checkpoint) or C(runc restore), placed before the container id.
    type: list
    elements: str
  bundle:
    description: Bundle of the restored container (C(--bundle)); required to restore. Its rootfs must
      hold the same files as the checkpointed container's.
    type: path
  pid_file:
    description: File the runtime writes the restored container's pid to (C(--pid-file)).
    type: path
  no_subreaper:
    description: Do not use a subreaper for the restored container (C(--no-subreaper)).
    type: bool
    default: false
  no_pivot:
    description: Do not use pivot_root for the restored container (C(--no-pivot)).
    type: bool
    default: false
  console_socket:
    description: Socket that receives the pty master of a restored terminal container (C(--console-socket)).
    type: path
  stdout_path:
    description: File the restored process's standard output is appended to; relative to O(bundle).
      Without it, C(/dev/null).
    type: str
  stderr_path:
    description: Like O(stdout_path), for standard error.
    type: str
  lock_timeout:
    description: Seconds to wait for another task managing the same container, and for another checkpoint
      writing the same O(image_path).
    type: float
    default: 120
notes:
  - Needs root and a CRIU that works with the host's kernel; the collection's
    oci_runtime.runc.runtime role installs one.
  - "Migration to another host: checkpoint on the source, copy the image folder (for example with
    M(ansible.builtin.fetch) and M(ansible.builtin.copy), or M(ansible.posix.synchronize)), restore on
    the target with a bundle holding the same rootfs. See the collection's docs/checkpoint.md."
seealso:
  - module: oci_runtime.runc.runc_container
'''

EXAMPLES = r'''
- name: Save a running container to disk; it stops
  oci_runtime.runc.runc_checkpoint:
    name: counter
    image_path: /var/lib/checkpoints/counter

- name: Keep it running and make a copy of its state
  oci_runtime.runc.runc_checkpoint:
    name: counter
    image_path: /var/lib/checkpoints/counter-snapshot
    leave_running: true

- name: Bring it back
  oci_runtime.runc.runc_checkpoint:
    name: counter
    state: restored
    image_path: /var/lib/checkpoints/counter
    bundle: /srv/containers/counter

- name: Migrate from host a to host b, through the controller
  block:
    - name: Checkpoint on a
      oci_runtime.runc.runc_checkpoint:
        name: counter
        image_path: /var/lib/checkpoints/counter
      delegate_to: a

    - name: Pack the image on a
      community.general.archive:
        path: /var/lib/checkpoints/counter
        dest: /var/lib/checkpoints/counter.tar
        format: tar
      delegate_to: a

    - name: Bring the archive to the controller
      ansible.builtin.fetch:
        src: /var/lib/checkpoints/counter.tar
        dest: /tmp/counter.tar
        flat: true
      delegate_to: a

    - name: Unpack it on b
      ansible.builtin.unarchive:
        src: /tmp/counter.tar
        dest: /var/lib/checkpoints
      delegate_to: b

    - name: Restore on b
      oci_runtime.runc.runc_checkpoint:
        name: counter
        state: restored
        image_path: /var/lib/checkpoints/counter
        bundle: /srv/containers/counter
      delegate_to: b
'''

RETURN = r'''
image_path:
  description: The image folder.
  returned: always
  type: str
  sample: /var/lib/checkpoints/counter
image_complete:
  description: Whether a complete image (with CRIU's inventory.img) is at RV(image_path) now.
  returned: always
  type: bool
  sample: true
container:
  description: The container after the task (before it in check mode); null when it does not exist.
  returned: always
  type: dict
  contains:
    id:
      description: Container id.
      type: str
      sample: counter
    pid:
      description: Host pid of its init process.
      type: int
      sample: 4242
    status:
      description: Runtime status.
      type: str
      sample: running
    bundle:
      description: Bundle folder.
      type: str
      sample: /srv/containers/counter
    created:
      description: Creation (or restore) time, RFC 3339.
      type: str
      sample: "2026-11-28T10:21:50.351504889Z"
actions:
  description: The runtime commands that changed something, as argv lists; planned ones in check mode.
  returned: always
  type: list
  elements: list
  sample: [["runc", "checkpoint", "--image-path", "/var/lib/checkpoints/.counter.partial-x1", "counter"]]
criu:
  description: The CRIU that was checked, when the task needed one.
  returned: always
  type: dict
  sample: {"path": "/usr/local/sbin/criu", "version": "4.1.1"}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci_runtime.runc.plugins.module_utils._checkpoint import CheckpointManager
from ansible_collections.oci_runtime.runc.plugins.module_utils._options import CHECKPOINT, argument_spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(CHECKPOINT), supports_check_mode=True)
    CheckpointManager(module).run()


if __name__ == '__main__':
    main()
