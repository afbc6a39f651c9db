# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check runc_container's config on the controller, then run the module on the host.

jsonschema then lives on the controller only; managed hosts need nothing but
Python's standard library.
"""

from __future__ import annotations

import functools

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.oci_runtime.runc.plugins.module_utils._config_merge import ConfigError, format_path
from ansible_collections.oci_runtime.runc.plugins.module_utils._container_config import (
    MINIMAL_SPEC,
    compose_config,
    hide_secrets,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils._options import (
    CONTAINER,
    argument_spec,
    not_a_dict_problem,
    option_for_path,
    writes_config,
)
from ansible_collections.oci_runtime.runc.plugins.plugin_utils._checked_action import CheckedAction
from ansible_collections.oci_runtime.runc.plugins.plugin_utils._oci_schema import (
    SchemaUnavailable,
    load_validator,
    schema_errors,
)


@functools.lru_cache(maxsize=None)
def _argument_validator(module):
    # Built once per controller process: a loop of many tasks pays for it once.
    return ArgumentSpecValidator(argument_spec(module))


class ActionModule(CheckedAction):
    # runc_run's action is this one, for its own options (the same config rows).
    MODULE = CONTAINER

    def problem(self, task_args):
        problem = self._check_config(task_args)
        # A schema's complaint may quote an env entry: never a secret one.
        secrets = [str(value) for value in (task_args.get('secret_env') or {}).values()]
        return hide_secrets(problem, secrets) if problem else None

    @classmethod
    def _check_config(cls, task_args):
        """A message naming the option at fault, or None when the config is fine."""
        problem = not_a_dict_problem(task_args)
        if problem:
            return problem
        validated = _argument_validator(cls.MODULE).validate(dict(task_args))
        if validated.error_messages:
            # The module reports argument errors itself, word for word.
            return None
        params = validated.validated_parameters
        if not params['validate_spec'] or params.get('state') == 'absent' or not writes_config(params):
            return None
        try:
            config = compose_config(MINIMAL_SPEC, params)
        except ConfigError as error:
            return str(error)
        try:
            validator, schema_name = load_validator(params['schema_path'])
        except SchemaUnavailable as error:
            option = 'schema_path' if params['schema_path'] else 'validate_spec'
            return '%s: %s; or set validate_spec: false' % (option, error)
        errors = schema_errors(validator, config)
        if not errors:
            return None
        lines = ['%s: %s: %s' % (option_for_path(path, params), format_path(path), message)
                 for path, message in errors]
        return '%s (checked against the OCI runtime-spec schema in %s)' % ('; '.join(lines), schema_name)
