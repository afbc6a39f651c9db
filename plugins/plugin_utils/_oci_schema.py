# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check an OCI runtime config against the runtime-spec JSON schema, on the controller.

The official schema (a folder of draft-04 files referring to each other) is
used when present; otherwise a compact schema of the collection's own that
covers the fields people set most.
"""

from __future__ import annotations

import functools
import json
import os

try:
    import jsonschema
except ImportError:  # the caller reports it, naming the option that needs it
    jsonschema = None

try:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4
except ImportError:  # jsonschema before 4.18 resolves references itself
    Registry = Resource = DRAFT4 = None

# Debian/Ubuntu: golang-github-opencontainers-specs-dev
PACKAGED_SCHEMA = '/usr/share/gocode/src/github.com/opencontainers/runtime-spec/schema'
ROOT_FILE = 'config-schema.json'

_STRINGS = {'type': 'array', 'items': {'type': 'string'}}
_UINT32 = {'type': 'integer', 'minimum': 0, 'maximum': 4294967295}
_INT64 = {'type': 'integer'}

COMPACT_SCHEMA = {
    '$schema': 'http://json-schema.org/draft-04/schema#',
    'description': 'Compact OCI runtime config schema of oci_runtime.runc',
    'type': 'object',
    'required': ['ociVersion'],
    'properties': {
        'ociVersion': {'type': 'string'},
        'hostname': {'type': 'string'},
        'domainname': {'type': 'string'},
        'annotations': {'type': 'object', 'additionalProperties': {'type': 'string'}},
        'root': {
            'type': 'object', 'required': ['path'],
            'properties': {'path': {'type': 'string'}, 'readonly': {'type': 'boolean'}},
        },
        'mounts': {'type': 'array', 'items': {
            'type': 'object', 'required': ['destination'],
            'properties': {'destination': {'type': 'string'}, 'source': {'type': 'string'},
                           'type': {'type': 'string'}, 'options': _STRINGS},
        }},
        'process': {
            'type': 'object', 'required': ['cwd'],
            'properties': {
                'args': _STRINGS,
                'commandLine': {'type': 'string'},
                'env': {'type': 'array', 'items': {'type': 'string', 'pattern': '^[^=]+='}},
                'cwd': {'type': 'string', 'pattern': '^/'},
                'terminal': {'type': 'boolean'},
                'noNewPrivileges': {'type': 'boolean'},
                'user': {'type': 'object', 'properties': {
                    'uid': _UINT32, 'gid': _UINT32, 'umask': _UINT32,
                    'additionalGids': {'type': 'array', 'items': _UINT32}}},
                'capabilities': {'type': 'object', 'additionalProperties': {
                    'type': 'array', 'items': {'type': 'string', 'pattern': '^CAP_[A-Z_]+$'}}},
                'rlimits': {'type': 'array', 'items': {
                    'type': 'object', 'required': ['type', 'soft', 'hard'],
                    'properties': {'type': {'type': 'string', 'pattern': '^RLIMIT_[A-Z]+$'},
                                   'soft': {'type': 'integer', 'minimum': 0},
                                   'hard': {'type': 'integer', 'minimum': 0}}}},
            },
        },
        'hooks': {'type': 'object', 'additionalProperties': {'type': 'array', 'items': {
            'type': 'object', 'required': ['path'],
            'properties': {'path': {'type': 'string'}, 'args': _STRINGS, 'env': _STRINGS,
                           'timeout': {'type': 'integer', 'minimum': 1}}}}},
        'linux': {
            'type': 'object',
            'properties': {
                'cgroupsPath': {'type': 'string'},
                'namespaces': {'type': 'array', 'items': {
                    'type': 'object', 'required': ['type'],
                    'properties': {'type': {'enum': ['mount', 'pid', 'network', 'uts', 'ipc', 'user',
                                                     'cgroup', 'time']},
                                   'path': {'type': 'string'}}}},
                'resources': {
                    'type': 'object',
                    'properties': {
                        'memory': {'type': 'object', 'properties': {
                            'limit': _INT64, 'reservation': _INT64, 'swap': _INT64, 'kernel': _INT64,
                            'kernelTCP': _INT64, 'swappiness': {'type': 'integer', 'minimum': 0},
                            'disableOOMKiller': {'type': 'boolean'}}},
                        'cpu': {'type': 'object', 'properties': {
                            'shares': {'type': 'integer', 'minimum': 0}, 'quota': _INT64,
                            'period': {'type': 'integer', 'minimum': 0},
                            'realtimeRuntime': _INT64, 'realtimePeriod': {'type': 'integer', 'minimum': 0},
                            'cpus': {'type': 'string'}, 'mems': {'type': 'string'}}},
                        'pids': {'type': 'object', 'required': ['limit'],
                                 'properties': {'limit': _INT64}},
                        'blockIO': {'type': 'object', 'properties': {
                            'weight': {'type': 'integer', 'minimum': 10, 'maximum': 1000}}},
                        'devices': {'type': 'array', 'items': {
                            'type': 'object', 'required': ['allow'],
                            'properties': {'allow': {'type': 'boolean'},
                                           'type': {'enum': ['a', 'b', 'c', 'u', 'p']},
                                           'access': {'type': 'string'}}}},
                    },
                },
            },
        },
    },
}


class SchemaUnavailable(Exception):
    """No schema can be used (jsonschema missing, or a schema folder without config-schema.json)."""


def _validator_for_folder(folder):
    root_path = os.path.join(folder, ROOT_FILE)
    try:
        with open(root_path) as stream:
            schema = json.load(stream)
    except (OSError, ValueError) as error:
        raise SchemaUnavailable('cannot read %s: %s' % (root_path, error))
    base_uri = 'file://%s' % os.path.abspath(root_path)
    # The official files refer to each other by relative name ("defs.json#...").
    schema = dict(schema, id=base_uri)
    if Registry is not None:
        def retrieve(uri):
            with open(os.path.join(folder, os.path.basename(uri.split('#')[0]))) as stream:
                return Resource.from_contents(json.load(stream), default_specification=DRAFT4)
        return jsonschema.Draft4Validator(schema, registry=Registry(retrieve=retrieve))
    resolver = jsonschema.RefResolver(base_uri, schema)
    return jsonschema.Draft4Validator(schema, resolver=resolver)


@functools.lru_cache(maxsize=8)
def load_validator(schema_path=None):
    """(validator, description of the schema used), once per controller process and schema."""
    if jsonschema is None:
        raise SchemaUnavailable('the jsonschema Python package is missing on the controller '
                                '(pip install jsonschema)')
    if schema_path:
        return _validator_for_folder(schema_path), schema_path
    if os.path.isfile(os.path.join(PACKAGED_SCHEMA, ROOT_FILE)):
        return _validator_for_folder(PACKAGED_SCHEMA), PACKAGED_SCHEMA
    return jsonschema.Draft4Validator(COMPACT_SCHEMA), 'the compact schema of oci_runtime.runc'


def schema_errors(validator, config):
    """Every violation as (path tuple, message), sorted by path."""
    errors = []
    for error in validator.iter_errors(config):
        # For anyOf/oneOf the deepest, most specific cause says the most.
        best = jsonschema.exceptions.best_match([error]) if error.context else error
        errors.append((tuple(best.absolute_path), best.message))
    return sorted(set(errors), key=lambda item: ([str(part) for part in item[0]], item[1]))
