# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the collection's idempotency and safety cost, against the floor and the peer.

Run by `make bench` (full) or `make bench-quick`, after `make test`'s set-up,
as root. Everything happens in private runc roots and private podman storage
under BENCH_DIR; the default /run/runc is never used. Prints a table and
writes bench/results/latest.json.

Times are wall-clock medians of repeated runs; the goals are ratios, which
hold across machines better than seconds do.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PLAYBOOKS = os.path.join(HERE, 'playbooks')
TOP = os.path.dirname(HERE)
BENCH_DIR = os.environ.get('BENCH_DIR', '/var/tmp/oci-runtime-runc-bench')
ROOT = os.path.join(BENCH_DIR, 'runc-root')
PODMAN_DIR = os.path.join(BENCH_DIR, 'podman')
IMAGE = 'localhost/oci-runtime-runc-bench:latest'
# The 3-layer image runc_bundle unpacks: built with umoci into a store of the bench's own.
STORE = os.path.join(BENCH_DIR, 'image-store')
BUNDLE_IMAGE = 'bench3'
POLICY = os.path.join(BENCH_DIR, 'policy.json')
STORE_MARKER = '.oci_runtime_runc.store'

GOALS = {
    'noop_ratio_vs_command': ('<=', 1.1),
    'runc_calls_per_noop': ('==', 1.0),
    'info_stats_ratio_vs_parallel_floor': ('<=', 1.3),
    'info_stats_ratio_vs_shell_loop': ('<', 1.0),
    'bundle_ratio_vs_copy_unpack': ('<=', 1.2),
    'bundle_noop_ratio_vs_runc_container': ('<=', 1.0),
    'batch_noop_ratio_vs_command': ('<=', 0.1),
    'batch_noop_ratio_vs_runc_container': ('<=', 0.05),
    'batch_create_ratio_vs_runc_container': ('<=', 0.5),
    'batch_runc_calls_per_noop_task': ('==', 1.0),
}


def log(message):
    print('bench: %s' % message, file=sys.stderr, flush=True)


def run(argv, env=None, check=True, capture=True):
    completed = subprocess.run(argv, env=env, check=False, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                               stderr=subprocess.PIPE if capture else subprocess.DEVNULL)
    if check and completed.returncode != 0:
        raise SystemExit('bench: %s failed (%d):\n%s\n%s' % (
            ' '.join(argv), completed.returncode, (completed.stdout or b'').decode()[-3000:],
            (completed.stderr or b'').decode()[-3000:]))
    return completed


def timed(argv, env=None):
    started = time.monotonic()
    run(argv, env=env)
    return time.monotonic() - started


def timed_sequence(argvs):
    """Wall-clock time of commands run one after the other, as a shell `a && b` would."""
    started = time.monotonic()
    for argv in argvs:
        run(argv)
    return time.monotonic() - started


def median_time(argv, repeats, env=None):
    return statistics.median(timed(argv, env) for dummy in range(repeats))


def podman_env():
    env = dict(os.environ)
    env['CONTAINERS_CONF'] = os.path.join(PODMAN_DIR, 'containers.conf')
    env['CONTAINERS_STORAGE_CONF'] = os.path.join(PODMAN_DIR, 'storage.conf')
    return env


def playbook(name, count, env=None, **extra_vars):
    variables = dict(bench_root=ROOT, bench_dir=BENCH_DIR, bench_count=count, **extra_vars)
    return (['ansible-playbook', '-i', 'localhost,', '-c', 'local', os.path.join(PLAYBOOKS, name),
             '-e', json.dumps(variables)], env)


# -- set-up and clean-up ------------------------------------------------------------------------

def prepare():
    """A busybox rootfs and bundle template, podman configured onto a private runc root."""
    os.makedirs(BENCH_DIR, exist_ok=True)
    rootfs = os.path.join(BENCH_DIR, 'rootfs')
    if not os.path.exists(os.path.join(rootfs, 'bin', 'sh')):
        os.makedirs(os.path.join(rootfs, 'bin'), exist_ok=True)
        for folder in ('proc', 'dev', 'sys', 'tmp', 'etc'):
            os.makedirs(os.path.join(rootfs, folder), exist_ok=True)
        shutil.copy2('/bin/busybox', os.path.join(rootfs, 'bin', 'busybox'))
        run(['chroot', rootfs, '/bin/busybox', '--install', '-s', '/bin'])
    os.makedirs(PODMAN_DIR, exist_ok=True)
    wrapper = os.path.join(PODMAN_DIR, 'runc')
    with open(wrapper, 'w') as stream:
        # podman calls runc without --root, which means /run/runc: keep it private.
        stream.write('#!/bin/sh\nexec runc --root %s "$@"\n' % os.path.join(PODMAN_DIR, 'runc-root'))
    os.chmod(wrapper, 0o755)
    with open(os.path.join(PODMAN_DIR, 'containers.conf'), 'w') as stream:
        stream.write('[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n'
                     'netns = "none"\n[engine]\nruntime = "benchrunc"\n'
                     '[engine.runtimes]\nbenchrunc = ["%s"]\n' % wrapper)
    with open(os.path.join(PODMAN_DIR, 'storage.conf'), 'w') as stream:
        stream.write('[storage]\ndriver = "vfs"\ngraphroot = "%s/graph"\nrunroot = "%s/run"\n'
                     % (PODMAN_DIR, PODMAN_DIR))
    env = podman_env()
    if run(['podman', 'image', 'exists', IMAGE], env=env, check=False).returncode != 0:
        tarball = os.path.join(BENCH_DIR, 'rootfs.tar')
        run(['tar', '-C', rootfs, '-cf', tarball, '.'])
        run(['podman', 'import', tarball, IMAGE], env=env)


def build_image():
    """The 3-layer image of runc_bundle's rows, made anew in STORE once per run.

    Layer 1 is the busybox rootfs, layer 2 /etc (passwd, group and 50 small
    files), layer 3 /usr/share/bench (100 files of 1 KiB). The store and the
    layout carry the collection's marker, as runc_image would leave them.
    """
    shutil.rmtree(STORE, ignore_errors=True)
    layers = os.path.join(BENCH_DIR, 'layers')
    shutil.rmtree(layers, ignore_errors=True)
    etc = os.path.join(layers, 'two', 'etc')
    share = os.path.join(layers, 'three', 'usr', 'share', 'bench')
    os.makedirs(etc)
    os.makedirs(share)
    with open(os.path.join(etc, 'passwd'), 'w') as stream:
        stream.write('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n')
    with open(os.path.join(etc, 'group'), 'w') as stream:
        stream.write('root:x:0:\nnogroup:x:65534:\n')
    for index in range(50):
        with open(os.path.join(etc, 'bench-%02d.conf' % index), 'w') as stream:
            stream.write('setting_%d = %d\n' % (index, index))
    for index in range(100):
        with open(os.path.join(share, 'file-%03d' % index), 'wb') as stream:
            stream.write(os.urandom(1024))
    os.makedirs(STORE)
    layout = os.path.join(STORE, BUNDLE_IMAGE)
    image = '%s:latest' % layout
    run(['umoci', 'init', '--layout', layout])
    for folder in (STORE, layout):
        open(os.path.join(folder, STORE_MARKER), 'w').close()
    run(['umoci', 'new', '--image', image])
    for source in (os.path.join(BENCH_DIR, 'rootfs'), os.path.join(layers, 'two'), os.path.join(layers, 'three')):
        run(['umoci', 'insert', '--image', image, source, '/'])
    run(['umoci', 'config', '--image', image, '--config.cmd', 'sh'])
    run(['umoci', 'gc', '--layout', layout])
    with open(os.path.join(layout, 'index.json')) as stream:
        digest = json.load(stream)['manifests'][0]['digest'].split(':')[1]
    with open(os.path.join(layout, 'blobs', 'sha256', digest)) as stream:
        if len(json.load(stream)['layers']) != 3:
            raise SystemExit('bench: the image %s has not 3 layers' % image)
    with open(POLICY, 'w') as stream:
        json.dump({'default': [{'type': 'insecureAcceptAnything'}]}, stream)
    blobs = os.path.join(layout, 'blobs', 'sha256')
    return sum(os.path.getsize(os.path.join(blobs, name)) for name in os.listdir(blobs))


def command_bundles(count):
    """Bundles for the command-task baseline, copied from one runc_container wrote."""
    template = os.path.join(BENCH_DIR, 'bundles', 'bench-0', 'config.json')
    for index in range(count):
        bundle = os.path.join(BENCH_DIR, 'bundles', 'cmd-%d' % index)
        os.makedirs(bundle, exist_ok=True)
        with open(template) as stream:
            config = json.load(stream)
        config['linux']['cgroupsPath'] = '/oci-runtime-runc-bench/cmd-%d' % index
        config['annotations'] = {}
        with open(os.path.join(bundle, 'config.json'), 'w') as stream:
            json.dump(config, stream)


def remove_runc_containers(prefix=''):
    if not os.path.isdir(ROOT):
        return
    listed = run(['runc', '--root', ROOT, 'list', '--quiet']).stdout.decode().split()
    for container in listed:
        if container.startswith(prefix):
            run(['runc', '--root', ROOT, 'delete', '--force', container], check=False)


def remove_podman_containers():
    env = podman_env()
    names = run(['podman', 'ps', '-a', '--format', '{{.Names}}'], env=env).stdout.decode().split()
    if names:
        run(['podman', 'rm', '--force', '--time', '0'] + names, env=env, check=False)


def clean_up():
    remove_runc_containers()
    remove_podman_containers()
    for folder in ('bundles', 'runc-root', 'recordings', 'copies', 'layers', 'image-store'):
        shutil.rmtree(os.path.join(BENCH_DIR, folder), ignore_errors=True)
    # runc leaves the parent cgroup folders the containers' cgroupsPath made.
    for hierarchy in os.listdir('/sys/fs/cgroup'):
        parent = os.path.join('/sys/fs/cgroup', hierarchy, 'oci-runtime-runc-bench')
        if os.path.isdir(parent):
            for folder, dummy, dummy in os.walk(parent, topdown=False):
                try:
                    os.rmdir(folder)
                except OSError:
                    pass


# -- measurements -------------------------------------------------------------------------------

def measure_converge(count, repeats):
    """Create + start of N containers, then the no-op run, three ways.

    The no-op runs of the three ways alternate, so that a slow moment of
    the machine does not fall on one of them only.
    """
    remove_runc_containers()
    remove_podman_containers()
    ways = {
        'runc_container': playbook('runc_container.yml', count),
        'runc_containers': playbook('runc_containers.yml', count),
        'command': playbook('command.yml', count, bench_mode='noop'),
        'podman': playbook('podman_container.yml', count, env=podman_env()),
        'empty': playbook('empty.yml', count),
    }
    results = {'create_runc_container': timed(*ways['runc_container']),
               'create_runc_containers': timed(*ways['runc_containers'])}
    command_bundles(count)
    results['create_command'] = timed(*playbook('command.yml', count, bench_mode='create'))
    remove_runc_containers('cmd-')
    results['create_podman'] = timed(*ways['podman'])
    samples = {way: [] for way in ways}
    for dummy in range(repeats):
        for way, (argv, env) in ways.items():
            samples[way].append(timed(argv, env))
    for way, times in samples.items():
        results['noop_%s' % way] = statistics.median(times)
    remove_podman_containers()
    return results


def measure_runc_calls(count):
    """How many runtime calls a no-op runc_container task makes, through a recording wrapper."""
    recordings = os.path.join(BENCH_DIR, 'recordings')
    os.makedirs(recordings, exist_ok=True)
    recording = os.path.join(recordings, 'calls.log')
    wrapper = os.path.join(recordings, 'runc')
    with open(wrapper, 'w') as stream:
        stream.write('#!/bin/sh\nprintf "%%s\\n" "$*" >> %s\nexec runc "$@"\n' % recording)
    os.chmod(wrapper, 0o755)
    argv, env = playbook('runc_container.yml', count, bench_runtime=wrapper)
    run(argv, env=env)  # warm-up: the wrapper is a new runtime binary, its default spec gets cached
    if os.path.exists(recording):
        os.unlink(recording)
    run(argv, env=env)
    with open(recording) as stream:
        calls = [line.split() for line in stream if line.strip()]
    subcommands = sorted({next((word for word in call if not word.startswith('-') and word != ROOT), '?')
                          for call in calls})
    return len(calls) / count, subcommands


TESTHOSTS = os.path.join(TOP, 'extensions', 'molecule', 'shared', 'testhosts.sh')
# Short: testhosts.sh names a host's link orv-NAME, at most 15 characters.
FLEET_HOSTS = ['bfleet-%d' % index for index in range(1, 7)]


def measure_fleet(count, repeats, sizes=(1, 3, 6)):
    """No-op converge time of runc_containers over 1, 3 and 6 test hosts (forks = hosts), count containers each.

    The test hosts are the Molecule scenarios' (network namespaces reached over SSH, each with its
    own /run/runc), at 10.213.0.31 and up.
    """
    fleet_dir = os.path.join(BENCH_DIR, 'fleet')
    os.makedirs(fleet_dir, exist_ok=True)
    key = os.path.join(fleet_dir, 'id_ed25519')
    if not os.path.exists(key):
        run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', key])
    inventory = os.path.join(fleet_dir, 'inventory.yml')
    hosts = {name: {'ansible_host': '10.213.0.%d' % (30 + index)} for index, name in enumerate(FLEET_HOSTS, 1)}
    with open(inventory, 'w') as stream:
        json.dump({'all': {'hosts': hosts, 'vars': {
            'ansible_user': 'root', 'ansible_ssh_private_key_file': key,
            'ansible_ssh_common_args': '-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no',
            'ansible_python_interpreter': sys.executable}}}, stream)
    env = dict(os.environ, ANSIBLE_HOST_KEY_CHECKING='false', ANSIBLE_SSH_CONTROL_PATH_DIR=os.path.join(fleet_dir, 'cp'))
    run([TESTHOSTS, 'up', key + '.pub'] + ['%s:%d' % (name, 30 + index) for index, name in enumerate(FLEET_HOSTS, 1)])
    results = {}
    try:
        # As the Molecule scenarios' wait_for_connection: a new host answers once its link is up.
        for host in hosts.values():
            deadline = time.monotonic() + 60
            while True:
                try:
                    socket.create_connection((host['ansible_host'], 22), timeout=2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
        for size in sizes:
            argv = ['ansible-playbook', '-i', inventory, '--limit', ','.join(FLEET_HOSTS[:size]), '-f', str(size),
                    os.path.join(PLAYBOOKS, 'runc_containers_fleet.yml'),
                    '-e', json.dumps({'bench_dir': BENCH_DIR, 'bench_count': count})]
            run(argv, env=env)   # creates them
            results[str(size)] = statistics.median(timed(argv, env) for dummy in range(repeats))
    finally:
        # Ansible's SSH masters first: sshd of the hosts would wait for them.
        control = os.path.join(fleet_dir, 'cp')
        for socket_name in os.listdir(control) if os.path.isdir(control) else []:
            run(['ssh', '-O', 'exit', '-o', 'ControlPath=' + os.path.join(control, socket_name), 'host'], check=False)
        run([TESTHOSTS, 'down'] + FLEET_HOSTS, check=False)
        shutil.rmtree(fleet_dir, ignore_errors=True)
    return results


def net(row, key):
    """A playbook's time without the start-up every playbook pays (never below a millisecond)."""
    return max(row[key] - row['noop_empty'], 0.001)


def measure_batch_calls(count):
    """How many runtime calls a no-op runc_containers task of N containers makes (the goal: the list alone)."""
    recordings = os.path.join(BENCH_DIR, 'recordings')
    recording = os.path.join(recordings, 'calls.log')
    argv, env = playbook('runc_containers.yml', count, bench_runtime=os.path.join(recordings, 'runc'))
    run(argv, env=env)
    if os.path.exists(recording):
        os.unlink(recording)
    run(argv, env=env)
    with open(recording) as stream:
        return len([line for line in stream if line.strip()])


def bundle_playbook(name, count, prefix, **extra_vars):
    return playbook(name, count, bench_prefix=prefix, bench_store=STORE, bench_image=BUNDLE_IMAGE,
                    bench_policy=POLICY, **extra_vars)


def measure_bundle(count, samples, repeats):
    """runc_bundle: a bundle from the 3-layer image against skopeo + umoci by hand, then its no-op.

    Creation: each sample makes a fresh bundle path, one task of each way,
    the ways alternating: the runc_bundle task (reads the store's index and
    config blob, umoci unpack into a .unpack-* folder, rename of its rootfs,
    config.json from the cached default spec); command tasks of skopeo copy
    (out of the store into a layout of the bundle's own) and umoci unpack of
    that copy (the floor of the goal); a command task of umoci unpack straight
    from the store (what the module itself runs); and the same commands
    without Ansible, timed from this process as the raw floor.

    No-op: a second runc_bundle run over COUNT existing bundles against
    runc_container's no-op over COUNT running containers, alternating.
    """
    remove_runc_containers()
    store_image = '%s/%s:latest' % (STORE, BUNDLE_IMAGE)
    copies = os.path.join(BENCH_DIR, 'copies')
    bundles = os.path.join(BENCH_DIR, 'bundles')
    os.makedirs(copies, exist_ok=True)
    os.makedirs(bundles, exist_ok=True)
    # Warm-up: the runtime's default spec gets cached in the runc root, caches of Ansible and umoci warm.
    run(bundle_playbook('runc_bundle.yml', 1, 'warm-mod')[0])
    run(bundle_playbook('unpack_command.yml', 1, 'warm-cu', bench_copy=True)[0])

    def raw_copy_unpack(index):
        layout = os.path.join(copies, 'raw-cu%d' % index)
        return timed_sequence([
            ['skopeo', 'copy', '--quiet', '--policy', POLICY, 'oci:%s' % store_image, 'oci:%s:latest' % layout],
            ['umoci', 'unpack', '--image', '%s:latest' % layout, os.path.join(bundles, 'raw-cu%d' % index)]])

    def raw_unpack(index):
        return timed_sequence([['umoci', 'unpack', '--image', store_image, os.path.join(bundles, 'raw-un%d' % index)]])

    ways = {
        'runc_bundle': lambda index: timed(*bundle_playbook('runc_bundle.yml', 1, 'mod%d' % index)),
        'copy_unpack_command': lambda index: timed(*bundle_playbook('unpack_command.yml', 1, 'cu%d' % index,
                                                                    bench_copy=True)),
        'unpack_command': lambda index: timed(*bundle_playbook('unpack_command.yml', 1, 'un%d' % index,
                                                               bench_copy=False)),
        'copy_unpack_raw': raw_copy_unpack,
        'unpack_raw': raw_unpack,
    }
    times = {way: [] for way in ways}
    for index in range(samples):
        for way, measure in ways.items():
            times[way].append(measure(index))
    results = {'create_%s' % way: statistics.median(values) for way, values in times.items()}
    results['samples'] = samples

    noop_bundle = bundle_playbook('runc_bundle.yml', count, 'noop')
    noop_container = playbook('runc_container.yml', count)
    results['create_runc_bundle_n'] = timed(*noop_bundle)
    run(*noop_container)
    noops = {'runc_bundle': [], 'runc_container': []}
    for dummy in range(repeats):
        noops['runc_bundle'].append(timed(*noop_bundle))
        noops['runc_container'].append(timed(*noop_container))
    for way, values in noops.items():
        results['noop_%s' % way] = statistics.median(values)
    results['count'] = count
    remove_runc_containers()
    return results


def kept_payload(argv, module, env=None):
    """Run argv keeping Ansible's remote files; return the AnsiballZ payload of module."""
    remote_tmp = os.path.join(BENCH_DIR, 'remote-tmp', module)
    shutil.rmtree(remote_tmp, ignore_errors=True)
    env = dict(env or os.environ, ANSIBLE_KEEP_REMOTE_FILES='1', ANSIBLE_REMOTE_TMP=remote_tmp)
    run(argv, env=env)
    payloads = [os.path.join(folder, name) for folder, dummy, names in os.walk(remote_tmp)
                for name in names if name == 'AnsiballZ_%s.py' % module]
    return sorted(payloads)[-1]


def measure_info(count, repeats, workers):
    """runc_info gather=stats over COUNT running containers vs a shell loop and the parallel floor.

    The module is timed twice: as the payload Ansible runs on the managed
    host (what the module itself costs), and end to end as an ad hoc
    `ansible` command (adding the controller's fixed start-up).
    """
    remove_runc_containers()
    argv, env = playbook('runc_container.yml', count)
    run(argv, env=env)
    ids = run(['runc', '--root', ROOT, 'list', '--quiet']).stdout.decode().split()
    module_argv = ['ansible', 'localhost', '-c', 'local', '-i', 'localhost,', '-m', 'oci_runtime.runc.runc_info',
                   '-a', 'gather=stats root=%s max_workers=%d' % (ROOT, workers)]
    payload = kept_payload(module_argv, 'runc_info')
    loop = '; '.join('runc --root %s events --stats %s > /dev/null' % (ROOT, cid) for cid in ids)
    parallel = ['sh', '-c', 'printf "%%s\\n" %s | xargs -P %d -I{} runc --root %s events --stats {} > /dev/null'
                % (' '.join(ids), workers, ROOT)]
    results = {
        'info_stats_module_on_host': median_time([sys.executable, payload], repeats),
        'info_stats_adhoc': median_time(module_argv, repeats),
        'info_stats_shell_loop': median_time(['sh', '-c', loop], repeats),
        'info_stats_parallel_floor': median_time(parallel, repeats),
    }
    remove_runc_containers()
    return results


def measure_connection(count, repeats):
    """COUNT raw tasks through the runc connection into a busybox container vs through the local connection."""
    remove_runc_containers()
    bundle = os.path.join(BENCH_DIR, 'bundles', 'raw-target')
    os.makedirs(bundle, exist_ok=True)
    if not os.path.exists(os.path.join(bundle, 'config.json')):
        run(['runc', 'spec', '--bundle', bundle])
    with open(os.path.join(bundle, 'config.json')) as stream:
        config = json.load(stream)
    config['root'] = {'path': os.path.join(BENCH_DIR, 'rootfs'), 'readonly': True}
    config['process'].update(terminal=False, args=['sleep', '100000'])
    with open(os.path.join(bundle, 'config.json'), 'w') as stream:
        json.dump(config, stream)
    # Not on pipes: the container would hold them open and the call would never end (runc issue 1721).
    run(['runc', '--root', ROOT, 'run', '--detach', '--bundle', bundle, 'raw-target'], capture=False)
    # COUNT tasks, not a loop: a connection lasts one task, and each task pays for its own.
    raw_playbook = os.path.join(BENCH_DIR, 'raw.yml')
    with open(raw_playbook, 'w') as stream:
        json.dump([{'name': 'Raw tasks on one host', 'hosts': 'target', 'gather_facts': False,
                    'tasks': [{'name': 'Run a command %d' % index, 'ansible.builtin.raw': 'true', 'changed_when': False}
                              for index in range(count)]}], stream)
    results = {}
    for name, host_vars in (('runc', 'ansible_connection=oci_runtime.runc.runc ansible_runc_container=raw-target '
                                     'ansible_runc_root=%s' % ROOT),
                            ('local', 'ansible_connection=local')):
        inventory = os.path.join(BENCH_DIR, 'raw-%s.ini' % name)
        with open(inventory, 'w') as stream:
            stream.write('target %s\n' % host_vars)
        argv = ['ansible-playbook', '-i', inventory, raw_playbook]
        run(argv)
        results['raw_%s' % name] = median_time(argv, repeats)
    empty = ['ansible-playbook', '-i', 'localhost,', '-c', 'local', os.path.join(PLAYBOOKS, 'empty.yml')]
    results['raw_empty'] = median_time(empty, repeats)
    remove_runc_containers()
    return dict(results, count=count)


def measure_startup():
    """Time and imports of one runc_container and one command run on the managed host (AnsiballZ)."""
    report = {}
    for module, (argv, env) in (('runc_container', playbook('runc_container.yml', 1)),
                                ('command', playbook('command.yml', 1, bench_mode='noop'))):
        payload = kept_payload(argv, module, env)
        times = []
        imports = {}
        for dummy in range(5):
            started = time.monotonic()
            completed = subprocess.run([sys.executable, '-X', 'importtime', payload], check=False,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            times.append(time.monotonic() - started)
            imports = parse_importtime(completed.stderr.decode())
        report[module] = {'seconds': statistics.median(times), 'imports_ms': imports,
                          'payload_bytes': os.path.getsize(payload)}
    shutil.rmtree(os.path.join(BENCH_DIR, 'remote-tmp'), ignore_errors=True)
    remove_runc_containers()
    return report


def parse_importtime(text):
    """Cumulative import time (ms) of each top-level package, largest first."""
    totals = {}
    for line in text.splitlines():
        found = re.match(r'import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)', line)
        if found and len(found.group(2)) <= 1:
            totals[found.group(3)] = totals.get(found.group(3), 0) + int(found.group(1)) / 1000.0
    return dict(sorted(totals.items(), key=lambda item: -item[1])[:12])


# -- report ---------------------------------------------------------------------------------------

def verdict(key, value):
    operator, goal = GOALS[key]
    met = {'<=': value <= goal, '==': abs(value - goal) < 1e-9, '<': value < goal}[operator]
    return 'met' if met else 'MISSED'


def versions():
    def first_line(argv):
        try:
            return run(argv, check=False).stdout.decode().splitlines()[0]
        except (OSError, IndexError):
            return 'unknown'
    return {
        'runc': first_line(['runc', '--version']),
        'podman': first_line(['podman', '--version']),
        'ansible-core': first_line(['ansible', '--version']),
        'python': platform.python_version(),
        'kernel': platform.release(),
        'cpus': os.cpu_count(),
        'machine': platform.machine(),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true', help='N=10, 50 containers for runc_info, 3 repeats')
    parser.add_argument('--fleet-only', action='store_true',
                        help='only the fleet curve: runc_containers no-op over 1, 3 and 6 test hosts')
    args = parser.parse_args()
    if args.fleet_only:
        prepare()
        try:
            fleet = measure_fleet(10, 3)
        finally:
            clean_up()
        print(json.dumps({'fleet_noop_seconds_by_hosts': fleet}, indent=2))
        return
    counts = [10] if args.quick else [10, 50]
    info_count = 50 if args.quick else 200
    repeats = 3 if args.quick else 5
    bundle_samples = 3 if args.quick else 7
    workers = 8

    prepare()
    clean_up()
    results = {'mode': 'quick' if args.quick else 'full', 'versions': versions(), 'converge': {}}
    try:
        for count in counts:
            log('converge with N=%d' % count)
            results['converge'][str(count)] = measure_converge(count, repeats)
        log('runc calls per no-op task')
        calls, subcommands = measure_runc_calls(counts[0])
        batch_calls = measure_batch_calls(counts[0])
        log('runc_bundle: 3-layer image, %d fresh bundles a way, no-op over N=%d' % (bundle_samples, counts[0]))
        image_bytes = build_image()
        bundle = measure_bundle(counts[0], bundle_samples, repeats)
        log('runc_info over %d running containers' % info_count)
        info = measure_info(info_count, repeats, workers)
        log('20 raw tasks through the runc connection and through local')
        connection = measure_connection(20, repeats)
        log('module start-up')
        startup = measure_startup()
        if not args.quick:
            log('runc_containers no-op over 1, 3 and 6 test hosts')
            results['fleet_noop_seconds_by_hosts'] = measure_fleet(counts[0], repeats)
    finally:
        clean_up()

    largest = results['converge'][str(counts[-1])]
    results.update({
        'noop_ratio_vs_command': largest['noop_runc_container'] / largest['noop_command'],
        'noop_ratio_vs_podman': largest['noop_runc_container'] / largest['noop_podman'],
        'create_ratio_vs_command': largest['create_runc_container'] / largest['create_command'],
        'create_ratio_vs_podman': largest['create_runc_container'] / largest['create_podman'],
        'runc_calls_per_noop': calls,
        # The batch goals compare the tasks: the start-up of ansible-playbook, the same for every way
        # (noop_empty), is taken off both sides. The whole playbooks' ratios are reported beside them.
        'batch_noop_ratio_vs_command': net(largest, 'noop_runc_containers') / net(largest, 'noop_command'),
        'batch_noop_ratio_vs_runc_container': (net(largest, 'noop_runc_containers')
                                               / net(largest, 'noop_runc_container')),
        'batch_create_ratio_vs_runc_container': (net(largest, 'create_runc_containers')
                                                 / net(largest, 'create_runc_container')),
        'batch_noop_playbook_ratio_vs_command': largest['noop_runc_containers'] / largest['noop_command'],
        'batch_noop_playbook_ratio_vs_runc_container': largest['noop_runc_containers'] / largest['noop_runc_container'],
        'batch_runc_calls_per_noop_task': float(batch_calls),
        'runc_subcommands_per_noop': subcommands,
        'info': dict(info, containers=info_count, workers=workers),
        'info_stats_ratio_vs_parallel_floor': info['info_stats_module_on_host'] / info['info_stats_parallel_floor'],
        'info_stats_ratio_vs_shell_loop': info['info_stats_module_on_host'] / info['info_stats_shell_loop'],
        'info_adhoc_ratio_vs_parallel_floor': info['info_stats_adhoc'] / info['info_stats_parallel_floor'],
        'info_adhoc_ratio_vs_shell_loop': info['info_stats_adhoc'] / info['info_stats_shell_loop'],
        'bundle': dict(bundle, image_layers=3, image_bytes=image_bytes),
        'bundle_ratio_vs_copy_unpack': bundle['create_runc_bundle'] / bundle['create_copy_unpack_command'],
        'bundle_ratio_vs_unpack': bundle['create_runc_bundle'] / bundle['create_unpack_command'],
        'bundle_noop_ratio_vs_runc_container': bundle['noop_runc_bundle'] / bundle['noop_runc_container'],
        'startup': startup,
        'connection': connection,
        # ansible-playbook's own start-up taken off both sides, as for the batch ratios.
        'connection_raw_ratio_vs_local': ((connection['raw_runc'] - connection['raw_empty'])
                                          / (connection['raw_local'] - connection['raw_empty'])),
        'goals': {key: {'goal': '%s %s' % GOALS[key], 'verdict': None} for key in GOALS},
    })
    for key in GOALS:
        results['goals'][key]['verdict'] = verdict(key, results[key])

    os.makedirs(os.path.join(HERE, 'results'), exist_ok=True)
    with open(os.path.join(HERE, 'results', 'latest.json'), 'w') as stream:
        json.dump(results, stream, indent=2, sort_keys=True)
    print_table(results, counts, info_count)


def print_table(results, counts, info_count):
    print('\n%-46s %10s %10s %10s %10s' % ('converge, seconds (median)', 'runc_ctr', 'runc_ctrs', 'command',
                                           'podman'))
    for count in counts:
        row = results['converge'][str(count)]
        for phase in ('create', 'noop'):
            label = '%s, N=%d' % (phase, count)
            print('%-46s %10.2f %10.2f %10.2f %10.2f' % (label, row['%s_runc_container' % phase],
                                                         row['%s_runc_containers' % phase],
                                                         row['%s_command' % phase], row['%s_podman' % phase]))
    info = results['info']
    print('\nrunc_info gather=stats over %d containers: module on the host %.2fs, ad hoc end to end %.2fs, '
          'shell loop %.2fs, parallel floor %.2fs'
          % (info_count, info['info_stats_module_on_host'], info['info_stats_adhoc'],
             info['info_stats_shell_loop'], info['info_stats_parallel_floor']))
    bundle = results['bundle']
    print('\nrunc_bundle, 3-layer image (%d bytes), median of %d fresh bundles, seconds: runc_bundle task %.2f; '
          'command tasks skopeo copy + umoci unpack %.2f, umoci unpack only %.2f; the same commands without '
          'Ansible %.2f and %.2f' % (bundle['image_bytes'], bundle['samples'], bundle['create_runc_bundle'],
                                     bundle['create_copy_unpack_command'], bundle['create_unpack_command'],
                                     bundle['create_copy_unpack_raw'], bundle['create_unpack_raw']))
    print('runc_bundle over N=%d bundles: first run %.2fs, no-op %.2fs; runc_container no-op over N=%d %.2fs'
          % (bundle['count'], bundle['create_runc_bundle_n'], bundle['noop_runc_bundle'], bundle['count'],
             bundle['noop_runc_container']))
    for module, startup in sorted(results['startup'].items()):
        print('%s payload on the host: %.3fs, %d bytes; largest imports (ms): %s'
              % (module, startup['seconds'], startup['payload_bytes'],
                 ', '.join('%s %.0f' % item for item in list(startup['imports_ms'].items())[:4])))
    connection = results['connection']
    print('\n%d raw tasks, seconds (median, whole playbook): runc connection %.2f, local connection %.2f, '
          'empty playbook %.2f' % (connection['count'], connection['raw_runc'], connection['raw_local'],
                                   connection['raw_empty']))
    print('\n%-40s %10s %12s %8s' % ('goal', 'value', 'target', ''))
    for key in ('noop_ratio_vs_command', 'noop_ratio_vs_podman', 'create_ratio_vs_command',
                'create_ratio_vs_podman', 'runc_calls_per_noop', 'info_stats_ratio_vs_parallel_floor',
                'info_stats_ratio_vs_shell_loop', 'info_adhoc_ratio_vs_parallel_floor',
                'info_adhoc_ratio_vs_shell_loop', 'bundle_ratio_vs_copy_unpack', 'bundle_ratio_vs_unpack',
                'bundle_noop_ratio_vs_runc_container', 'batch_noop_ratio_vs_command',
                'batch_noop_ratio_vs_runc_container', 'batch_create_ratio_vs_runc_container',
                'batch_runc_calls_per_noop_task', 'batch_noop_playbook_ratio_vs_command',
                'batch_noop_playbook_ratio_vs_runc_container', 'connection_raw_ratio_vs_local'):
        goal = results['goals'].get(key, {})
        print('%-40s %10.2f %12s %8s' % (key, results[key], goal.get('goal', '(reported)'), goal.get('verdict', '')))
    print('\nrunc subcommands of a no-op run: %s' % ', '.join(results['runc_subcommands_per_noop']))
    print('written: bench/results/latest.json')


if __name__ == '__main__':
    main()
