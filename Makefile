# The two commands a new user needs, as root on Debian/Ubuntu:
#   make demo   install everything, run playbooks/demo.yml on localhost
#   make test   install everything, run every test and quality gate
# Each gate also runs alone (make sanity, make units, ...) after make setup.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help setup demo test sanity units integration molecule lint build docs clean
help:
	@sed -n 's/^#   //p' Makefile

setup:
	scripts/setup.sh

demo: setup
	scripts/demo.sh

test:
	scripts/setup.sh --tests
	scripts/test.sh

sanity units integration molecule lint build docs:
	scripts/test.sh $@

clean:
	rm -rf .build tests/output
