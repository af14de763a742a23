#!/usr/bin/env bash
# Install the npm test tools pinned in package-lock.json (axe-core, vnu-jar) into
# node_modules with `npm ci`, only when node_modules is missing or stale.
#
# Stale means: the sha256 of package-lock.json differs from the one recorded after the
# last successful `npm ci`, or a file the tests use is missing.
#
# --ignore-scripts: vnu-jar's postinstall would try to download a Java runtime from
# outside when no system Java is found; we use Debian's default-jre-headless instead
# (scripts/setup-debian.sh), and no other package here has install scripts.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

say() { printf 'setup-node: %s\n' "$*"; }
die() { printf 'setup-node: ERROR: %s\n' "$*" >&2; exit 1; }

command -v npm >/dev/null || die "npm not found (run scripts/setup-debian.sh as root first)"
[ -f package-lock.json ] || die "package-lock.json missing in $root"

stamp=node_modules/.newsroom-lock.sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
needed=(node_modules/axe-core/axe.min.js node_modules/vnu-jar/build/dist/vnu.jar)

fresh=1
[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] || fresh=0
for f in "${needed[@]}"; do [ -f "$f" ] || fresh=0; done

if [ $fresh -eq 1 ]; then
  say "node_modules is up to date with package-lock.json"
  exit 0
fi

say "npm ci (node_modules missing or stale)"
npm ci --ignore-scripts --no-audit --no-fund
for f in "${needed[@]}"; do [ -f "$f" ] || die "$f missing after npm ci"; done
printf '%s\n' "$want" > "$stamp"
say "ok: $(node -p 'require("./node_modules/axe-core/package.json").version' 2>/dev/null || echo '?') axe-core, $(node -p 'require("./node_modules/vnu-jar/package.json").version' 2>/dev/null || echo '?') vnu-jar"
