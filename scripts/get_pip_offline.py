"""Stand-in for the get-pip bootstrap script that ansible-test downloads.

ansible-test runs get-pip.py inside each fresh venv of `sanity --venv`, with
the arguments of `pip install` plus get-pip's own --no-setuptools/--no-wheel.
This machine reaches only the package registries, so this script bootstraps
pip with the standard library's ensurepip and lets that pip install the
requested packages (pip==<version> among them) from the registry.
"""

from __future__ import annotations

import subprocess
import sys

GET_PIP_ONLY_OPTIONS = ('--no-setuptools', '--no-wheel')


def main():
    pip_arguments = [argument for argument in sys.argv[1:] if argument not in GET_PIP_ONLY_OPTIONS]
    subprocess.check_call([sys.executable, '-m', 'ensurepip', '--default-pip'])
    subprocess.check_call([sys.executable, '-m', 'pip', 'install'] + pip_arguments)


if __name__ == '__main__':
    main()
