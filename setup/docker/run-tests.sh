#!/bin/sh
# Command of the `tests` service of docker-compose.yml: `make test` against the db service
# (PGHOST, PGUSER and PGPASSWORD come from docker-compose.yml).
#
# The checkout is mounted read-only on /mnt/suite. The harness writes .cache/ (configuration,
# filestore, encryption key) inside the repository, so it runs on a copy owned by this container.
# Left out of the copy: what tools regenerate, and .cache/ of local runs (its PostgreSQL clusters
# belong to the host's postgres user and cannot be read here).
set -eu
src=/mnt/suite
work=/tmp/suite
rm -rf "$work"
mkdir -p "$work"
tar -C "$src" --exclude=./.cache --exclude=./.pytest_cache --exclude=./.ruff_cache \
    --exclude=__pycache__ -cf - . | tar -C "$work" -xf -
cd "$work"
exec make test
