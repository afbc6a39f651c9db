#!/usr/bin/env python3
"""Say in a few lines why a gate failed, from its log: test.sh prints this after its summary.

CI keeps only the end of a run's output, so the task that failed and its message must be there,
not only in the log left on a machine that is gone. For Ansible output (integration, molecule):
each failure that was not ignored, with its play's task, and for Molecule the scenario and step
that failed. For other gates: the last lines that say error or fail.

    why_failed.py LOG [--lines N] [--width W]
"""
import argparse
import re

COLOUR = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')
# Molecule draws a box around Ansible's output: strip the frame to read the lines inside it.
FRAME = re.compile(r'^\s*│\s?')
TASK = re.compile(r'^TASK \[(?P<name>.*?)\]')
FAILURE = re.compile(r'^(fatal|failed): \[[^]]*\]')
# Lines that start something else: a failure's message ends before them.
NEXT_ITEM = re.compile(r'^(TASK \[|PLAY |RUNNING HANDLER|ok: |changed: |skipping: |included: |fatal: |failed: '
                       r'|\.\.\.ignoring|FAILED - RETRYING|[A-Z]+ +\S+ ➜ )')
MSG = re.compile(r'"msg": "((?:[^"\\]|\\.)*)"')
MOLECULE_STEP = re.compile(r'(?P<scenario>[\w-]+) ➜ (?P<step>[\w-]+): Executed: Failed')
MOLECULE_FAILED = re.compile(r'Failed: (?P<what>[\w-]+( > [\w-]+)?)')
OTHER = re.compile(r'(error|fail|fatal|not ok)', re.IGNORECASE)


def plain_lines(path):
    with open(path, encoding='utf-8', errors='replace') as log:
        for line in log:
            line = COLOUR.sub('', line.rstrip('\n'))
            yield FRAME.sub('', line)


def ansible_failures(lines):
    """The first failure of each task that has no ...ignoring, as 'TASK [name]: message'.

    A loop prints a failure per item and one ...ignoring after the last: the task, not the
    line after a failure, tells whether it was ignored."""
    found = []
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
                found.append('%s: %s' % ('TASK [%s]' % task if task else 'no task', failure))
            match = TASK.match(line)
            task, failure, ignored = match.group('name') if match else None, None, False
        elif line.startswith('...ignoring'):
            ignored = True
        elif FAILURE.match(line) and failure is None:
            message = [line.strip()]
            while index + 1 < len(lines) and lines[index + 1].strip() and not NEXT_ITEM.match(lines[index + 1]):
                index += 1
                message.append(lines[index].strip())
            failure = ' '.join(message)
            # The module's msg says why; the rest of the result (actions, argv) is in the log.
            said = MSG.search(failure)
            if said and said.group(1):
                failure = '%s %s' % (FAILURE.match(failure).group(0), said.group(1))
        index += 1
    return found


def molecule_failures(lines):
    steps = []
    for line in lines:
        match = MOLECULE_STEP.search(line) or MOLECULE_FAILED.search(line)
        if match:
            what = ('%s > %s' % (match.group('scenario'), match.group('step'))
                    if 'scenario' in match.groupdict() else match.group('what'))
            if what not in steps:
                steps.append(what)
    return ['molecule failed: %s' % step for step in steps]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('log')
    parser.add_argument('--lines', type=int, default=6)
    parser.add_argument('--width', type=int, default=400)
    args = parser.parse_args()
    lines = list(plain_lines(args.log))
    reasons = molecule_failures(lines) + ansible_failures(lines)
    if not reasons:
        reasons = [line.strip() for line in lines if OTHER.search(line)][-args.lines:]
    if not reasons:
        reasons = [line.strip() for line in lines if line.strip()][-args.lines:]
    for reason in reasons[:args.lines]:
        print(reason if len(reason) <= args.width else reason[:args.width - 3] + '...')


if __name__ == '__main__':
    main()
