# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fake runtimes for fault injection (the client, the connection): runtimes that fail, hang or print garbage.

They never stand in for runc where a feature is shown to work; the tests
under tests/integration do that against the real runtime.
"""

from __future__ import annotations

import signal
import tempfile
import time

import pytest


@pytest.fixture
def fake_runtime(tmp_path):
    """Write an executable script and return its path: fake_runtime('exit 3')."""
    counter = iter(range(1000))

    def write(body, shebang='#!/bin/sh'):
        path = tmp_path / ('fake-runtime-%d' % next(counter))
        path.write_text('%s\n%s\n' % (shebang, body))
        path.chmod(0o755)
        return str(path)
    return write


@pytest.fixture
def private_tmpdir(tmp_path, monkeypatch):
    """Point tempfile at an empty folder, to prove temporary files are removed."""
    folder = tmp_path / 'tmp'
    folder.mkdir()
    monkeypatch.setattr(tempfile, 'tempdir', str(folder))
    return folder


@pytest.fixture
def deadline():
    """Fail a test that hangs instead of letting it block the suite."""
    def on_alarm(signum, frame):
        raise AssertionError('the client hung: the test hit its 30 s alarm')
    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def process_is_gone(pid):
    """True when pid no longer runs (absent, or a zombie nobody reaped yet)."""
    try:
        with open('/proc/%d/stat' % pid) as stat:
            return stat.read().rsplit(')', 1)[1].split()[0] == 'Z'
    except OSError:
        return True


def process_dies(pid, within=5.0):
    """True when pid is gone within a few seconds.

    A killed process closes its files before the kernel marks it a zombie:
    whoever saw its pipes close may look at it in between, the more likely
    the busier the machine.
    """
    deadline = time.monotonic() + within
    while not process_is_gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.fixture
def gone():
    return process_dies
