#!/bin/sh
# Install what litestream-c needs on Debian 12, and nothing that is there.
#   tests/deps.sh          build + test dependencies (make test)
#   tests/deps.sh build    build dependencies and sqlite3 only (make run)
#   tests/deps.sh fuzz     build dependencies, clang and libFuzzer (make fuzz)
# Works as root; uses sudo otherwise.  A no-op when everything is present.
set -eu
BUILD_PKGS="gcc make pkg-config libsqlite3-dev libcurl4-openssl-dev libssl-dev
libinih-dev liblz4-dev libexpat1-dev libsystemd-dev libmicrohttpd-dev sqlite3"
TEST_PKGS="python3 python3-botocore awscli lz4 procps systemd openssl age time"
# libFuzzer's runtime comes with libclang-rt-14-dev, only recommended by clang.
FUZZ_PKGS="clang libclang-rt-14-dev"
case ${1:-test} in
build)	want=$BUILD_PKGS ;;
fuzz)	want="$BUILD_PKGS $FUZZ_PKGS" ;;
*)	want="$BUILD_PKGS $TEST_PKGS"
	command -v node >/dev/null 2>&1 || want="$want nodejs npm" ;;
esac

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
if [ "${1:-test}" = test ]; then
	here=$(cd "$(dirname "$0")/.." && pwd)
	# The stamp records which lockfile was installed, by content (a
	# fresh clone's mtimes say nothing), so a second run is a no-op.
	stamp="$here/node_modules/.lsc-lock.sha256"
	want_sum=$(sha256sum < "$here/package-lock.json" | cut -d' ' -f1)
	if [ ! -x "$here/node_modules/.bin/s3rver" ] ||
	    [ "$(cat "$stamp" 2>/dev/null)" != "$want_sum" ]; then
		echo "deps: npm ci"
		(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
		echo "$want_sum" > "$stamp"
	fi
fi
