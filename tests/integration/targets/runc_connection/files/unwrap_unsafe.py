"""Print ansible-inventory's JSON (on stdin) with its unsafe markings unwrapped: {"__ansible_unsafe": v} -> v."""
import json
import sys


def unwrap(value):
    if isinstance(value, dict):
        if set(value) == {'__ansible_unsafe'}:
            return value['__ansible_unsafe']
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value


json.dump(unwrap(json.load(sys.stdin)), sys.stdout)
