#!/bin/sh
# Build the man pages: docs/man/*.md (marked-man's Markdown) -> build/man/vrrpd.8, vrrpd.conf.5.
# The date is the last commit's when there is a git checkout, so a rebuild of the same tree gives
# the same pages.
set -eu
cd "$(dirname "$0")/.."
out=${1:-build/man}
mkdir -p "$out"
version=$(node -p "require('./package.json').version")
date=$(git log -1 --format=%cs 2>/dev/null || date -u +%Y-%m-%d)
for src in docs/man/*.md; do
  page=$(basename "$src" .md)
  npx --no-install marked-man --version "$version" --no-breaks --manual "vrrpd manual" --date "$date" "$src" > "$out/$page"
done
