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
                          r'ssh_exchange_identification|Could not resolve hostname|unix_listener: |command-line line )')


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


def _sets_control_path(ssh_args):
    """Whether the user's ssh_args name a control socket of their own (-S, or -o ControlPath)."""
    args = list(ssh_args)
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if not arg.startswith('-') or arg == '-':
            continue
        for position, flag in enumerate(arg[1:], start=2):   # flags may be bundled: -qS PATH
            if flag in _SSH_OPTIONS_WITH_VALUE:
                value = arg[position:]
                if not value and index < len(args):
                    value, index = args[index], index + 1
                if flag == 'S' or (flag == 'o' and re.match(r'\s*"?controlpath"?(\s|=)', value, re.IGNORECASE)):
                    return True
                break
    return False


def ssh_args_of(value, option):
    """The user's ssh_args as strings (a port may be given as a number); HopError naming option otherwise."""
    if not isinstance(value, (list, tuple)) or not all(isinstance(arg, (str, int)) and not isinstance(arg, bool)
                                                       for arg in value):
        raise HopError('%s: give a list of strings, not %r' % (option, value))
    return [str(arg) for arg in value]


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
    if not _sets_control_path(ssh_args or []):
        if '${' in folder or '\n' in folder:
            raise HopError('the SSH control folder %r cannot be given to ssh: it reads ${ as an environment variable '
                           'and stops at a line break' % folder)
        longest = len(os.fsencode(control_path)) + _SSH_TEMPORARY_SUFFIX
        if longest > _SOCKET_PATH_MAX:
            raise HopError('the SSH control folder %s is too long: the socket ssh makes in it would have a path of '
                           '%d bytes, and a Unix socket may have %d; choose a folder of at most %d bytes'
                           % (folder, longest, _SOCKET_PATH_MAX,
                              _SOCKET_PATH_MAX - (longest - len(os.fsencode(folder)))))
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
