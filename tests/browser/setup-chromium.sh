#!/bin/sh
# Installs headless Chromium and ChromeDriver (Debian packages) for the browser tests, when missing.
# Idempotent and quiet; `make test` calls it. Needs root (CI runs as root) or sudo without a password;
# otherwise it says so and leaves Chromium out (the browser tests then skip with that reason).
set -eu
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    # not root: the other tests still run; tests/browser skips, saying why (CI runs as root and installs)
    echo "setup-chromium: chromium/chromedriver missing and not root: the browser tests will be SKIPPED." >&2
    echo "setup-chromium: to run them, install the Debian packages chromium chromium-driver (as root)." >&2
    exit 0
fi
echo "setup-chromium: installing chromium and chromium-driver (Debian packages)" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
command -v chromium >/dev/null && command -v chromedriver >/dev/null
