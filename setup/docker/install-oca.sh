#!/bin/sh
# The OCA addon wheels of requirements-oca.txt, installed with --no-deps (their metadata requires
# an "odoo" distribution that no registry has), then checked: each one imports as
# odoo.addons.<name> from / (pip puts it in dist-packages/odoo/addons, a part of Odoo's
# odoo.addons namespace package). Used by both images of docker-compose.yml.
#   install-oca.sh <requirements-oca.txt> [extra pip options]
set -eu
requirements=$1
shift
python3 -m pip install --no-cache-dir --no-deps "$@" -r "$requirements"
sed -e 's/#.*//' -e 's/[<>=!~; ].*//' "$requirements" | grep -i '^odoo-addon-' \
    | sed -e 's/^odoo-addon-//I' -e 's/[-.]/_/g' \
    | while read -r addon; do
        (cd / && python3 -c "import odoo.addons.$addon") \
            || { echo "OCA addon $addon does not import as odoo.addons.$addon" >&2; exit 1; }
        echo "OCA addon $addon: installed"
    done
