# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Console sockets: how a caller receives the pty of a terminal container.

runc creates the pseudoterminal of a container whose ``process.terminal`` is
true, connects to the AF_UNIX socket given with ``--console-socket`` and sends
the pty master as SCM_RIGHTS ancillary data. ConsoleSocket owns such a socket
in a private temporary folder.
"""

from __future__ import annotations

import array
import os
import shutil
import socket
import tempfile

# One fd, as runc sends it; room for a few more so a misbehaving sender is
# detected instead of silently truncated.
_MAX_FDS = 4


class ConsoleSocketError(Exception):
    """The pty master could not be received."""


class ConsoleSocket:
    """A listening unix socket in a private (0700) temporary folder.

    Use as a context manager, or call close(); closing removes the folder.
    Pass the object (or its ``path``) as ``console_socket`` to create, run,
    exec or restore, then call receive_master().
    """

    def __init__(self, directory=None):
        self._folder = tempfile.mkdtemp(prefix='runc-console-', dir=directory)
        self.path = os.path.join(self._folder, 'pty.sock')
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._listener.bind(self.path)
            self._listener.listen(1)
        except OSError:
            self.close()
            raise

    def receive_master(self, timeout=30.0):
        """Wait for the runtime to connect and return the pty master fd.

        The caller owns the returned file descriptor and must close it.
        """
        self._listener.settimeout(timeout)
        try:
            connection, dummy_address = self._listener.accept()
        except socket.timeout:
            raise ConsoleSocketError('no runtime connected to console socket %s within %ss'
                                     % (self.path, timeout))
        with connection:
            connection.settimeout(timeout)
            fds = array.array('i')
            message, ancillary, dummy_flags, dummy_address = connection.recvmsg(
                4096, socket.CMSG_SPACE(_MAX_FDS * fds.itemsize))
            for level, kind, payload in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    usable = len(payload) - (len(payload) % fds.itemsize)
                    fds.frombytes(payload[:usable])
        if len(fds) != 1:
            for fd in fds:
                os.close(fd)
            raise ConsoleSocketError('expected one pty master on %s, received %d file descriptors '
                                     '(message %r)' % (self.path, len(fds), message[:100]))
        return fds[0]

    def close(self):
        self._listener.close()
        shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
