#!/usr/bin/env bash
# Install the Debian 12 packages newsroom's build and test tool chain needs.
#
#   sudo bash scripts/setup-debian.sh
#
# Idempotent: it asks dpkg-query first and runs apt-get only for packages that are
# missing, so a re-run on a ready machine takes well under 2 s.  After installing Kannel
# it makes sure no system bearerbox/smsbox/wapbox daemon runs or starts at boot: the
# tests run their own, bound to 127.0.0.1 (see tests/support/kannel.py).
set -Eeuo pipefail

say() { printf 'setup-debian: %s\n' "$*"; }
die() { printf 'setup-debian: ERROR: %s\n' "$*" >&2; exit 1; }
trap 'printf "setup-debian: FAILED (exit %s) at line %s: %s\n" "$?" "$LINENO" "$BASH_COMMAND" >&2' ERR

[ "$(id -u)" -eq 0 ] || die "run as root (apt-get install needs it)"
command -v dpkg-query >/dev/null || die "not a Debian system (no dpkg-query)"

export DEBIAN_FRONTEND=noninteractive

# Packages the project needs.
#   chromium            headless browser for screenshots and axe-core checks (via Playwright)
#   fonts-noto-core     Latin/Cyrillic/Arabic/Hebrew/... glyphs for Chromium and WeasyPrint
#   fonts-noto-cjk      Chinese/Japanese/Korean glyphs
#   poppler-utils       pdftotext/pdfinfo/pdftoppm for checking generated PDFs
#   default-jre-headless  Java for the Nu HTML checker (vnu.jar from npm vnu-jar)
#   kannel              SMS gateway (bearerbox, smsbox) for SMS tests
#   libpango*           WeasyPrint's text layout
#   python3-venv        the project's virtualenv
required=(
  chromium
  fonts-noto-core
  fonts-noto-cjk
  poppler-utils
  default-jre-headless
  kannel
  libpango-1.0-0
  libpangoft2-1.0-0
  python3-venv
)
# Installed when the distribution has them (both do on Debian 12):
#   kannel-extras        ships /usr/lib/kannel/test/fakesmsc, the fake phone/SMSC
#   libharfbuzz-subset0  font subsetting for WeasyPrint
optional=(
  kannel-extras
  libharfbuzz-subset0
)
if ! command -v node >/dev/null 2>&1; then
  required+=(nodejs npm)
elif ! command -v npm >/dev/null 2>&1; then
  die "node is installed ($(command -v node)) but npm is not; install npm for that node (not Debian's npm, which needs Debian's nodejs)"
fi

# Which of them are not installed?  One dpkg-query call for all of them.
is_installed() {
  # dpkg-query exits 1 when a name is unknown; the status line is what we read.
  [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null || true)" = "ii " ]
}
missing=()
for p in "${required[@]}" "${optional[@]}"; do
  is_installed "$p" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  say "all packages already installed: ${required[*]} ${optional[*]}"
else
  say "missing: ${missing[*]}"
  say "apt-get update"
  apt-get update -q
  to_install=()
  for p in "${missing[@]}"; do
    is_optional=0
    for o in "${optional[@]}"; do [ "$p" = "$o" ] && is_optional=1; done
    if [ $is_optional -eq 1 ]; then
      cand="$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ {print $2}')"
      if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then
        say "optional package $p is not available here; skipping it"
        continue
      fi
    fi
    to_install+=("$p")
  done
  if [ ${#to_install[@]} -gt 0 ]; then
    say "apt-get install ${to_install[*]}"
    start=$(date +%s)
    apt-get install -y -q --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
      "${to_install[@]}"
    say "apt-get install took $(( $(date +%s) - start )) s"
  fi
  for p in "${required[@]}"; do
    is_installed "$p" || die "package $p is still not installed after apt-get install"
  done
fi

# --- Kannel: no system daemon -------------------------------------------------------
# Debian's kannel package ships /etc/init.d/kannel (and on systemd machines a generated
# kannel.service) that starts a bearerbox listening on all interfaces.  The tests start
# their own, bound to 127.0.0.1, on free ports.  Stop and disable the system one.
# Processes of the system user 'kannel' (the init script runs the boxes as that user;
# the tests run theirs as the calling user, so they are not affected).
kannel_pids() {
  id -u kannel >/dev/null 2>&1 || return 0
  pgrep -u kannel | tr '\n' ' ' | sed 's/ $//' || true
}
if [ -e /etc/init.d/kannel ] || is_installed kannel; then
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    if systemctl is-enabled --quiet kannel 2>/dev/null || systemctl is-active --quiet kannel 2>/dev/null; then
      say "stopping and disabling kannel.service"
      systemctl disable --now kannel >/dev/null 2>&1 || systemctl stop kannel
    fi
  elif [ -x /etc/init.d/kannel ] && [ -n "$(kannel_pids)" ]; then
    say "stopping the kannel init.d service"
    /etc/init.d/kannel stop || true
  fi
  # SysV links (also consulted by systemd's generator): remove them from all runlevels.
  if [ -x /etc/init.d/kannel ] && ls /etc/rc?.d/S*kannel >/dev/null 2>&1; then
    say "disabling kannel at boot (update-rc.d kannel disable)"
    update-rc.d kannel disable >/dev/null 2>&1 || true
    if ls /etc/rc?.d/S*kannel >/dev/null 2>&1; then
      update-rc.d -f kannel remove >/dev/null
    fi
  fi
  # Belt and braces: /etc/default/kannel decides which boxes the init script starts.
  if [ -f /etc/default/kannel ] && grep -Eq '^[[:space:]]*START_(WAP|SMS)BOX=1' /etc/default/kannel; then
    say "turning off START_WAPBOX/START_SMSBOX in /etc/default/kannel"
    sed -i -E 's/^([[:space:]]*)START_(WAP|SMS)BOX=1/\1#START_\2BOX=1 # disabled by newsroom setup-debian.sh/' /etc/default/kannel
  fi
  # Any box the system still runs as user kannel (started by the package's init script).
  pids="$(kannel_pids)"
  if [ -n "$pids" ]; then
    say "stopping system Kannel processes: $pids"
    # shellcheck disable=SC2086
    kill $pids 2>/dev/null || true
    for _ in $(seq 1 50); do
      [ -z "$(kannel_pids)" ] && break
      sleep 0.1
    done
    pids="$(kannel_pids)"
    [ -z "$pids" ] || die "system Kannel processes still running: $pids"
  fi
  # Nothing may listen on Kannel's default ports (13000 admin, 13001 smsbox, 13013 sendsms).
  if command -v ss >/dev/null; then
    busy="$(ss -Hltn '( sport = :13000 or sport = :13001 or sport = :13013 )' 2>/dev/null || true)"
    if [ -n "$busy" ]; then
      say "WARNING: something listens on a Kannel default port:"; printf '%s\n' "$busy"
    fi
  fi
  say "kannel: no system daemon running or enabled"
fi

# --- Checks -------------------------------------------------------------------------
for bin in /usr/bin/chromium /usr/sbin/bearerbox /usr/sbin/smsbox java pdftotext node npm; do
  command -v "$bin" >/dev/null || die "$bin not found after installation"
done
if is_installed kannel-extras; then
  [ -x /usr/lib/kannel/test/fakesmsc ] || die "kannel-extras installed but /usr/lib/kannel/test/fakesmsc is missing"
fi
say "ok"
