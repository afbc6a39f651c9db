#!/usr/bin/env bash
# Build the collection's documentation site into .build/docs-site/html, as the official
# Ansible docs are built: antsibull-docs writes a page per module, plugin and role from their
# DOCUMENTATION, EXAMPLES and RETURN, the guides of docs/*.md become its extra documentation
# (docs/docsite/extra-docs.yml), and Sphinx renders it all. Any warning fails the build.
#
#   scripts/docs_site.sh    (after scripts/setup.sh --docs; make docs-site does both)
#
# The index page is docs/docsite/site-index.rst. The guides' RST exists only in the copy built from
# (docs/docsite is left out of the collection's tarball, see galaxy.yml: its extra-docs.yml names them).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# OCI_RUNC_DOCS_SITE: another folder (the test gate's own, beside its logs).
SITE="${OCI_RUNC_DOCS_SITE:-$BUILD/docs-site}"
SOURCES="$SITE/collections"
copy="$SOURCES/ansible_collections/oci_runtime/runc"
sphinx="$SITE/sphinx"
export PATH="$DOCS_VENV/bin:$PATH"
# antsibull-docs reads the collection from here: a copy with the guides turned into RST.
export ANSIBLE_COLLECTIONS_PATH="$SOURCES"

[[ -x $DOCS_VENV/bin/antsibull-docs ]] || { echo "docs_site.sh: run scripts/setup.sh --docs first" >&2; exit 1; }
rm -rf "$SITE"
mkdir -p "$copy"
COLLECTION="$copy" sync_collection
say "guides: docs/*.md as extra documentation"
"$DOCS_VENV/bin/python" "$TOP/scripts/docs_site.py" extra-docs "$copy"

say "lint: the collection's documentation, as antsibull-docs checks it for the official site"
antsibull-docs lint-collection-docs --plugin-docs --skip-rstcheck "$copy"

say "pages: antsibull-docs and Sphinx"
# antsibull-docs writes only into folders nobody else may write to.
mkdir -p "$sphinx/rst"
chmod og-w "$sphinx" "$sphinx/rst"
antsibull-docs sphinx-init --use-current --fail-on-error --index-rst-source "$copy/docs/docsite/site-index.rst" \
  --dest-dir "$sphinx" oci_runtime.runc >/dev/null
antsibull-docs --config-file "$sphinx/antsibull-docs.cfg" collection --cleanup everything --fail-on-error \
  --use-current --dest-dir "$sphinx/rst" oci_runtime.runc
# References to ansible-core's pages resolve through an inventory written here, never one fetched
# from the web (this machine has no access); code blocks the guides give no language are plain text.
"$DOCS_VENV/bin/python" "$TOP/scripts/docs_site.py" inventory "$sphinx/rst" "$sphinx/ansible_devel.inv"
cat >> "$sphinx/conf.py" <<'CONF'

# scripts/docs_site.sh
intersphinx_mapping = {'ansible_devel': ('https://docs.ansible.com/projects/ansible/devel/', '../ansible_devel.inv')}
highlight_language = 'none'
# The banner's "documentation home" is the Ansible docs, as on docs.ansible.com (its default, /, would
# be the root of whatever serves this folder).
html_theme_options = {'documentation_home_url': 'https://docs.ansible.com/'}
CONF
sphinx-build -b html -c "$sphinx" -d "$sphinx/doctrees" -W --keep-going -q "$sphinx/rst" "$SITE/html"
say "site: $SITE/html/index.html"
