# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The runtime's command line on the controller's machine, or on another host through SSH.

Shared by the runc connection and the runc_containers inventory: both run
the runtime where the containers are, and the remote form hops through the
OpenSSH client with connection sharing, one master per host.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import socket
import subprocess
import sys

from ansible_collections.oci_runtime.runc.plugins.module_utils._runc_output import log_error_messages

# runc exits with this status when it failed itself (and so does ssh).
RUNTIME_FAILURE = 255
_SSH_FAILURE = re.compile(r'^(ssh: |kex_exchange_identification|Connection (closed|reset|timed out)|'
                          r'Host key verification failed|Permission denied|mux_client_|Control socket|'
                          r'ssh_exchange_identification|Could not resolve hostname|unix_listener: |command-line line |ControlPath too long)')


class HopError(Exception):
    """The runtime, or the SSH hop to it, could not be run or failed itself."""


def runtime_argv(runtime_path, root, *args):
    argv = [runtime_path or 'runc']
    if root:
        argv += ['--root', root]
    return argv + list(args)


# A Unix socket's path has at most 107 bytes on Linux, 103 on macOS and the BSDs (sun_path, less
# its NUL). ssh makes the master's socket under a temporary name, the ControlPath followed by a dot
# and 16 random characters, and only then renames it: that longer name is the one that must fit.
_SOCKET_PATH_MAX = 107 if sys.platform.startswith('linux') else 103
_SSH_TEMPORARY_SUFFIX = 17
_SOCKET_NAME_HASH = 12


def control_socket_name(host, ssh_args=None, ssh_executable='ssh'):
    """The master's socket file name: a short hash of what makes the connection, not ssh's %C.

    %C is 40 characters, which leaves a folder of 44 at most: a project checked out a few folders
    deep already passes it (ssh then fails with 'too long for Unix domain socket'). Hashing the
    host, the user's ssh_args and the client tells apart every connection %C does (user, port and
    host come from them) and a few more, which only costs another master.
    """
    made_of = repr((socket.gethostname(), ssh_executable or 'ssh', host, list(ssh_args or [])))
    return 'runc-' + hashlib.sha1(made_of.encode('utf-8')).hexdigest()[:_SOCKET_NAME_HASH]


# ssh's options that take a value, given in the same argument (-p22) or the next one (-p 22).
_SSH_OPTIONS_WITH_VALUE = 'BbcDEeFIiJLlmOoPpQRSWw'


def _ssh_flags(ssh_args):
    """(flag, value) of each option in the user's ssh_args, in order; value is None for a flag without one.

    ValueError for a word that is not an option's value, or an option left without its value: ssh
    would take the collection's own options after it for the host or the command.
    """
    args = list(ssh_args)
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if not arg.startswith('-') or arg in ('-', '--'):
            raise ValueError('%r is not an option of ssh; give options only (the host is given apart)' % (arg,))
        for position, flag in enumerate(arg[1:], start=2):   # flags may be bundled: -qS PATH
            if flag not in _SSH_OPTIONS_WITH_VALUE:
                yield flag, None
                continue
            value = arg[position:]
            if not value:
                if index == len(args):
                    raise ValueError('%s needs a value after it' % arg)
                value, index = args[index], index + 1
            yield flag, value
            break


def _ssh_option(value, name):
    """The value -o sets for the option name (ControlPath=X, "ControlPath" 'X', ...), else None.

    Close to how ssh reads the line (words as a shell splits them, quotes of either kind, a
    comment, the keyword ended by white space or one =), which is all the two questions asked of
    it need: whether a ControlPath is given, and whether ControlMaster is no.
    """
    keyword = re.match(r'\s*("?)([A-Za-z]+)\1\s*=?', value)
    if not keyword or keyword.group(2).lower() != name:
        return None
    try:
        words = shlex.split(value[keyword.end():], comments=True)
    except ValueError:   # an unclosed quote: ssh refuses the line
        return None
    return words[0] if words else None


def _control_socket_use(ssh_args):
    """How the user's ssh_args have ssh use a control socket: 'own', 'no master' or 'master'.

    'own': they name a socket of their own (-S, -o ControlPath). 'no master': ssh only looks for
    a master, never makes one (the first ControlMaster of -o is no or false, as ssh takes the
    first; -M wins over any of them).
    """
    try:
        flags = list(_ssh_flags(ssh_args))
    except ValueError as error:
        raise HopError('ssh_args: %s' % error)
    if any(flag == 'S' or (flag == 'o' and _ssh_option(value, 'controlpath') is not None) for flag, value in flags):
        return 'own'
    masters = [_ssh_option(value, 'controlmaster') for flag, value in flags if flag == 'o']
    master = next((value for value in masters if value is not None), '')
    if master.lower() in ('no', 'false') and ('M', None) not in flags:
        return 'no master'
    return 'master'


def ssh_args_of(value, option):
    """The user's ssh_args as strings (a port may be given as a number); HopError naming option otherwise."""
    if not isinstance(value, (list, tuple)) or not all(isinstance(arg, (str, int)) and not isinstance(arg, bool)
                                                       for arg in value):
        raise HopError('%s: give a list of strings, not %r' % (option, value))
    args = [str(arg) for arg in value]
    try:
        list(_ssh_flags(args))
    except ValueError as error:
        raise HopError('%s: %s' % (option, error))
    return args


def _ssh_quoted(path):
    """path as a value of ssh's -o: quoted (a space ends it otherwise), %-tokens and escapes disarmed."""
    return '"%s"' % path.replace('\\', '\\\\').replace('"', '\\"').replace('%', '%%')


def hop_argv(argv, host, ssh_args=None, ssh_executable='ssh', control_path_dir=None, connect_timeout=None):
    """argv as run on host: through ssh, quoted for the remote shell; argv itself without a host.

    The user's ssh_args come first: ssh takes the first value of an option, so theirs win over
    these defaults (ControlPath, BatchMode, ...).
    """
    if not host:
        return list(argv)
    # The folder of the shared connections' sockets: the ssh connection's control_path_dir.
    folder = os.path.expanduser(control_path_dir or os.path.join('~', '.ansible', 'cp'))
    control_path = os.path.join(folder, control_socket_name(host, ssh_args, ssh_executable))
    # The user's own control socket wins (their ssh_args come first): the folder is not used then.
    use = _control_socket_use(ssh_args or [])
    if use != 'own':
        if '${' in folder or '\n' in folder or '\0' in folder:
            raise HopError('the SSH control folder %r cannot be given to ssh: it reads ${ as an environment variable '
                           'and stops at a line break or a NUL' % folder)
        if folder.startswith('~'):
            raise HopError('the SSH control folder %s names a home folder this machine does not know' % folder)
        # Without a master ssh only looks for one at the path: no temporary name, and no folder to make.
        longest = len(os.fsencode(control_path)) + (0 if use == 'no master' else _SSH_TEMPORARY_SUFFIX)
        if longest > _SOCKET_PATH_MAX:
            raise HopError('the SSH control folder %s is too long: the socket ssh %s in it would have a path of '
                           '%d bytes, and a Unix socket may have %d; choose a folder of at most %d bytes'
                           % (folder, 'looks for' if use == 'no master' else 'makes', longest, _SOCKET_PATH_MAX,
                              _SOCKET_PATH_MAX - (longest - len(os.fsencode(folder)))))
        if use == 'master':
            try:
                os.makedirs(folder, mode=0o700, exist_ok=True)
            except OSError as error:
                raise HopError('cannot make the SSH control folder %s: %s' % (folder, error.strerror or error))
    defaults = ['-o', 'ControlMaster=auto', '-o', 'ControlPersist=60s',
                '-o', 'ControlPath=%s' % _ssh_quoted(control_path), '-o', 'BatchMode=yes']
    if connect_timeout:
        defaults += ['-o', 'ConnectTimeout=%d' % connect_timeout]
    return ([ssh_executable or 'ssh'] + list(ssh_args or []) + defaults
            + [host, '--', ' '.join(shlex.quote(arg) for arg in argv)])


def run(argv, stdin=None, input_data=None, stdout=subprocess.PIPE, timeout=None):
    """(exit status, stdout bytes, stderr bytes); HopError when it cannot be started or timed out."""
    try:
        process = subprocess.Popen(argv, stdin=subprocess.PIPE if input_data is not None else (stdin or subprocess.DEVNULL),
                                   stdout=stdout, stderr=subprocess.PIPE)
    except OSError as error:
        raise HopError('cannot run %s: %s' % (argv[0], error.strerror or error))
    try:
        out, err = process.communicate(input_data, timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        try:
            process.communicate(timeout=1)
        except subprocess.TimeoutExpired:
            # A child of it holds the pipes: give up on them rather than wait for it.
            for stream in (process.stdin, process.stdout, process.stderr):
                if stream:
                    stream.close()
            process.wait()
        raise HopError('%s did not answer within %s seconds' % (' '.join(argv[:1]), timeout))
    return process.returncode, out or b'', err or b''


def failure_of(status, stderr, via_ssh):
    """The runtime's (or ssh's) own message when the call failed before the command ran, else None.

    Status 255 is runc's for its own failures; a command in the container may exit
    with 255 too, so only a message in runc's log format (or, through ssh, any
    message when the runtime never ran) counts.
    """
    if status != RUNTIME_FAILURE:
        return None
    text = stderr.decode('utf-8', 'replace')
    messages = log_error_messages(text)
    if messages:
        return messages[-1]
    if via_ssh:
        # ssh's own words: the runtime never ran (a command of the container saying these is unlikely).
        for line in reversed(text.strip().splitlines()):
            if _SSH_FAILURE.search(line):
                return line.strip()
    return None
