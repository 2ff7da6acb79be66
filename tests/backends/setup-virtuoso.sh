#!/bin/sh
# Installs Virtuoso Open Source 7 (Debian package virtuoso-opensource) for tests/backends, when missing.
# Idempotent and quiet; `make test` calls it. Needs root (CI runs as root) or sudo without a password;
# otherwise it says so and the Virtuoso-backed tests skip with that reason. The package's own service
# is never used: the tests start virtuoso-t on free loopback ports with a temporary database.
set -eu
if command -v virtuoso-t >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "setup-virtuoso: virtuoso-t missing and not root: the Virtuoso backend tests will be SKIPPED." >&2
    echo "setup-virtuoso: to run them, install the Debian package virtuoso-opensource (as root)." >&2
    exit 0
fi
echo "setup-virtuoso: installing virtuoso-opensource (Debian package)" >&2
export DEBIAN_FRONTEND=noninteractive
# the package asks for a DBA password in debconf and starts its own service: neither is used by the tests
echo "virtuoso-opensource-7 virtuoso-opensource-7/dba-password password dba" | $SUDO debconf-set-selections 2>/dev/null || true
echo "virtuoso-opensource-7 virtuoso-opensource-7/dba-password-again password dba" | $SUDO debconf-set-selections 2>/dev/null || true
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends virtuoso-opensource >/dev/null
# stop the package's own service when it was started: the tests run their own server
$SUDO service virtuoso-opensource-7 stop >/dev/null 2>&1 || true
command -v virtuoso-t >/dev/null
