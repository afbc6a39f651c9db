"""Validate JSON files against a JSON schema; print every violation, exit 1 if any."""

from __future__ import annotations

import json
import sys

import jsonschema


def main():
    with open(sys.argv[1]) as stream:
        schema = json.load(stream)
    validator = jsonschema.Draft7Validator(schema)
    failures = 0
    for path in sys.argv[2:]:
        with open(path) as stream:
            document = json.load(stream)
        for error in validator.iter_errors(document):
            failures += 1
            print('%s: %s: %s' % (path, '/'.join(str(part) for part in error.absolute_path), error.message))
    print('%d document(s), %d violation(s)' % (len(sys.argv) - 2, failures))
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    main()
