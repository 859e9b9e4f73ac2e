#!/usr/bin/env bash
# Build the documentation site of litmus.lem into docs/build/html, without network:
# antsibull-docs sets up a Sphinx project for the collection (sphinx-init) and writes the RST of every
# module, plugin and role from their documentation; Sphinx renders it with the Ansible theme.
#
#   docs/build.sh        (or: make docs)
#
# Needs antsibull-docs, sphinx and sphinx-ansible-theme (tests/requirements.txt); uses the tools of
# .venv when it exists, else those on PATH. Everything it writes is under docs/build/.
set -euo pipefail

docs=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname -- "$docs")
out=$docs/build
site=$out/site

if [ -x "$root/.venv/bin/antsibull-docs" ]; then
    PATH=$root/.venv/bin:$PATH
fi

# antsibull-docs reads the collection through ansible-doc, which finds it under ansible_collections/.
holder=$(mktemp -d)
trap 'rm -rf "$holder"' EXIT
mkdir -p "$holder/ansible_collections/litmus"
ln -s "$root" "$holder/ansible_collections/litmus/lem"
export ANSIBLE_COLLECTIONS_PATH=$holder

rm -rf "$out"
mkdir -p "$out"
# antsibull-docs writes only into directories that no one but their owner can write to.
mkdir -m 700 "$site"
antsibull-docs sphinx-init --use-current --fail-on-error --dest-dir "$site" \
    --project litmus.lem --copyright "litmus.lem contributors" \
    --title "litmus.lem: AI/ML model rollouts to Litmus Edge" --html-short-title litmus.lem \
    litmus.lem >/dev/null

cat >> "$site/conf.py" <<'CONF'

# No network: no intersphinx inventories. References into Ansible's own documentation (ansible.builtin
# plugins, configuration settings, common return values) cannot resolve offline and stay plain text;
# references within this collection must still resolve.
intersphinx_mapping = {}
nitpick_ignore_regex = [
    ("std:ref", r"ansible_collections\.(?!litmus\.lem\.).*"),
    ("std:ref", r"ansible_configuration_settings|common_return_values|action_plugins"),
    ("std:envvar", r"ANSIBLE_.*"),
]
CONF

chmod og-w "$site/rst"
antsibull-docs --config-file "$site/antsibull-docs.cfg" collection --use-current --fail-on-error \
    --cleanup everything --dest-dir "$site/rst" litmus.lem >/dev/null
sphinx-build -M html "$site/rst" "$out" -c "$site" -W --keep-going -q
echo "docs: $out/html/index.html"
