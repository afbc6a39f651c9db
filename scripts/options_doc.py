"""Write docs/options.md from the option table (plugins/module_utils/_options.py).

    python scripts/options_doc.py          rewrite docs/options.md
    python scripts/options_doc.py --check  exit 1 if docs/options.md is not what the table says

with the collection importable (OCI_RUNC_COLLECTIONS_ROOT: a folder holding
ansible_collections/oci_runtime/runc).

A unit test runs the same check, so the page cannot go stale.
"""

from __future__ import annotations

import os
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE = os.path.join(TOP, 'docs', 'options.md')

HEADER = """# Options of the modules

Generated from the option table, `plugins/module_utils/_options.py`, by
`scripts/options_doc.py`; do not edit by hand. `ansible-doc` has each option's full
documentation; `docs/idempotency.md` says how differences are applied.

- **Target**: where the option goes: a place in the container's OCI config (`config.json`),
  a flag of the runtime's subcommands, or nothing (the option steers the module).
- **Merge**: how the option's value is laid over the base config (the runtime's default
  spec, then `spec`, then the options above it in the table).
- **On change**: for an existing container, `in place` (`runc update`, same process),
  `re-create` (a new container), or nothing.
"""


def _import_table():
    collections = os.environ.get('OCI_RUNC_COLLECTIONS_ROOT')
    if collections:
        sys.path.insert(0, collections)
    from ansible_collections.oci_runtime.runc.plugins.module_utils import _options  # pylint: disable=import-error
    return _options


def _type(spec):
    kind = spec.get('type', 'str')
    if kind == 'list':
        return 'list of %s' % spec.get('elements', 'str')
    return kind


def _target(row):
    if row.path == ():
        return 'the whole config'
    if row.path:
        return '`%s`' % '.'.join(row.path)
    if row.flag:
        return '`--%s` of %s' % (row.flag.replace('_', '-'), ', '.join('`%s`' % command for command in row.commands))
    if row.recreates:
        return 'the process\'s standard output or error file, on create'
    return row.target


def _on_change(row, module):
    if module not in ('runc_container',):
        return ''
    if row.in_place:
        return 'in place'
    if row.is_config or row.recreates:
        return 're-create'
    return ''


def render():
    options = _import_table()
    lines = [HEADER]
    for module in options.MODULES:
        lines.append('\n## %s\n' % module)
        lines.append('| Option | Type | Target | Merge | On change |')
        lines.append('| --- | --- | --- | --- | --- |')
        for row in options.rows(module):
            lines.append('| `%s` | %s | %s | %s | %s |' % (
                row.name, _type(row.spec), _target(row), row.rule, _on_change(row, module)))
    return '\n'.join(lines) + '\n'


def main():
    text = render()
    if sys.argv[1:] == ['--check']:
        with open(PAGE) as stream:
            if stream.read() != text:
                print('docs/options.md is stale: run scripts/options_doc.py', file=sys.stderr)
                return 1
        return 0
    with open(PAGE, 'w') as stream:
        stream.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
