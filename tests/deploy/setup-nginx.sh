#!/bin/sh
# Installs nginx (the Debian package) for the replica tests in tests/deploy, when missing.
# Idempotent and quiet; `make test` calls it. Needs root (CI runs as root) or sudo without a password;
# otherwise it says so and leaves nginx out (the replica tests then skip with that reason).
# Only the binary is used: the tests start their own nginx with a generated config on a loopback port.
set -eu
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "setup-nginx: nginx missing and not root: the replica tests (tests/deploy) will be SKIPPED." >&2
    echo "setup-nginx: to run them, install the Debian package nginx-light or nginx (as root)." >&2
    exit 0
fi
echo "setup-nginx: installing nginx (Debian package)" >&2
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d 101: the package must not start the system's own nginx on port 80 during the install
POLICY=/usr/sbin/policy-rc.d
CREATED=""
if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null && $SUDO chmod +x "$POLICY" && CREATED=1
fi
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends nginx >/dev/null
if [ -n "$CREATED" ]; then $SUDO rm -f "$POLICY"; fi
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]
