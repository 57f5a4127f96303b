#!/usr/bin/env bash
# Makes sure Debian's Chromium is at /usr/bin/chromium: the browser that
# playwright.config.ts launches (we never use Playwright-downloaded browsers).
# Silent when it is already there; apt's errors still reach stderr.
set -euo pipefail

# Override only to test this script.
CHROMIUM="${ENSURE_CHROMIUM_PATH:-/usr/bin/chromium}"

if [[ -x "$CHROMIUM" ]]; then
  exit 0
fi

if [[ "$(id -u)" -eq 0 ]]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo -n) # -n: fail rather than prompt (CI has no stdin)
else
  echo "ensure-chromium: $CHROMIUM is missing; not root and no sudo, so cannot install it." >&2
  echo "ensure-chromium: as root run: apt-get update && apt-get install -y chromium" >&2
  exit 1
fi

echo "ensure-chromium: $CHROMIUM is missing; installing Debian's chromium (apt-get)..." >&2
apt_get() { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq "$@" >/dev/null; }
apt_get update
if dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q 'install ok installed'; then
  # Package recorded as installed but the binary is gone: plain install is a no-op.
  apt_get install -y --reinstall chromium
else
  apt_get install -y chromium
fi

if [[ ! -x "$CHROMIUM" ]]; then
  echo "ensure-chromium: apt-get succeeded but $CHROMIUM is still missing" >&2
  exit 1
fi
echo "ensure-chromium: installed $("$CHROMIUM" --version 2>/dev/null | head -n1)" >&2
