# The two commands a new user needs, as root on Debian/Ubuntu:
#   make demo   install everything, run playbooks/demo.yml on localhost
#   make test   install everything, run every test and quality gate
#   make bench  the benchmark (make bench-quick: a few minutes), not part of make test
#   make docs-site  the documentation site in .build/docs-site/html (docs/docsite, scripts/docs_site.sh)
# Each gate also runs alone (make sanity, make units, ...) after make setup
# (make versions after scripts/setup.sh --tests, which makes its venvs).
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help setup demo test bench bench-quick docs-site sanity units integration versions molecule lint build docs site clean
help:
	@sed -n 's/^#   //p' Makefile

setup:
	scripts/setup.sh

demo: setup
	scripts/demo.sh

test:
	scripts/setup.sh --tests
	scripts/test.sh

bench:
	scripts/bench.sh

bench-quick:
	scripts/bench.sh --quick

docs-site:
	scripts/setup.sh --docs
	scripts/docs_site.sh

sanity units integration versions molecule lint build docs site:
	scripts/test.sh $@

clean:
	rm -rf .build tests/output
