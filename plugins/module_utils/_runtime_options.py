# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The runtime options every module of the collection takes (doc fragment: runtime)."""

from __future__ import annotations

import math
import os
import shutil

from ansible_collections.oci_runtime.runc.plugins.module_utils._runc_root import default_root
from ansible_collections.oci_runtime.runc.plugins.module_utils.runc import Runc, RuncError

_ROOTLESS = {'auto': None, 'true': True, 'false': False}
# Options in seconds, of any module; a time limit in NaN or infinity would wait forever.
TIME_OPTIONS = ('runtime_timeout', 'stop_timeout', 'lock_timeout', 'timeout', 'umoci_timeout', 'restart_sec',
                'start_limit_interval', 'interval')
MAX_SECONDS = 10 ** 9
# Characters of a failed runtime call's stdout and stderr a result keeps.
MAX_OUTPUT = 65536


def _holds_nul(value):
    if isinstance(value, str):
        return '\0' in value
    if isinstance(value, (list, tuple)):
        return any(_holds_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    return False


def runtime_option_problem(params):
    """A message naming the runtime option at fault, or None when they are usable.

    Every module calls this before anything else, so that a bad root or time
    limit fails cleanly instead of surfacing later as a runtime's odd reply.
    """
    for name in sorted(params):
        # No path, argument or name the runtime or the kernel takes may hold one.
        if _holds_nul(params[name]):
            return '%s: holds a NUL byte' % name
    for name in TIME_OPTIONS:
        value = params.get(name)
        if value is None:
            continue
        if math.isnan(value) or math.isinf(value) or value >= MAX_SECONDS:
            return '%s: %s is not a number of seconds below %d' % (name, value, MAX_SECONDS)
        if value < 0:
            return '%s: %s is negative' % (name, value)
    if not params['runtime_path']:
        return 'runtime_path: must not be empty'
    if not shutil.which(params['runtime_path']):
        return ('runtime_path: cannot find %s%s, or it is not executable'
                % (params['runtime_path'], '' if '/' in params['runtime_path'] else ' on PATH'))
    log = params['log']
    if log is not None:
        if not log or '\0' in log or not os.path.isdir(os.path.dirname(os.path.abspath(log))):
            return 'log: %r is not a file in an existing folder' % (log,)
        if os.path.isdir(log):
            return 'log: %s is a folder; give a file' % log
    root = params['root']
    if root is not None:
        if not root or not os.path.isabs(root):
            return 'root: %r is not an absolute path' % (root,)
        if os.path.lexists(root) and not os.path.isdir(root):
            return 'root: %s exists and is not a folder' % root
    return None


def runc_from_params(params):
    """A Runc client configured from the shared runtime options.

    Never raises: options runtime_option_problem refuses give a client that
    is never called.
    """
    return Runc(
        command=params['runtime_path'] or 'runc',
        root=params['root'],
        debug=params['debug'],
        log=params['log'],
        log_format=params['log_format'],
        systemd_cgroup=params['systemd_cgroup'],
        rootless=_ROOTLESS[params['rootless']],
        # 0 means no limit, as runc_exec's timeout does; a negative one is
        # refused by runtime_option_problem before any call.
        timeout=params['runtime_timeout'] if params['runtime_timeout'] > 0 else None,
    )


def effective_root(params):
    """The runc root in use: the root option, or where the runtime keeps its state by default."""
    return params['root'] or default_root(params['runtime_path'])


def error_result(error):
    """What a module returns about a RuncError besides msg."""
    if not isinstance(error, RuncError):
        return {}
    result = {key: value for key, value in error.as_dict().items() if key != 'msg'}
    for stream in ('stdout', 'stderr'):
        # A runtime that floods its output must not flood the result too.
        if isinstance(result.get(stream), str) and len(result[stream]) > MAX_OUTPUT:
            result[stream] = result[stream][:MAX_OUTPUT] + '\n[... %d more characters]' % (
                len(result[stream]) - MAX_OUTPUT)
    return result


def runtime_fault(error, option):
    """The message of a RuncError, starting with the option at fault.

    A runtime that ran out of time is runtime_timeout's fault; one that could
    not be started, failed without a word, or answered with something runc
    never prints (it exited 0, so it did not fail) is runtime_path's. Any
    other failure is about what the runtime was asked: ``option``.
    """
    if error.timed_out:
        return 'runtime_timeout: %s' % error
    if error.argv is not None and (error.exit_status in (None, 0) or not error.runc_message):
        return 'runtime_path: %s' % error
    return '%s: %s' % (option, error)
