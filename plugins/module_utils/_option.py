# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a row of the option table (_options) is; the rows themselves live there and in _options_*."""

from __future__ import annotations


CONTAINER = 'runc_container'
EXEC = 'runc_exec'
INFO = 'runc_info'
CHECKPOINT = 'runc_checkpoint'
BUNDLE = 'runc_bundle'
IMAGE = 'runc_image'
CONTAINERS = 'runc_containers'
RUN = 'runc_run'
WAIT = 'runc_wait'
MODULES = (CONTAINER, EXEC, INFO, CHECKPOINT, BUNDLE, IMAGE, CONTAINERS, RUN, WAIT)
ALL = frozenset(MODULES)


class Option:
    """One option of the collection's modules.

    ``spec`` is its Ansible argument spec. A config row has ``path`` (where in
    the OCI config it goes; for docs, diffs and error messages) and either
    ``merge`` (a function of the value already there and the option's value,
    returning the new value there) or ``apply`` (a function of the whole
    config and the value, for options that touch several places). A flag row
    has ``flag``, the field of the client's options class that carries it, and
    ``commands``, the runtime subcommands that take it. ``in_place`` says that
    ``runc update`` applies a change; ``recreates`` that a change of a flag
    needs a new container. ``rule`` is the merge rule in words, for docs.
    """

    def __init__(self, name, spec, modules, path=None, merge=None, apply=None, flag=None, commands=(),
                 in_place=False, recreates=False, rule='', target=''):
        self.name = name
        self.spec = spec
        self.modules = frozenset(modules)
        self.path = tuple(path) if path is not None else None
        self.merge = merge
        self.apply = apply
        self.flag = flag
        self.commands = tuple(commands)
        self.in_place = in_place
        self.recreates = recreates
        self.rule = rule
        # Where the option goes, in words, when it is neither a config place nor a subcommand flag.
        self.target = target

    @property
    def is_config(self):
        return self.path is not None

    def __repr__(self):
        return 'Option(%r)' % self.name
