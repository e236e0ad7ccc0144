#!/usr/bin/env bash
# Refresh the JavaScript the book serves from book/_static/vendor/ (committed there, so that building and reading the
# book need no network): Vega and Vega-Lite draw the in-browser explorers (ddd-explorer.js), require.js and the
# Jupyter widgets' HTML manager render the saved state of the chapters' ipywidgets. Versions are pinned here and
# listed in book/_static/vendor/README.md; run this (it needs the npm registry) after changing one, then update that list.
set -euo pipefail
cd "$(dirname "$0")/.."
vendor=book/_static/vendor
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
packages=(vega@6.4.0 vega-lite@6.5.0 requirejs@2.3.8 @jupyter-widgets/html-manager@1.0.15)
(cd "$scratch" && npm pack --silent "${packages[@]}" > /dev/null)
for archive in "$scratch"/*.tgz; do
  mkdir "${archive%.tgz}" && tar xzf "$archive" -C "${archive%.tgz}"
done
rm -rf "$vendor"/*.js "$vendor"/*.woff2 "$vendor/licenses" && mkdir -p "$vendor/licenses"  # README.md stays
cp "$scratch"/vega-6.4.0/package/build/vega.min.js "$vendor/vega-6.4.0.min.js"
cp "$scratch"/vega-lite-6.5.0/package/build/vega-lite.min.js "$vendor/vega-lite-6.5.0.min.js"
cp "$scratch"/requirejs-2.3.8/package/require.js "$vendor/require-2.3.8.js"
manager="$scratch"/jupyter-widgets-html-manager-1.0.15/package
cp "$manager"/dist/embed-amd.js "$vendor/html-manager-1.0.15-embed-amd.js"
cp "$manager"/dist/*.woff2 "$vendor/"  # the widgets' icon fonts, which embed-amd.js loads from beside itself
cp "$scratch"/vega-6.4.0/package/LICENSE "$vendor/licenses/vega.txt"
cp "$scratch"/vega-lite-6.5.0/package/LICENSE "$vendor/licenses/vega-lite.txt"
# require.js carries its MIT notice in its header; the manager ships no licence file of its own (BSD-3-Clause, see
# README.md there), only the notices of what its bundle contains:
cp "$manager"/dist/embed.js.LICENSE.txt "$vendor/licenses/html-manager-bundled.txt"
ls -la "$vendor"
