# -*- coding: utf-8 -*-
# Copyright (c) oci_runtime.runc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The two steps of the documentation site that antsibull-docs and Sphinx do not do (see docs_site.sh).

    python docs_site.py extra-docs COLLECTION
        Write COLLECTION/docs/docsite/rst/NAME.rst from each COLLECTION/docs/NAME.md (pandoc),
        each with the label antsibull-docs wants, links between the guides made links between
        their pages; fail when extra-docs.yml and docs/*.md do not name the same guides.

    python docs_site.py inventory RST_DIR OUT
        Write OUT, a Sphinx inventory of the ansible-core pages the generated RST refers to
        (action plugins, common return values, ansible.builtin modules, configuration
        variables), so that they resolve to docs.ansible.com without a download: this machine
        has no access to the web. A reference no rule knows fails the build.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zlib

import yaml

LABEL_PREFIX = 'ansible_collections.oci_runtime.runc.docsite.'
ANSIBLE_DOCS = 'https://docs.ansible.com/projects/ansible/devel/'
# Labels of ansible-core's own docs that generated module pages use: the page each is on, and its title.
CORE_LABELS = {
    'action_plugins': ('plugins/action.html#action-plugins', 'Action plugins'),
    'common_return_values': ('reference_appendices/common_return_values.html#common-return-values',
                             'Return Values'),
    'ansible_configuration_settings': ('reference_appendices/config.html#ansible-configuration-settings',
                                       'Ansible Configuration Settings'),
}
_MD_LINK = re.compile(r'<([A-Za-z0-9_-]+)\.md(#[A-Za-z0-9_-]+)?>`')
_REF = re.compile(r':ref:`(?:[^`<]*<)?([^`<>]+)>?`')
_ENVVAR = re.compile(r':envvar:`([^`]+)`')
_DEFINED = re.compile(r'^\.\. _([^:]+):\s*$', re.MULTILINE)


def extra_docs(collection):
    docs = os.path.join(collection, 'docs')
    rst_dir = os.path.join(docs, 'docsite', 'rst')
    os.makedirs(rst_dir, exist_ok=True)
    guides = sorted(name[:-3] for name in os.listdir(docs) if name.endswith('.md'))
    with open(os.path.join(docs, 'docsite', 'extra-docs.yml')) as stream:
        index = yaml.safe_load(stream)
    listed = sorted(entry for section in index['sections'] for entry in section['toctree'])
    if listed != guides:
        sys.exit('extra-docs.yml names %s; docs/ has %s: list every guide once'
                 % (', '.join(listed), ', '.join(guides)))
    for name in guides:
        rst = subprocess.run(['pandoc', '--from', 'gfm-gfm_auto_identifiers', '--to', 'rst', '--wrap', 'none', '--columns', '100000',
                              os.path.join(docs, name + '.md')],
                             check=True, capture_output=True, text=True).stdout
        # A guide's link to another guide: to its page, beside this one on the site.
        rst = _MD_LINK.sub(lambda match: '<%s.html%s>`' % (match.group(1), match.group(2) or ''), rst)
        with open(os.path.join(rst_dir, name + '.rst'), 'w') as stream:
            stream.write('.. _%s%s:\n\n%s' % (LABEL_PREFIX, name.replace('-', '_'), rst))


def core_target(role, name):
    """(uri, title) on docs.ansible.com of a reference the generated pages make to ansible-core's docs."""
    if role == 'envvar':
        return 'reference_appendices/config.html#envvar-%s' % name, name
    if name in CORE_LABELS:
        return CORE_LABELS[name]
    # Another collection's plugin (ansible.builtin's, or one of the Ansible package's collections).
    match = re.fullmatch(r'ansible_collections\.(\w+)\.(\w+)\.(\w+)_(module|lookup|filter|test|connection|'
                         r'inventory|become|callback|cache|shell|strategy|vars)', name)
    if match and match.group(2) != 'runc':
        namespace, collection, plugin, kind = match.groups()
        anchor = name.replace('.', '-').replace('_', '-')
        return ('collections/%s/%s/%s_%s.html#%s' % (namespace, collection, plugin, kind, anchor),
                '%s.%s.%s %s' % (namespace, collection, plugin, kind))
    return None


def inventory(rst_dir, out):
    text = ''
    for folder, _dirs, files in os.walk(rst_dir):
        for name in files:
            if name.endswith('.rst'):
                with open(os.path.join(folder, name)) as stream:
                    text += stream.read()
    defined = set(_DEFINED.findall(text))
    wanted = {('label', name) for name in _REF.findall(text) if name not in defined}
    # RST escapes the underscores of names in roles (ANSIBLE\_CACHE): the inventory holds them plain.
    wanted |= {('envvar', name.replace('\\', '')) for name in _ENVVAR.findall(text)}
    lines, unknown = [], []
    for role, name in sorted(wanted):
        target = core_target(role, name)
        if target is None:
            unknown.append(name)
            continue
        uri, title = target
        lines.append('%s std:%s -1 %s %s\n' % (name if role == 'envvar' else name.lower(), role, uri, title))
    if unknown:
        sys.exit('references to nothing the site or the inventory knows: %s' % ', '.join(unknown))
    header = ('# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n'
              '# The remainder of this file is compressed using zlib.\n')
    with open(out, 'wb') as stream:
        stream.write(header.encode('utf-8') + zlib.compress(''.join(lines).encode('utf-8')))


if __name__ == '__main__':
    if sys.argv[1:2] == ['extra-docs']:
        extra_docs(sys.argv[2])
    elif sys.argv[1:2] == ['inventory']:
        inventory(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
