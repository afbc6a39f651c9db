# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""runc_image: an image in the local store, copied there with skopeo (docs/images.md).

The store holds one OCI image layout per image name; tags are the layout's
refs. A copy goes to a hidden layout of its own in the store first and is
moved into place (blobs renamed, index.json replaced in one rename) only once
skopeo finished and the copy is what the source said it was, so a failure
leaves the store as it was. Nothing without the collection's marker is ever
written to or removed.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import platform as host_platform
import re
import shutil
import subprocess
import tempfile

from ansible_collections.oci_runtime.runc.plugins.module_utils._runc_root import write_atomically
from ansible_collections.oci_runtime.runc.plugins.module_utils._image_identity import (
    ImageNameError,
    STORE_MARKER,
    checked_image_name,
    checked_store,
    content_id,
    layout_path,
)

REF_NAME = 'org.opencontainers.image.ref.name'
INDEX_TYPES = ('application/vnd.oci.image.index.v1+json',
               'application/vnd.docker.distribution.manifest.list.v2+json')
TRANSPORTS = ('docker://', 'oci:', 'oci-archive:', 'docker-archive:', 'dir:')
HOST_POLICY = '/etc/containers/policy.json'
ACCEPT_ANYTHING = {'default': [{'type': 'insecureAcceptAnything'}]}
TEMP_PREFIX = '.oci_runtime_runc.tmp-'
# Go's names for the machine types Python reports.
GO_ARCH = {'x86_64': 'amd64', 'amd64': 'amd64', 'aarch64': 'arm64', 'arm64': 'arm64', 'armv7l': 'arm',
           'armv6l': 'arm', 'i386': '386', 'i686': '386', 'ppc64le': 'ppc64le', 's390x': 's390x',
           'riscv64': 'riscv64', 'mips64': 'mips64'}
_TAG = re.compile(r'[\w][\w.-]{0,127}', re.ASCII)
_SKOPEO_MSG = re.compile(r'msg="((?:[^"\\]|\\.)*)"')
MAX_MESSAGE = 2000


class ImageError(Exception):
    """The task cannot be done; the message starts with the option at fault."""


def host_architecture():
    machine = host_platform.machine()
    return GO_ARCH.get(machine, machine)


def parse_platform(text):
    """'os/arch[/variant]' as a dict, or ImageError naming platform."""
    parts = (text or '').split('/')
    if len(parts) not in (2, 3) or not all(parts) or any(not re.fullmatch(r'[\w.-]+', part) for part in parts):
        raise ImageError('platform: %r is not os/arch or os/arch/variant, for example linux/amd64' % (text,))
    wanted = {'os': parts[0], 'architecture': parts[1]}
    if len(parts) == 3:
        wanted['variant'] = parts[2]
    return wanted


def skopeo_message(stderr, secrets=()):
    """skopeo's own words: the msg of its fatal log line, or its last lines; secrets masked."""
    found = _SKOPEO_MSG.findall(stderr or '')
    if found:
        text = found[-1].encode('utf-8').decode('unicode_escape', errors='replace')
    else:
        text = ' / '.join(line.strip() for line in (stderr or '').strip().splitlines()[-3:])
    for secret in secrets:
        if secret:
            text = text.replace(secret, '********')
    text = text or 'no message'
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + ' [...]'


# -- the store ----------------------------------------------------------------------------------

def _is_ours(path):
    return os.path.isfile(os.path.join(path, STORE_MARKER))


def _mark(path):
    with open(os.path.join(path, STORE_MARKER), 'w') as marker:
        marker.write('Made by oci_runtime.runc.runc_image; never remove a folder without this file.\n')


def _read_json(path, what):
    try:
        with open(path, 'rb') as stream:
            return json.loads(stream.read().decode('utf-8'))
    except (OSError, ValueError) as error:
        raise ImageError('store: cannot read %s %s: %s' % (what, path, error))


def blob_path(layout, digest):
    algorithm, hexdigest = (digest or '').partition(':')[::2]
    if not algorithm or not re.fullmatch(r'[a-f0-9]+', hexdigest or '') or not re.fullmatch(r'[a-z0-9]+', algorithm):
        raise ImageError('store: %s names a blob %r that is not a digest' % (layout, digest))
    return os.path.join(layout, 'blobs', algorithm, hexdigest)


def read_index(layout):
    path = os.path.join(layout, 'index.json')
    if not os.path.exists(path):
        return {'schemaVersion': 2, 'manifests': []}
    index = _read_json(path, 'the index')
    if not isinstance(index, dict) or not isinstance(index.get('manifests', []), list):
        raise ImageError('store: %s is not an OCI index' % path)
    index.setdefault('manifests', [])
    return index


def tags_of(index):
    return sorted({(entry.get('annotations') or {}).get(REF_NAME) for entry in index['manifests']} - {None})


def _descriptor_of(index, tag):
    for entry in index['manifests']:
        if (entry.get('annotations') or {}).get(REF_NAME) == tag:
            return entry
    return None


def read_image(layout, tag):
    """What the layout holds under a tag: the image dict of the results, or None.

    An entry whose blobs are missing counts as no image, so that the next copy repairs it.
    """
    if not os.path.isdir(layout):
        return None
    descriptor = _descriptor_of(read_index(layout), tag)
    if descriptor is None:
        return None
    if descriptor.get('mediaType') in INDEX_TYPES:
        raise ImageError('store: %s:%s is an image index; runc_image keeps one platform per tag' % (layout, tag))
    manifest_file = blob_path(layout, descriptor.get('digest'))
    if not os.path.isfile(manifest_file):
        return None
    manifest = _read_json(manifest_file, 'the manifest')
    config_descriptor = manifest.get('config') if isinstance(manifest, dict) else None
    if not isinstance(config_descriptor, dict):
        raise ImageError('store: %s is not an image manifest' % manifest_file)
    files = [manifest_file, blob_path(layout, config_descriptor.get('digest'))]
    files += [blob_path(layout, layer.get('digest')) for layer in manifest.get('layers') or []]
    if not all(os.path.isfile(path) for path in files):
        return None
    image_config = _read_json(files[1], 'the image config')
    return describe(image_config, manifest_digest=descriptor['digest'],
                    config_digest=config_descriptor['digest'], size=sum(os.path.getsize(path) for path in files))


def describe(image_config, manifest_digest=None, config_digest=None, size=None):
    if not isinstance(image_config, dict):
        raise ImageError('source: the image config is not a JSON object')
    return {
        'content_id': content_id(image_config),
        'manifest_digest': manifest_digest,
        'config_digest': config_digest,
        'size': size,
        'config': image_config.get('config') or {},
        'architecture': image_config.get('architecture'),
        'os': image_config.get('os'),
        'variant': image_config.get('variant'),
    }


def referenced_blobs(layout, index):
    """Paths of every blob the index reaches (manifests, nested indexes, configs, layers)."""
    reached = set()
    pending = list(index['manifests'])
    while pending:
        descriptor = pending.pop()
        path = blob_path(layout, descriptor.get('digest'))
        if path in reached:
            continue
        reached.add(path)
        media_type = descriptor.get('mediaType') or ''
        if ('manifest' in media_type or 'index' in media_type) and os.path.isfile(path):
            content = _read_json(path, 'the manifest')
            if isinstance(content, dict):
                pending += content.get('manifests') or []
                pending += [content['config']] if isinstance(content.get('config'), dict) else []
                pending += content.get('layers') or []
    return reached


def collect_garbage(layout, index):
    """Remove the blobs of the layout that no tag reaches any more."""
    keep = referenced_blobs(layout, index)
    blobs = os.path.join(layout, 'blobs')
    for algorithm in os.listdir(blobs) if os.path.isdir(blobs) else []:
        folder = os.path.join(blobs, algorithm)
        for name in os.listdir(folder):
            if os.path.join(folder, name) not in keep:
                os.unlink(os.path.join(folder, name))


def write_index(layout, index):
    """Replace index.json in one rename, so that readers see the old or the new one."""
    write_atomically(os.path.join(layout, 'index.json'), json.dumps(index, separators=(',', ':')), mode=0o644,
                     prefix='.index.json.', suffix='')


class ImageTask:
    """One runc_image task: read the store and the source, decide, copy or remove, report."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.check_mode = module.check_mode
        self.actions = []
        self.changed = False
        self.private = None
        self.created = []       # folders this run made in the store, removed again on failure
        self.secrets = [self.params.get('password')]

    # -- input ------------------------------------------------------------------------------

    def validate(self):
        params = self.params
        try:
            checked_image_name(params['name'])
        except ImageNameError as error:
            raise ImageError('name: %s' % error)
        if not _TAG.fullmatch(params['tag'] or ''):
            raise ImageError('tag: %r is not a tag (letters, digits, "_", "." and "-", at most 128, '
                             'not starting with "." or "-")' % (params['tag'],))
        try:
            self.store = checked_store(params['store'])
        except ImageNameError as error:
            raise ImageError('store: %s' % error)
        self.layout = layout_path(self.store, params['name'])
        source = params['source']
        if source is not None and not source.startswith(TRANSPORTS):
            raise ImageError('source: %r names no transport skopeo copies from; start it with one of %s'
                             % (source, ', '.join(TRANSPORTS)))
        self.from_registry = bool(source and source.startswith('docker://'))
        if bool(params['username']) != bool(params['password']):
            raise ImageError('%s: give username and password together' % ('password' if params['username'] else 'username'))
        if params['username'] and params['authfile']:
            raise ImageError('authfile: give either authfile or username and password')
        if (params['username'] or params['authfile']) and source and not self.from_registry:
            raise ImageError('%s: only docker:// sources take credentials' % ('username' if params['username'] else 'authfile'))
        for option in ('authfile', 'policy'):
            if params[option] and not os.path.isfile(params[option]):
                raise ImageError('%s: %s is not a file' % (option, params[option]))
        self.wanted = parse_platform(params['platform']) if params['platform'] else None
        timeout = params['skopeo_timeout']
        if timeout is None or not 0 < timeout < 10 ** 9:
            raise ImageError('skopeo_timeout: %s is not a number of seconds above 0' % (timeout,))
        if not shutil.which(params['skopeo_path'] or ''):
            raise ImageError('skopeo_path: cannot find %r, or it is not executable' % (params['skopeo_path'],))
        self.check_store_chain()

    def check_store_chain(self):
        """Every folder from the store to the layout is missing, empty, or carries the marker."""
        path = self.store
        parts = [None] + self.params['name'].split('/')
        for part in parts:
            path = path if part is None else os.path.join(path, part)
            option = 'store' if part is None else 'name'
            if os.path.islink(path):
                raise ImageError('%s: %s is a symbolic link; the store holds real folders only' % (option, path))
            if not os.path.lexists(path):
                return
            if not os.path.isdir(path):
                raise ImageError('%s: %s exists and is not a folder' % (option, path))
            if not _is_ours(path) and os.listdir(path):
                raise ImageError('%s: %s holds other things and not the marker file %s, so runc_image does '
                                 'not write there; give a new or empty folder, or one the collection made'
                                 % (option, path, STORE_MARKER))

    # -- skopeo -----------------------------------------------------------------------------

    def private_folder(self):
        if self.private is None:
            self.private = tempfile.mkdtemp(prefix='oci-runtime-runc-image-')
            os.chmod(self.private, 0o700)
        return self.private

    def global_args(self):
        params = self.params
        argv = [params['skopeo_path']]
        policy = params['policy'] or (HOST_POLICY if os.path.isfile(HOST_POLICY) else None)
        if policy is None:
            policy = os.path.join(self.private_folder(), 'policy.json')
            if not os.path.exists(policy):
                with open(policy, 'w') as stream:
                    json.dump(ACCEPT_ANYTHING, stream)
        argv += ['--policy', policy]
        if self.wanted:
            argv += ['--override-os', self.wanted['os'], '--override-arch', self.wanted['architecture']]
            if 'variant' in self.wanted:
                argv += ['--override-variant', self.wanted['variant']]
        return argv

    def authfile(self):
        """The authfile option, or one written (0600, private folder) from username and password."""
        params = self.params
        if params['authfile']:
            return params['authfile']
        if not params['username']:
            return None
        path = os.path.join(self.private_folder(), 'auth.json')
        if not os.path.exists(path):
            registry = self.params['source'][len('docker://'):].split('/', 1)[0]
            token = base64.b64encode(('%s:%s' % (params['username'], params['password'])).encode('utf-8'))
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, 'w') as stream:
                json.dump({'auths': {registry: {'auth': token.decode('ascii')}}}, stream)
        return path

    def source_args(self, prefix):
        """Flags for reading the source: prefix '' for inspect, 'src-' for copy."""
        argv = []
        if self.from_registry:
            argv.append('--%stls-verify=%s' % (prefix, 'true' if self.params['tls_verify'] else 'false'))
            authfile = self.authfile()
            if authfile:
                argv += ['--%sauthfile' % prefix, authfile]
        return argv

    def skopeo(self, argv):
        try:
            completed = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       timeout=self.params['skopeo_timeout'], check=False)
        except subprocess.TimeoutExpired:
            command = 'copy' if 'copy' in argv else 'inspect'
            raise ImageError('skopeo_timeout: skopeo %s took longer than %s seconds and was killed'
                             % (command, self.params['skopeo_timeout']))
        except OSError as error:
            raise ImageError('skopeo_path: cannot run %s: %s' % (argv[0], error))
        stderr = completed.stderr.decode('utf-8', errors='replace')
        if completed.returncode != 0:
            raise ImageError(self.blame(skopeo_message(stderr, self.secrets)))
        return completed.stdout

    def blame(self, message):
        """The option a skopeo failure is about, and its words."""
        lowered = message.lower()
        if re.search(r'unauthorized|authentication required|access denied|denied:|\b401\b|\b403\b', lowered):
            if self.params['username']:
                return ('password: the registry refused username %r and its password: skopeo says: %s'
                        % (self.params['username'], message))
            return ('username: the registry wants credentials (username and password, or authfile): '
                    'skopeo says: %s' % message)
        if re.search(r'x509|certificate|http response to https|tls', lowered):
            return 'tls_verify: skopeo says: %s' % message
        if 'policy' in lowered and 'signature' not in lowered:
            return 'policy: skopeo says: %s' % message
        if re.search(r'no image found in (image index|manifest list) for architecture', lowered):
            return 'platform: skopeo says: %s' % message
        return 'source: skopeo says: %s' % message

    def inspect_source(self):
        """The source's image config, for the platform asked (or the host's)."""
        argv = self.global_args() + ['inspect', '--config', '--raw'] + self.source_args('') + [self.params['source']]
        output = self.skopeo(argv)
        try:
            image_config = json.loads(output.decode('utf-8'))
        except ValueError:
            raise ImageError('source: skopeo printed an image config that is not JSON')
        self.check_platform(image_config, 'source %s' % self.params['source'])
        return image_config

    def check_platform(self, image_config, where):
        if not isinstance(image_config, dict):
            raise ImageError('source: the image config is not a JSON object')
        wanted = self.wanted or {'os': 'linux', 'architecture': host_architecture()}
        found = {key: image_config.get(key) for key in wanted}
        if found != wanted:
            raise ImageError('platform: %s is for %s, not %s%s' % (
                where, '/'.join(str(found[key]) for key in wanted), '/'.join(wanted.values()),
                '' if self.params['platform'] else ' (this host; set platform to ask for another)'))

    # -- the store, written -----------------------------------------------------------------

    def ensure_folders(self, upto):
        """Create (and mark) the missing folders from the store down to upto, marking empty ones adopted."""
        chain = [self.store]
        relative = os.path.relpath(upto, self.store)
        if relative != '.':
            for part in relative.split(os.sep):
                chain.append(os.path.join(chain[-1], part))
        for folder in chain:
            if not os.path.isdir(folder):
                os.mkdir(folder, 0o755)
                self.created.append(folder)
            if not _is_ours(folder):
                _mark(folder)

    def remove_stale_staging(self):
        """Hidden layouts of copies that were killed: under the store's lock nobody else is copying."""
        for entry in os.listdir(self.store):
            path = os.path.join(self.store, entry)
            if entry.startswith(TEMP_PREFIX) and not os.path.islink(path) and os.path.isdir(path) and _is_ours(path):
                shutil.rmtree(path)

    def lock_store(self):
        fd = os.open(self.store, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd

    def copy_in(self, source_identity):
        """skopeo copy to a hidden layout in the store, checked, then moved into place."""
        tag = self.params['tag']
        self.ensure_folders(self.store)
        lock = self.lock_store()
        try:
            self.check_store_chain()   # again, under the lock
            self.remove_stale_staging()
            staging = tempfile.mkdtemp(dir=self.store, prefix=TEMP_PREFIX)
            try:
                _mark(staging)
                copied = os.path.join(staging, 'layout')
                argv = (self.global_args() + ['copy', '--quiet'] + self.source_args('src-')
                        + [self.params['source'], 'oci:%s:%s' % (copied, tag)])
                self.skopeo(argv)
                image = read_image(copied, tag)
                if image is None:
                    raise ImageError('source: skopeo copied no complete image to %s' % copied)
                self.check_platform({'os': image['os'], 'architecture': image['architecture'],
                                     'variant': image['variant']}, 'the copied image')
                if image['content_id'] != source_identity:
                    raise ImageError('source: the copied image (%s) is not the one inspected a moment before (%s); '
                                     'the source changed meanwhile, run again' % (image['content_id'], source_identity))
                self.move_into_place(copied, tag)
                self.actions.append(self.shown(argv))
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        finally:
            os.close(lock)

    def move_into_place(self, copied, tag):
        parent = os.path.dirname(self.layout)
        self.ensure_folders(parent)
        if not os.path.exists(self.layout):
            _mark(copied)
            os.rename(copied, self.layout)
            self.created.append(self.layout)
            return
        if not _is_ours(self.layout):
            _mark(self.layout)   # an empty folder, adopted (check_store_chain refused anything else)
        new_descriptor = _descriptor_of(read_index(copied), tag)
        for algorithm in os.listdir(os.path.join(copied, 'blobs')):
            target_folder = os.path.join(self.layout, 'blobs', algorithm)
            os.makedirs(target_folder, 0o755, exist_ok=True)
            for name in os.listdir(os.path.join(copied, 'blobs', algorithm)):
                if not os.path.exists(os.path.join(target_folder, name)):
                    os.rename(os.path.join(copied, 'blobs', algorithm, name), os.path.join(target_folder, name))
        if not os.path.exists(os.path.join(self.layout, 'oci-layout')):
            os.rename(os.path.join(copied, 'oci-layout'), os.path.join(self.layout, 'oci-layout'))
        index = read_index(self.layout)
        index['manifests'] = [entry for entry in index['manifests']
                              if (entry.get('annotations') or {}).get(REF_NAME) != tag] + [new_descriptor]
        write_index(self.layout, index)
        collect_garbage(self.layout, index)

    def remove_tag(self):
        """Drop the tag; with no tag left, the layout's files, its folder and empty marked parents."""
        lock = self.lock_store()
        try:
            self.check_store_chain()
            index = read_index(self.layout)
            index['manifests'] = [entry for entry in index['manifests']
                                  if (entry.get('annotations') or {}).get(REF_NAME) != self.params['tag']]
            if index['manifests']:
                write_index(self.layout, index)
                collect_garbage(self.layout, index)
                return
            for name in ('index.json', 'oci-layout'):
                if os.path.exists(os.path.join(self.layout, name)):
                    os.unlink(os.path.join(self.layout, name))
            if os.path.isdir(os.path.join(self.layout, 'blobs')):
                shutil.rmtree(os.path.join(self.layout, 'blobs'))
            folder = self.layout
            while folder != self.store and _is_ours(folder) and os.listdir(folder) == [STORE_MARKER]:
                os.unlink(os.path.join(folder, STORE_MARKER))
                os.rmdir(folder)
                folder = os.path.dirname(folder)
        finally:
            os.close(lock)

    def shown(self, argv):
        """An argv for the results: the private folder's files are named, never read out."""
        return list(argv)

    def undo_created(self):
        for folder in reversed(self.created):
            try:
                if os.path.isdir(folder) and set(os.listdir(folder)) <= {STORE_MARKER}:
                    if os.path.exists(os.path.join(folder, STORE_MARKER)):
                        os.unlink(os.path.join(folder, STORE_MARKER))
                    os.rmdir(folder)
            except OSError:
                pass

    # -- the task ---------------------------------------------------------------------------

    def result_image(self, image):
        if image is None:
            return None
        image = dict(image, name=self.params['name'], tag=self.params['tag'], store_path=self.layout)
        if not image.get('variant'):
            image.pop('variant', None)
        return image

    def present(self):
        params = self.params
        current = read_image(self.layout, params['tag'])
        if current is not None:
            try:
                self.check_platform(current, 'the stored image %s:%s' % (self.layout, params['tag']))
            except ImageError:
                if params['pull'] == 'missing' or not params['source']:
                    raise
        if current is not None and (params['pull'] == 'missing' or not params['source']):
            return current, current
        if not params['source']:
            raise ImageError('source: %s:%s is not in the store; give source to copy it from'
                             % (params['name'], params['tag']))
        source_config = self.inspect_source()
        wanted = describe(source_config)
        if current is not None and current['content_id'] == wanted['content_id']:
            return current, current
        self.changed = True
        if self.check_mode:
            argv = (self.global_args() + ['copy', '--quiet'] + self.source_args('src-')
                    + [params['source'], 'oci:%s/%sXXXXXX/layout:%s' % (self.store, TEMP_PREFIX, params['tag'])])
            self.actions.append(self.shown(argv))
            return current, wanted
        self.copy_in(wanted['content_id'])
        return current, read_image(self.layout, params['tag'])

    def absent(self):
        current = read_image(self.layout, self.params['tag']) if os.path.isdir(self.layout) else None
        tagged = os.path.isdir(self.layout) and self.params['tag'] in tags_of(read_index(self.layout))
        if tagged:
            self.changed = True
            if not self.check_mode:
                self.remove_tag()
        return current, None

    def run(self):
        result = {}
        try:
            self.validate()
            before, after = self.present() if self.params['state'] == 'present' else self.absent()
        except ImageError as error:
            if not self.check_mode:
                self.undo_created()
            self.cleanup()
            self.module.fail_json(msg=str(error), changed=False, actions=self.actions)
        except OSError as error:
            if not self.check_mode:
                self.undo_created()
            self.cleanup()
            self.module.fail_json(msg='store: %s' % error, changed=False, actions=self.actions)
        except (TypeError, AttributeError, KeyError, ValueError) as error:
            # A store or an image of another shape than the OCI layout's: never a traceback, and
            # never the private folder with the credentials left behind.
            if not self.check_mode:
                self.undo_created()
            self.cleanup()
            self.module.fail_json(msg='name: the image in the store or at the source has another shape than an OCI '
                                  'image (%s)' % type(error).__name__, changed=False, actions=self.actions)
        self.cleanup()
        result.update(changed=self.changed, actions=self.actions, image=self.result_image(after))
        if self.module._diff:
            result['diff'] = {'before': {'content_id': before and before['content_id']},
                              'after': {'content_id': after and after['content_id']}}
        self.module.exit_json(**result)

    def cleanup(self):
        if self.private:
            shutil.rmtree(self.private, ignore_errors=True)
