#!/bin/sh
# TLS is verified by default.  A CA and a server certificate for
# IP:127.0.0.1 are made with the openssl CLI; s3proxy.py serves HTTPS in
# front of s3rver.
#  1. No ca-file: replicate (start-up check) and restore refuse with one
#     line naming the certificate problem and ca-file, exit 2, after one
#     handshake (not retried).
#  2. A ca-file that does not exist: refused at start with its name.
#  3. ca-file = the CA: replicate, then restore, identical content.
#  4. ca-file, but the endpoint named "localhost", which the certificate
#     does not cover: refused (host name checked, not just the chain).
#  5. skip-verify = true: works, with a warning at start-up.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/s3lib.sh"
command -v openssl >/dev/null 2>&1 || skip "openssl CLI not installed"
cd "$T"

note "a CA and a server certificate for 127.0.0.1 (openssl CLI)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout ca.key -out ca.pem -days 2 -subj "/CN=litestream-c test CA" \
    2> openssl.log || { cat openssl.log; fail "cannot make the CA"; }
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout srv.key -out srv.csr -subj "/CN=127.0.0.1" 2>> openssl.log ||
    { cat openssl.log; fail "cannot make the server key"; }
printf 'subjectAltName = IP:127.0.0.1\n' > san.cnf
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
    -out srv.pem -days 2 -extfile san.cnf 2>> openssl.log ||
    { cat openssl.log; fail "cannot sign the server certificate"; }
s3_start --tls-cert srv.pem --tls-key srv.key
HTTPS="https://127.0.0.1:$PPORT"
curl -s --cacert ca.pem -o /dev/null "$HTTPS/" || fail "the proxy does not serve TLS"

export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
unset AWS_REGION
# mkcfg FILE ENDPOINT [EXTRA-S3-LINE...]
mkcfg() {
	_f=$1 _ep=$2; shift 2
	{
		printf '[s3]\nendpoint = %s\nregion = us-east-1\npath-style = true\n' "$_ep"
		for _l in "$@"; do printf '%s\n' "$_l"; done
		printf '\n[db "%s/app.db"]\nreplica = s3://bkt/app\nsync-interval = 200ms\n' "$T"
	} > "$_f"
}
mkcfg plain.ini "$HTTPS"
mkcfg nofile.ini "$HTTPS" "ca-file = $T/no-such-ca.pem"
mkcfg ca.ini "$HTTPS" "ca-file = $T/ca.pem"
mkcfg host.ini "https://localhost:$PPORT" "ca-file = $T/ca.pem"
mkcfg skip.ini "$HTTPS" "skip-verify = true"
sql app.db "PRAGMA journal_mode=wal; CREATE TABLE t(x); INSERT INTO t VALUES (1);" >/dev/null

# refused CONFIG REGEX...: replicate and restore both exit 2 at once with
# one line matching each REGEX, after at most one TLS handshake.
refused() {
	_cfg=$1; shift
	for _cmd in replicate restore; do
		_m=$(mark)
		if [ "$_cmd" = replicate ]; then
			timeout 60 "$LSC" replicate -c "$_cfg" > out.txt 2> err.txt
		else
			timeout 60 "$LSC" restore -c "$_cfg" -o out.db "$T/app.db" > out.txt 2> err.txt
		fi
		_rc=$?
		echo "$_cfg $_cmd (exit $_rc): $(cat err.txt)"
		[ "$_rc" = 2 ] || fail "$_cfg: $_cmd exit $_rc, want 2"
		[ "$(wc -l < err.txt)" = 1 ] || fail "$_cfg: $_cmd: not one line"
		for _re in "$@"; do
			grep -q -E -- "$_re" err.txt || fail "$_cfg: $_cmd: no '$_re' in the error"
		done
		_n=$(count_since "$_m" True)
		[ "$_n" -le 1 ] || fail "$_cfg: $_cmd made $_n attempts (a refusal is not retried)"
		[ "$(count_since "$_m" 'r["action"]!="tls"')" = 0 ] ||
		    fail "$_cfg: $_cmd sent a request over an unverified connection"
	done
}

note "1. no ca-file: the self-signed chain is refused"
refused plain.ini "certificate" "ca-file" "s3://bkt/app/"

note "2. a ca-file that does not exist"
refused nofile.ini "ca-file '$T/no-such-ca.pem'" "No such file"

note "3. ca-file = our CA: replicate and restore over TLS"
m=$(mark)
bg "$LSC" replicate -c ca.ini 2> d1.log; D=$BGPID
wait_for 20 grep -q "snapshot written" d1.log || { cat d1.log; fail "no snapshot over TLS"; }
sql app.db "INSERT INTO t VALUES (2);"
stop_daemon "$D" d1.log
"$LSC" restore -c ca.ini -o out1.db "$T/app.db" 2> r1.log || { cat r1.log; fail "restore over TLS"; }
assert_same_db app.db out1.db
[ "$(count_since "$m" 'r["action"]=="tls"')" = 0 ] || fail "failed handshakes with the CA configured"
[ "$(count_since "$m" 'r["method"]=="PUT"')" -ge 2 ] || fail "no uploads seen by the proxy"

note "4. the certificate does not name 'localhost'"
refused host.ini "certificate" "localhost" "endpoint"

note "5. skip-verify = true: works, with a warning at start-up"
# The sqlite3 CLI closing the last connection checkpoints the WAL away, so
# this run starts a new generation: keep it apart in time from the last.
past_last_request
sql app.db "INSERT INTO t VALUES (3);"
m=$(mark)
bg "$LSC" replicate -c skip.ini 2> d2.log; D=$BGPID
wait_for 20 grep -q "msg=replicating" d2.log || { cat d2.log; fail "did not start"; }
wait_for 20 at_least 1 "$m" 'r["method"]=="PUT" and r["status"]==200' || fail "nothing uploaded"
stop_daemon "$D" d2.log
grep "level=warn" d2.log | head -n 2
grep -q "level=warn.*skip-verify" d2.log || fail "no skip-verify warning at start-up"
# The warning comes before the daemon says it is starting.
[ "$(grep -n -m1 'skip-verify' d2.log | cut -d: -f1)" -lt \
    "$(grep -n -m1 'litestream-c starting' d2.log | cut -d: -f1)" ] ||
    fail "the warning is not at start-up"
"$LSC" restore -c skip.ini -o out2.db "$T/app.db" 2> r2.log || { cat r2.log; fail "restore with skip-verify"; }
grep -q "level=warn.*skip-verify" r2.log || fail "restore gave no skip-verify warning"
assert_same_db app.db out2.db
echo ok
