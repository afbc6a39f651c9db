# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The options of a container's config (config.json), shared by runc_container and runc_run:
    # one row each in the option table (module_utils/_options*.py), composed the same way.
    DOCUMENTATION = r'''
options:
  spec:
    description:
      - OCI runtime config, deep-merged over the runtime's default spec with C(process.terminal) false.
        Dicts merge key by key; lists and other values replace; a V(null) value removes the key.
      - The config options below are applied after O(spec) and win over the same fields in it.
    type: dict
  args:
    description: Command line of the container's process (C(process.args)).
    type: list
    elements: str
  env:
    description:
      - Environment variables (C(process.env)), added to or overriding those of the default spec.
      - Values must be strings or numbers; quote V(yes), V(no) and V(null).
    type: dict
  secret_env:
    description:
      - Environment variables whose values are secrets (passwords, tokens), added like O(env).
      - The values reach the container's C(config.json) (mode 0600) and its process, and never a return
        value, a diff, a log line or a warning. Their names (not values) are kept in the annotation
        C(oci_runtime.runc.secret-env), so that M(oci_runtime.runc.runc_info) masks them too.
      - A name may not be in both O(env) and O(secret_env).
    type: dict
  cwd:
    description: Working directory of the process inside the container (C(process.cwd)).
    type: str
  user:
    description:
      - The user the process runs as (C(process.user)); the fields given replace those of the base.
      - Give O(user.name) or O(user.uid), not both.
    type: dict
    suboptions:
      name:
        description:
          - V(user) or V(user:group), resolved from the rootfs's C(/etc/passwd) and C(/etc/group) on the
            managed host, with the user's supplementary groups. An unknown name fails the task.
        type: str
      uid:
        description: User id.
        type: int
      gid:
        description: Group id.
        type: int
      additional_gids:
        description: Supplementary group ids (C(process.user.additionalGids)).
        type: list
        elements: int
      umask:
        description: File mode creation mask, in octal (V("0027"); an unquoted V(0027) is read by YAML as
          the same octal number).
        type: raw
  capabilities:
    description:
      - Capabilities of the process, relative to the base's (C(process.capabilities)). O(capabilities.drop)
        applies first, then O(capabilities.add), to every capability set of the base (bounding, effective,
        permitted, and ambient where the base has it); O(capabilities.drop) also takes from the inheritable
        set, O(capabilities.add) never adds to it.
      - A process of a user other than root keeps only its ambient capabilities, which the kernel honours
        only when they are inheritable too; runc's default spec has no inheritable set, so such a process
        gets none of them unless O(spec) gives C(process.capabilities.inheritable).
      - Names with or without C(CAP_), in any case.
    type: dict
    suboptions:
      add:
        description: Capabilities to grant.
        type: list
        elements: str
      drop:
        description: Capabilities to take away; V(ALL) takes every one, so that O(capabilities.add) lists the
          only ones left.
        type: list
        elements: str
  no_new_privileges:
    description: Set the no_new_privs bit (C(process.noNewPrivileges)); runc's default spec sets it.
    type: bool
  rlimits:
    description:
      - Resource limits (C(process.rlimits)), merged by type with the base's. Keys are limit names with or
        without C(RLIMIT_) (V(nofile), V(RLIMIT_NPROC)); values a number for both limits, V(unlimited), or a
        dict with C(soft) and C(hard).
    type: dict
  oom_score_adj:
    description:
      - The process's OOM score adjustment, -1000 to 1000 (C(process.oomScoreAdj)).
      - Lowering it below the score of the process that runs runc needs a host that lets runc do so; where
        it does not, C(runc create) fails (runc 1.1 says C(failed to update /proc/self/oom_score_adj)).
    type: int
  apparmor_profile:
    description: AppArmor profile of the process (C(process.apparmorProfile)); the host must have AppArmor.
    type: str
  selinux_label:
    description: SELinux label of the process (C(process.selinuxLabel)); the host must have SELinux.
    type: str
  seccomp:
    description:
      - V(unconfined) removes the seccomp filter (C(linux.seccomp)); anything else is the absolute path of an
        OCI seccomp profile (JSON) on the managed host, which replaces the base's.
    type: str
  sysctls:
    description: Kernel parameters set in the container's namespaces (C(linux.sysctl)), merged by name; values
      are strings or numbers.
    type: dict
  masked_paths:
    description: Paths inside the container hidden from it (C(linux.maskedPaths)).
    type: dict
    suboptions:
      paths:
        description: Absolute paths inside the container.
        type: list
        elements: str
        required: true
      mode:
        description: V(add) to the base's list, or V(replace) it.
        type: str
        choices: [add, replace]
        default: add
  readonly_paths:
    description: Paths inside the container made read-only (C(linux.readonlyPaths)).
    type: dict
    suboptions:
      paths:
        description: Absolute paths inside the container.
        type: list
        elements: str
        required: true
      mode:
        description: V(add) to the base's list, or V(replace) it.
        type: str
        choices: [add, replace]
        default: add
  hostname:
    description: Host name of the container (C(hostname)).
    type: str
  rootfs:
    description:
      - Root filesystem folder (C(root.path)), absolute or relative to O(bundle). It must exist.
      - The default spec uses V(rootfs).
    type: str
  readonly_rootfs:
    description:
      - Mount the root filesystem read-only (C(root.readonly)).
      - When not set, the runtime's default applies (runc's default spec is read-only).
    type: bool
  annotations:
    description: Annotations of the container, merged with those of O(spec).
    type: dict
  mounts:
    description:
      - Mounts added to those of the default spec and O(spec) (C(mounts)); one with the C(destination)
        of an existing mount replaces it in its place in the list, since mount order matters (a mount
        on C(/dev) after C(/dev/pts) would hide it).
      - "Each is an OCI mount, for example V({destination: /data, type: bind, source: /srv/data,
        options: [rbind, rw]})."
    type: list
    elements: dict
  namespaces:
    description:
      - The container's namespaces (C(linux.namespaces)), by type (V(network), V(pid), V(ipc), V(uts),
        V(mount), V(user), V(cgroup)). Each is V(private) (a new namespace of its own), V(host) (no entry, the
        container shares the host's) or the absolute path of a namespace to join (an entry with C(path), for
        example V(/run/netns/blue) or V(/proc/4242/ns/net); it must exist on the managed host).
      - Merged by type with the base's C(linux.namespaces), keeping their order; types not named keep the
        base's setting (runc's default spec has private V(pid), V(network), V(ipc), V(uts) and V(mount)).
      - V(network=host) also bind-mounts the host's C(/etc/resolv.conf) and C(/etc/hosts) read-only
        (C(rbind,ro)), except where the task mounts its own at those paths (O(spec), O(mounts), O(volumes)
        or O(tmpfs)).
      - V(uts) other than V(private) drops the base's host name (a container without a UTS namespace of
        its own may not set one); V(uts=host) with O(hostname) or C(spec.hostname) is refused.
      - V(mount=host) is refused (runc needs a mount namespace for the container). V(user=private) needs
        C(linux.uidMappings) and C(linux.gidMappings) in O(spec).
      - A change re-creates the container.
    type: dict
  volumes:
    description:
      - Host folders or files bind-mounted into the container, as V(SRC:DEST[:OPTIONS]) strings.
      - V(SRC) is an absolute path that exists on the managed host, V(DEST) an absolute path inside the
        container. V(OPTIONS) is a comma-separated list of V(ro), V(rw), V(rbind), V(bind), V(nosuid),
        V(nodev), V(noexec) and one propagation of V(private), V(rprivate), V(shared), V(rshared),
        V(slave), V(rslave); V(rbind) and V(rw) unless told otherwise. V(ro) makes the top mount read-only,
        not the mounts below it.
      - "Each becomes an OCI mount V({destination: DEST, type: bind, source: SRC, options: [...]}) in
        C(mounts), merged with them by destination: a volume on the destination of a mount of the base,
        O(spec) or O(mounts) takes its place in the list. Two volumes on one destination are refused."
      - A change re-creates the container.
    type: list
    elements: str
  tmpfs:
    description:
      - tmpfs mounts, as a dict of destination (an absolute path inside the container) to mount options,
        for example V(size=64m,mode=1777); an empty string or V(null) for the defaults.
      - "Each becomes an OCI mount V({destination: DEST, type: tmpfs, source: tmpfs, options: [nosuid,
        nodev, ...]}) in C(mounts), merged with them by destination like O(volumes). V(nosuid) and V(nodev)
        apply unless the options say V(suid) or V(dev)."
      - Sizes (V(size), V(nr_blocks), V(nr_inodes)) are written in bytes and modes in plain octal, so
        V(size=64m), V(size=64M) and V(size=67108864) are the same intent; V(size) may also be a percentage
        of memory (V(50%)). Unknown or contradicting options are refused.
      - A change re-creates the container.
    type: dict
  devices:
    description:
      - Host devices made available in the container. Each is a device path on the managed host
        (V(/dev/fuse)), or a dict with C(path), C(container_path) (default the same path) and C(permissions)
        (letters of V(rwm), default V(rwm)).
      - Each adds a C(linux.devices) entry (type, major and minor, file mode, owner and group from the host
        device, merged by container path with the base's) and appends an allow rule to
        C(linux.resources.devices) with the permissions. The device must exist on the host and be a
        character or block device.
      - runc gives every container C(/dev/null), C(/dev/zero), C(/dev/full), C(/dev/tty), C(/dev/random) and
        C(/dev/urandom) by itself.
      - A change, or a host device whose numbers, mode or owner changed, re-creates the container.
    type: list
    elements: raw
  cgroups_path:
    description:
      - cgroup of the container (C(linux.cgroupsPath)).
      - Containers with the same id on several runc roots of one machine need different paths.
    type: str
  resources:
    description:
      - OCI C(linux.resources), merged with those of O(spec).
      - Changes to C(memory.limit), C(memory.reservation), C(memory.swap), C(cpu.*), C(blockIO.weight)
        and C(pids.limit) are applied in place with C(runc update); removing one of them, or changing
        anything else (devices, hugepage limits, ...), re-creates the container.
      - Numbers may be given as text (V("{{ limit }}") renders as text before ansible-core 2.19); fields
        the OCI spec types as strings (C(cpu.cpus), C(cpu.mems), ...) stay text.
      - If C(runc update) refuses a value (a memory limit below the current usage, say), the task fails
        and C(config.json) keeps the values the container really runs with.
      - O(memory), O(memory_swap), O(cpus), O(cpu_shares), O(cpuset_cpus), O(pids_limit) and
        O(blkio_weight) are applied after it and win over the same fields given here.
    type: dict
  memory:
    description:
      - Memory limit (C(linux.resources.memory.limit)), like docker's C(--memory).
      - "Bytes as a whole number, or a number with a binary unit, V(k), V(m), V(g) or V(t) (either case,
        an optional V(b) or V(ib) after it): V(512M), V(1.5G), V(100k). V(512M) and V(536870912) are the
        same config."
      - A change is applied to the live container (C(runc update), same pid); removing the option
        re-creates the container, since runc cannot remove a limit.
    type: raw
  memory_swap:
    description:
      - Limit of memory plus swap (C(linux.resources.memory.swap)), like docker's C(--memory-swap), in
        the units of O(memory); V(-1) for no limit. At least the memory limit, which it needs.
      - Applied in place, like O(memory).
    type: raw
  cpus:
    description:
      - How many CPUs' worth of time the container may use, like docker's C(--cpus), for example V(1.5).
      - Sets C(linux.resources.cpu.quota) to O(cpus) times C(cpu.period), and C(cpu.period) to V(100000)
        (microseconds). More than 0; at least V(0.01).
      - Applied in place.
    type: float
  cpu_shares:
    description: Relative CPU weight (C(linux.resources.cpu.shares)), 2 to 262144; applied in place.
    type: int
  cpuset_cpus:
    description:
      - CPUs the container may run on (C(linux.resources.cpu.cpus)), such as V(0-1) or V(0,2); applied in
        place.
      - Written as the kernel writes it (sorted ranges), so V(0,1) and V(0-1) are the same config.
    type: str
  pids_limit:
    description: Most processes the container may have (C(linux.resources.pids.limit)); V(-1) for no limit;
      applied in place.
    type: int
  blkio_weight:
    description:
      - Block IO weight (C(linux.resources.blockIO.weight)), 10 to 1000; applied in place.
      - Needs a host whose blkio cgroup has C(blkio.weight) or C(blkio.bfq.weight) (the BFQ or CFQ IO
        scheduler); elsewhere runc fails to create the container.
    type: int
'''
