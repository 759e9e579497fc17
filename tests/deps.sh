#!/bin/sh
# Install what litestream-c needs on Debian 12, and nothing that is there.
#   tests/deps.sh          build + test dependencies (make test)
#   tests/deps.sh build    build dependencies and sqlite3 only (make run)
# Works as root; uses sudo otherwise.  A no-op when everything is present.
set -eu
BUILD_PKGS="gcc make pkg-config libsqlite3-dev libcurl4-openssl-dev libssl-dev
libinih-dev liblz4-dev libexpat1-dev sqlite3"
TEST_PKGS="python3 python3-botocore awscli lz4 procps openssl"
want=$BUILD_PKGS
[ "${1:-test}" = build ] || want="$BUILD_PKGS $TEST_PKGS"
command -v node >/dev/null 2>&1 || [ "${1:-test}" = build ] || want="$want nodejs npm"

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "deps: installing:$missing"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# Test-only npm tools (s3rver, Litestream v0.3.13), pinned by package-lock.json.
if [ "${1:-test}" != build ]; then
	here=$(cd "$(dirname "$0")/.." && pwd)
	stamp="$here/node_modules/.package-lock.json"
	if [ ! -f "$stamp" ] || [ "$here/package-lock.json" -nt "$stamp" ]; then
		echo "deps: npm ci"
		(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
	fi
fi
