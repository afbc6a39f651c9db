# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every module that changes a container does around its own logic.

Refuse bad input first, take the container's lock, let the module do its
work, and turn every kind of failure into one fail_json that names the
option at fault or carries the runtime's own message.
"""

from __future__ import annotations

import os

from ansible_collections.oci_runtime.runc.plugins.module_utils._runc_root import ContainerLock, LockTimeout
from ansible_collections.oci_runtime.runc.plugins.module_utils._runtime_options import (
    effective_root,
    error_result,
    runc_from_params,
    runtime_fault,
    runtime_option_problem,
)
from ansible_collections.oci_runtime.runc.plugins.module_utils.runc import RuncError, validate_container_id


class TaskError(Exception):
    """The task cannot be done as asked; the message starts with the option at fault."""


def checked_id(container_id):
    try:
        return validate_container_id(container_id)
    except RuncError as error:
        raise TaskError('name: %s' % error)


def require_absolute(params, *options):
    for option in options:
        if params.get(option) and not os.path.isabs(params[option]):
            raise TaskError('%s: %r is relative; give an absolute path' % (option, params[option]))


def is_within(path, folder):
    """Whether path is folder or lies below it (both resolved)."""
    return path == folder or path.startswith(folder.rstrip('/') + '/')


def in_bundle(path, bundle):
    """A path relative to a bundle folder, unless absolute; None stays None."""
    if not path:
        return None
    return path if os.path.isabs(path) else os.path.join(bundle, path)


class ContainerTask:
    """Base of the modules that change one container, under its lock.

    Subclasses implement validate() (no host changes), manage() (under the
    lock, returns the result dict) and may override released() to act once
    the task is done with the lock.
    """

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.check_mode = module.check_mode
        self.container_id = self.params['name']
        self.option_problem = runtime_option_problem(self.params)
        self.runc = runc_from_params(self.params)
        self.root = effective_root(self.params)
        self.planned = []      # argv of every mutating runtime call, in check mode
        self.lock = None       # the container's lock, once held
        self.changed = False
        # Options naming host paths, for option_of_path.
        self.path_options = ['root'] + [name for name, value in self.params.items()
                                        if isinstance(value, str) and name not in ('name', 'state')
                                        and value.startswith('/')]

    def validate(self):
        raise NotImplementedError

    def creates_lock(self):
        """Whether the task may create the runc root and the lock file (a dry run never does)."""
        return not self.check_mode

    def failing_option(self, error):
        """The option a runtime's refusal is about: the container (name) unless a subclass knows better."""
        return 'name'

    def option_of_path(self, filename):
        """The path option a file belongs to (the one naming its nearest folder), for error messages."""
        best, best_length = 'root', -1
        for option in self.path_options:
            value = self.params.get(option)
            if not value or not filename:
                continue
            folder = os.path.join(value, '')
            if (filename == value or filename.startswith(folder)) and len(value) > best_length:
                best, best_length = option, len(value)
        return best

    def manage(self):
        raise NotImplementedError

    def described(self, error):
        """An error as a message: a file's error names the option the file belongs to."""
        if isinstance(error, OSError):
            return '%s: %s' % (self.option_of_path(error.filename), error)
        return str(error)

    def finish(self, lock):
        """Last words under the lock, once manage() succeeded."""

    def actions(self):
        """argv of every mutating runtime call: run, or planned in check mode."""
        return self.planned if self.check_mode else self.runc.mutations_run

    def stdio_path(self, name, bundle):
        """A stdout/stderr path option: relative paths are relative to the bundle."""
        return in_bundle(self.params[name], bundle)

    def failure(self, msg, **extra):
        """A failed result; changed says whether anything was changed on the way (a rollback, say)."""
        changed = bool(self.runc.mutations_run) and not self.check_mode
        return dict(extra, failed=True, msg=msg, changed=changed, actions=self.actions())

    def outcome(self):
        """The task's result: what manage() returned, or a failure naming the option at fault."""
        if self.option_problem:
            return dict(failed=True, msg=self.option_problem, changed=False, actions=[])
        try:
            self.validate()
            with ContainerLock(self.root, self.container_id, self.params['lock_timeout'],
                               create=self.creates_lock()) as lock:
                self.lock = lock
                try:
                    result = self.manage()
                    self.finish(lock)
                except BaseException:
                    lock.undo_creation(self.container_id)
                    raise
        except TaskError as error:
            return self.failure(str(error))
        except LockTimeout as error:
            return self.failure('lock_timeout: %s' % error)
        except RuncError as error:
            return self.failure(runtime_fault(error, self.failing_option(error)), **error_result(error))
        except OSError as error:
            # A file the task reads or writes: name the option it came from.
            return self.failure(self.described(error))
        return result

    def run(self):
        result = self.outcome()
        if result.get('failed'):
            result.pop('failed')
            self.module.fail_json(**result)
        self.module.exit_json(**result)
