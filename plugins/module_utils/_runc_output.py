# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Parsers for what a runc-compatible runtime prints.

Kept apart from the client so they can be tested with recorded output alone.
Every parser takes text and returns plain Python data; none of them runs a
process.
"""

from __future__ import annotations

import json
import re

# A logrus text line looks like: time="..." level=error msg="container does not exist"
_LOGRUS_TEXT_LEVEL = re.compile(r'(?:^|\s)level=(\w+)')
_LOGRUS_TEXT_MSG = re.compile(r'(?:^|\s)msg=("(?:[^"\\]|\\.)*"|\S+)')
_ERROR_LEVELS = frozenset(('error', 'fatal', 'panic'))

# "runc version 1.1.5", also "crun version 1.8.1": CLI-compatible runtimes
# print their own name first.
_VERSION_LINE = re.compile(r'^(?P<runtime>\S+) version (?P<version>\S+)')
# ps splits columns on ASCII whitespace only; a command line may hold other spaces.
_ASCII_WHITESPACE = re.compile(r'[\t\n\f\r ]+')


class OutputParseError(ValueError):
    """Output of the runtime did not have the expected shape."""


def _unquote_go(quoted):
    """Undo Go's %q quoting, which agrees with JSON for what logrus emits."""
    if not quoted.startswith('"'):
        return quoted
    try:
        return json.loads(quoted)
    except ValueError:
        return quoted[1:-1]


def parse_log_line(line):
    """Return (level, message) for one runc log line, or (None, line) for plain text.

    runc logs through logrus, as JSON (``--log-format json``) or as
    ``key=value`` text; lines from anything else are returned as they are.
    """
    stripped = line.strip()
    if stripped.startswith('{'):
        try:
            entry = json.loads(stripped)
        except ValueError:
            entry = None
        if isinstance(entry, dict) and 'msg' in entry:
            return entry.get('level'), str(entry['msg'])
    level_match = _LOGRUS_TEXT_LEVEL.search(stripped)
    msg_match = _LOGRUS_TEXT_MSG.search(stripped)
    if level_match and msg_match:
        return level_match.group(1), _unquote_go(msg_match.group(1))
    return None, stripped


def log_error_messages(text):
    """All messages logged at error level or worse, oldest first."""
    messages = []
    for line in text.splitlines():
        level, message = parse_log_line(line)
        if level in _ERROR_LEVELS and message:
            messages.append(message)
    return messages


def runtime_message(text):
    """The runtime's own explanation of a failure, taken from stderr or a log.

    The last error-level log entry wins; without one, the last plain line
    (runc prints the bare message on stderr when ``--log`` sends the
    structured one elsewhere). Returns None for empty text.
    """
    errors = log_error_messages(text)
    if errors:
        return errors[-1]
    plain = [message for level, message in map(parse_log_line, text.splitlines())
             if level is None and message]
    return plain[-1] if plain else None


def parse_version(text):
    """Parse ``runc --version`` output into a dict.

    Keys: ``runtime`` (the name the binary reports, e.g. runc or crun),
    ``runc`` (its version, named as in go-runc), ``commit`` and ``spec``
    (empty strings when absent) and ``details`` for any other ``key: value``
    line (go, libseccomp, ...). Raises OutputParseError on anything else.
    """
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    first = _VERSION_LINE.match(lines[0]) if lines else None
    if not first:
        raise OutputParseError('unexpected version output: %r' % text[:200])
    version = {
        'runtime': first.group('runtime'),
        'runc': first.group('version'),
        'commit': '',
        'spec': '',
        'details': {},
    }
    for line in lines[1:]:
        key, sep, value = line.partition(':')
        if not sep:
            # crun lists build flags such as "+SYSTEMD +SELINUX" on one line.
            version['details'].setdefault('features', []).extend(line.split())
            continue
        key, value = key.strip(), value.strip()
        if key in ('commit', 'spec'):
            version[key] = value
        else:
            version['details'][key] = value
    return version


def _ascii_fields(line):
    return [field for field in _ASCII_WHITESPACE.split(line) if field]


def parse_ps_table(text):
    """Parse ``runc ps --format table`` output into headers and process rows.

    The last column (the command line) may contain spaces and is kept whole.
    Rows whose PID is ``-`` (thread lines of ``ps -L``) are skipped, as
    docker and go-runc do. Raises OutputParseError when there is no PID
    column to key the rows on.
    """
    lines = text.splitlines()
    headers = _ascii_fields(lines[0]) if lines else []
    if 'PID' not in headers:
        raise OutputParseError('ps output has no PID column: %r' % (lines[0] if lines else ''))
    pid_index = headers.index('PID')
    last = len(headers) - 1
    processes = []
    for line in lines[1:]:
        fields = _ascii_fields(line)
        if not fields:
            continue
        if len(fields) <= pid_index or fields[pid_index] == '-':
            continue
        row = fields[:last] + [' '.join(fields[last:])]
        # A row shorter than the header has an empty command column.
        row.extend([''] * (len(headers) - len(row)))
        processes.append(row)
    return {'headers': headers, 'processes': processes}


def parse_json_output(text, what):
    """Decode the JSON a runtime printed on stdout; ``null`` stays None."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise OutputParseError('%s: runtime printed something that is not JSON (%s): %r'
                               % (what, exc, text[:200]))
