#!/bin/bash
# Entrypoint of the `odoo` service of docker-compose.yml, in front of the official image's own
# /entrypoint.sh (which adds the database connection from HOST, USER, PASSWORD).
#
# 1. The credentials vault key: ODOO_CONNECTOR_KEYS if set; otherwise a key generated on the first
#    start, kept (mode 600) in the odoo-data volume, so nothing public ever encrypts credentials.
# 2. The first start (no database yet) creates it with every addon of /mnt/extra-addons and its
#    demo data; later starts only load what is installed.
set -euo pipefail
key_file=/var/lib/odoo/connector_key
if [ -z "${ODOO_CONNECTOR_KEYS:-}" ]; then
    if [ ! -s "$key_file" ]; then
        (umask 077 && python3 -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())" > "$key_file")
        echo "suite: generated the vault key of this installation in $key_file (odoo-data volume)"
    fi
    ODOO_CONNECTOR_KEYS=$(cat "$key_file")
    export ODOO_CONNECTOR_KEYS
fi

if [ "${1:-}" = "odoo" ] && [ -n "${SUITE_DATABASE:-}" ]; then
    exists=$(PGPASSWORD="${PASSWORD:-odoo}" psql -h "${HOST:-db}" -U "${USER:-odoo}" -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '${SUITE_DATABASE}'" || true)
    if [ "$exists" != "1" ]; then
        addons=$(find /mnt/extra-addons -mindepth 2 -maxdepth 2 -name __manifest__.py \
            -printf '%h\n' | xargs -n1 basename | sort | paste -sd, -)
        echo "suite: creating the database ${SUITE_DATABASE} with ${addons} and their demo data"
        set -- "$@" -i "$addons"
    fi
    set -- "$@" -d "${SUITE_DATABASE}" --db-filter="^${SUITE_DATABASE}\$"
fi
exec /entrypoint.sh "$@"
