# S3 helpers for integration scripts, sourced after lib.sh:
#   . "$(dirname "$0")/lib.sh"; . "$(dirname "$0")/s3lib.sh"
#
# s3_start [PROXY-ARGS...] starts s3rver 3.7.1 (bucket "bkt", objects under
# $T/s3) on a free 127.0.0.1 port and tests/tools/s3proxy.py in front of it,
# logging every request to $T/requests.log and reading fault rules from
# $T/faults.json.  It sets S3PORT (s3rver), PPORT (proxy) and EP (the
# proxy's http:// endpoint).  Every S3 test skips, with the reason, when
# node, s3rver or /usr/bin/python3 is missing.
PY=/usr/bin/python3
S3RVER="$ROOT/node_modules/.bin/s3rver"
S3PROXY="$ROOT/tests/tools/s3proxy.py"
[ -x "$S3RVER" ] || skip "s3rver not installed (npm ci)"
command -v node >/dev/null 2>&1 || skip "node not installed"
[ -x "$PY" ] || skip "$PY missing"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export NO_PROXY=127.0.0.1
unset AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_PROFILE \
    AWS_DEFAULT_REGION AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE

free_port() {
	$PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

# s3rver's continuation tokens use DES, which Node 17+ only has with the
# legacy OpenSSL provider.
s3_start_s3rver() {
	S3PORT=$(free_port)
	mkdir -p "$T/s3"
	NODE_OPTIONS=--openssl-legacy-provider bg "$S3RVER" --address 127.0.0.1 \
	    --port "$S3PORT" --directory "$T/s3" --silent --configure-bucket bkt
	S3PID=$BGPID
	wait_for 20 curl -s -o /dev/null "http://127.0.0.1:$S3PORT/" ||
	    fail "s3rver did not start on port $S3PORT"
}

# s3_start_proxy [ARGS...]: a proxy in front of s3rver; extra arguments go
# to s3proxy.py (--emulate-delimiter, --tls-cert ...).
s3_start_proxy() {
	[ -f "$T/faults.json" ] || echo '[]' > "$T/faults.json"
	touch "$T/requests.log"
	rm -f "$T/proxy.port"
	bg $PY "$S3PROXY" --upstream "127.0.0.1:$S3PORT" --port-file "$T/proxy.port" \
	    --log "$T/requests.log" --faults "$T/faults.json" "$@"
	PROXYPID=$BGPID
	wait_for 20 test -s "$T/proxy.port" || fail "s3proxy did not start"
	PPORT=$(cat "$T/proxy.port")
	EP="http://127.0.0.1:$PPORT"
}

s3_start() {
	s3_start_s3rver
	s3_start_proxy "$@"
}

# faults JSON: replace the proxy's fault rules (atomically; counters restart).
faults() { printf '%s\n' "$1" > "$T/faults.json.tmp"; mv "$T/faults.json.tmp" "$T/faults.json"; }
# mark: the number of requests logged so far (for count_since).
mark() { wc -l < "$T/requests.log" 2>/dev/null || echo 0; }
# count_since MARK PY-EXPR [END]: requests logged after MARK (and before
# the mark END) for which the Python expression over the request `r` (one
# JSON line of the log) is true.
count_since() {
	$PY - "$T/requests.log" "$1" "$2" "${3:-}" <<'EOF'
import json, sys
end = int(sys.argv[4]) if sys.argv[4] else None
rows = [json.loads(l) for l in open(sys.argv[1])][int(sys.argv[2]):end]
print(sum(1 for r in rows if eval(sys.argv[3])))
EOF
}
# at_least N MARK PY-EXPR: true when count_since MARK PY-EXPR >= N (for
# wait_for, which runs its command again each time).
at_least() { [ "$(count_since "$2" "$3")" -ge "$1" ]; }
# IS_LIST: the Python test for "this request is a listing of the bucket".
IS_LIST='r["method"]=="GET" and r["path"].strip("/").count("/")==0 and ("list-type" in r["query"] or "prefix" in r["query"] or "delimiter" in r["query"])'

# past_last_request: wait until the clock is in a later second than the last
# logged request.  S3 (and s3rver) keep LastModified to the second, and
# restore picks the generation updated last; one started in the same second
# as the previous one's last upload would tie with it.
past_last_request() {
	_last=$($PY -c 'import json,sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(int(max([r["t"] for r in rows] or [0])))' "$T/requests.log")
	wait_for 5 sh -c "[ \$(date +%s) -gt $_last ]"
}
# stop_daemon PID LOG: SIGTERM, then fail (showing the log's tail) unless it
# exits 0, i.e. its final sync shipped everything.
stop_daemon() {
	kill -TERM "$1"
	wait "$1"
	_rc=$?
	[ "$_rc" = 0 ] || { tail -n 5 "$2"; fail "daemon exit status $_rc (log $2)"; }
}
# vmhwm PID: the peak resident set size of PID in KiB (VmHWM).
vmhwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
