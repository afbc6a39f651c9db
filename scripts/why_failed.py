# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Say in a few lines why a gate failed, from its log: test.sh prints this after its summary.

CI keeps only the end of a run's output, so the task that failed and its message must be there,
not only in the log left on a machine that is gone. In this order: test.sh's own verdicts (lines
starting GATE FAILED:), the Molecule scenario and step that failed, each Ansible task failure that
was not ignored with its module's msg (or the command's stderr), and, when none of these says why,
the log's last lines that say error or fail.

    python why_failed.py LOG [--lines N] [--width W]
"""
import argparse
import re

VERDICT = 'GATE FAILED:'
COLOUR = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')
# Molecule draws a box around Ansible's output: strip the frame to read the lines inside it.
FRAME = re.compile(r'^\s*│\s?')
TASK = re.compile(r'^TASK \[(?P<name>.*?)\]')
FAILURE = re.compile(r'^(fatal|failed): \[[^]]*\]')
# Lines that start something else: a failure's result ends before them.
NEXT_ITEM = re.compile(r'^(TASK \[|PLAY |RUNNING HANDLER|ok: |changed: |skipping: |included: |fatal: |failed: '
                       r'|\.\.\.ignoring|FAILED - RETRYING|\[ERROR\]|[A-Z]+ +\S+ ➜ )')
# A JSON string field of a task's result, as Ansible prints it on one line.
FIELD = '"%s": "((?:[^"\\\\]|\\\\.)*)"'
MOLECULE_STEP = re.compile(r'(?P<scenario>[\w-]+) ➜ (?P<step>[\w-]+): Executed: Failed')
OTHER = re.compile(r'(^\[ERROR\]|error|fail|fatal|not ok)', re.IGNORECASE)


def plain_lines(path):
    with open(path, encoding='utf-8', errors='replace') as log:
        for line in log:
            line = COLOUR.sub('', line.rstrip('\n'))
            yield FRAME.sub('', line)


def field(result, name):
    match = re.search(FIELD % name, result)
    return match.group(1) if match else ''


def reason_of(failure):
    """The module's msg, and for a command its stderr: the rest of the result (argv, actions) is in the log."""
    said = [text for text in (field(failure, 'msg'), field(failure, 'stderr')) if text]
    if not said or said == ['non-zero return code']:
        stdout = field(failure, 'stdout')
        if '"failed_when_result": true' in failure:
            stdout = 'failed_when was true, stdout: %s' % stdout
        said.append(stdout)
    said = [text for text in said if text]
    return '%s %s' % (FAILURE.match(failure).group(0), ' / '.join(said)) if said else failure


def ansible_failures(lines):
    """The first failure of each task that has no ...ignoring, as 'TASK [name]: reason'.

    A loop prints a failure per item and one ...ignoring after the last: the task, not the
    line after a failure, tells whether it was ignored."""
    failures = []
    task, failure, ignored = None, None, False
    index = 0
    while index <= len(lines):
        line = lines[index] if index < len(lines) else 'TASK [end of the log]'
        if line.startswith('TASK [') and ']' not in line:
            # Molecule's box wraps a long task name onto the next lines.
            while index + 1 < len(lines) and ']' not in line:
                index += 1
                line += ' ' + lines[index].strip()
        if TASK.match(line) or line.startswith('PLAY '):
            if failure and not ignored:
                failures.append('%s: %s' % ('TASK [%s]' % task if task else 'no task', failure))
            match = TASK.match(line)
            task, failure, ignored = match.group('name') if match else None, None, False
        elif line.startswith('...ignoring'):
            ignored = True
        elif FAILURE.match(line) and failure is None:
            result = [line.strip()]
            while index + 1 < len(lines) and lines[index + 1].strip() and not NEXT_ITEM.match(lines[index + 1]):
                index += 1
                result.append(lines[index].strip())
            failure = reason_of(' '.join(result))
        index += 1
    return failures


def molecule_failures(lines):
    steps = []
    for line in lines:
        match = MOLECULE_STEP.search(line)
        if match:
            step = 'molecule failed: %s > %s' % (match.group('scenario'), match.group('step'))
            if step not in steps:
                steps.append(step)
    return steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('log')
    parser.add_argument('--lines', type=int, default=6)
    parser.add_argument('--width', type=int, default=400)
    args = parser.parse_args()
    try:
        lines = list(plain_lines(args.log))
    except OSError as error:
        print('no log to read: %s: %s' % (args.log, error.strerror))
        return
    if not lines:
        print('the log is empty: %s' % args.log)
        return
    verdicts = [line.strip() for line in lines if line.startswith(VERDICT)]
    failures = ansible_failures(lines)
    reasons = verdicts + molecule_failures(lines) + failures
    if not failures:
        # A step that failed before any task (a syntax error, say), or a gate that is not Ansible.
        reasons += [line.strip() for line in lines if OTHER.search(line) and not line.startswith(VERDICT)][-args.lines:]
    if not reasons:
        reasons = [line.strip() for line in lines if line.strip()][-args.lines:]
    for reason in reasons[:args.lines]:
        print(reason if len(reason) <= args.width else reason[:args.width - 3] + '...')


if __name__ == '__main__':
    main()
