#!/usr/bin/env bash
# The REST API as production runs it (issue 13): bpffs mounted by the daemon when missing,
# /metrics accepted by promtool, bearer tokens (curl and floatctl), HTTPS with a generated CA
# (curl and floatctl, certificate re-read on SIGHUP), every delete URL form loxicmd and
# kube-loxilb send, and rules created over one keep-alive connection surviving a restart.
source "$(dirname "$0")/lib.sh"
netns_init apisec
command -v promtool >/dev/null || { fail "promtool missing (Debian package prometheus, scripts/setup.sh)"; exit 1; }
command -v openssl >/dev/null || { fail "openssl missing"; exit 1; }
mkns lb
API=http://127.0.0.1:11111/netlox/v1
CTL="$BIN/floatctl"

# --- bpffs: `ip netns exec` gives the daemon a fresh /sys without bpffs; it must mount it itself.
mkdir -p "$WORK/cfg"
bg floatlb "$WORK/floatlb.log" ip netns exec "$(ns lb)" "$BIN/floatlb" --config-path="$WORK/cfg" --host=127.0.0.1
check "daemon starts without bpffs at /sys/fs/bpf (mounts it)" wait_until 30 in_ns lb curl -sf -m 1 $API
check "the daemon said it mounted bpffs" grep -q "mounted bpffs at /sys/fs/bpf" "$WORK/floatlb.log"

# --- /metrics through promtool, with rules and endpoints present.
in_ns lb "$CTL" create lb 198.18.0.10 --tcp=80:8080 --endpoints=10.9.0.1:1,10.9.0.2:2 --name='we"ird' >/dev/null
in_ns lb curl -s $API/metrics > "$WORK/metrics.txt"
if promtool check metrics < "$WORK/metrics.txt" > "$WORK/promtool.out" 2>&1; then
  pass "promtool check metrics accepts /netlox/v1/metrics ($(grep -c '^# TYPE' "$WORK/metrics.txt") families)"
else
  fail "promtool check metrics: $(head -5 "$WORK/promtool.out")"
fi
check "label values are escaped" grep -q 'name="we\\"ird"' "$WORK/metrics.txt"

# --- delete URL forms (loxilb api/swagger.yml), with the exact paths the clients send.
del_form() { # del_form DESCRIPTION PATH_AFTER_BASE
  in_ns lb "$CTL" create lb 20.20.20.1 --tcp=2020:8080 --endpoints=10.9.0.1:1 >/dev/null
  local code; code=$(in_ns lb curl -s -o "$WORK/resp" -w '%{http_code}' -X DELETE "$API$2")
  if [ "$code" = 200 ] && ! in_ns lb "$CTL" get lb | grep -q 20.20.20.1; then pass "delete: $1"
  else fail "delete: $1 -> $code $(cat "$WORK/resp")"; fi
}
del_form "loxicmd 0.9.8.3 (hosturl any, portmax 0)" \
  "/config/loadbalancer/hosturl/any/externalipaddress/20.20.20.1/port/2020/portmax/0/protocol/tcp?bgp=false&block=0"
del_form "hosturl without portmax" "/config/loadbalancer/hosturl/any/externalipaddress/20.20.20.1/port/2020/protocol/tcp?bgp=false&block=0"
del_form "portmax without hosturl" "/config/loadbalancer/externalipaddress/20.20.20.1/port/2020/portmax/0/protocol/tcp?block=0"
del_form "kube-loxilb / short form" "/config/loadbalancer/externalipaddress/20.20.20.1/port/2020/protocol/tcp?bgp=false&block=0"
code=$(in_ns lb curl -s -o "$WORK/resp" -w '%{http_code}' -X DELETE \
  "$API/config/loadbalancer/externalipaddress/198.18.0.10/port/80/portmax/90/protocol/tcp")
check "a real port range answers 400 with a message" sh -c "[ $code = 400 ] && grep -q 'port ranges are not supported' $WORK/resp"

# --- hostile bodies: 413 before a 300 MB body is read, 4xx for 100,000-deep nesting, daemon unharmed.
code=$(head -c 300000000 /dev/zero | in_ns lb curl -s -o "$WORK/resp" -w '%{http_code}' -X POST \
  -H 'Content-Type: application/json' --data-binary @- $API/config/loadbalancer)
check "300 MB body answered 413" test "$code" = 413
python3 -c "print('['*100000 + ']'*100000)" > "$WORK/deep.json"
code=$(in_ns lb curl -s -o "$WORK/resp" -w '%{http_code}' -X POST --data-binary @"$WORK/deep.json" $API/config/loadbalancer)
check "100,000-deep nesting answered 4xx ($code)" sh -c "[ $code -ge 400 ] && [ $code -lt 500 ]"
check "daemon alive after hostile bodies" in_ns lb curl -sf -m 2 -o /dev/null $API/config/loadbalancer/all

# --- keep-alive creates survive a restart (each answered 200 only once persisted).
cat > "$WORK/keepalive.py" <<'PY'
import http.client, json, sys
c = http.client.HTTPConnection("127.0.0.1", 11111, timeout=10)
for i in range(int(sys.argv[1])):
    body = {"serviceArguments": {"externalIP": "198.18.7.%d" % (i % 250 + 1), "port": 1000 + i // 250, "protocol": "tcp"},
            "endpoints": [{"endpointIP": "10.9.1.1", "targetPort": 8080, "weight": 1}]}
    c.request("POST", "/netlox/v1/config/loadbalancer", json.dumps(body), {"Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    if r.status != 200: sys.exit("create %d: HTTP %d" % (i, r.status))
print("ok")
PY
check "300 creates over one keep-alive connection" sh -c "ip netns exec $(ns lb) python3 $WORK/keepalive.py 300 | grep -q ok"
kill -KILL "$PID_floatlb"  # no clean shutdown: what was answered 200 must be on disk already
wait_until 5 sh -c "! kill -0 $PID_floatlb 2>/dev/null"
bg floatlb2 "$WORK/floatlb2.log" ip netns exec "$(ns lb)" "$BIN/floatlb" --config-path="$WORK/cfg" --host=127.0.0.1
wait_until 30 in_ns lb curl -sf -m 1 $API || fail "daemon did not come back"
n=$(in_ns lb curl -s $API/config/loadbalancer/all | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["lbAttr"]))')
check "all 301 rules are back after kill -9 and restart (got $n)" test "$n" = 301
kill -TERM "$PID_floatlb2"; wait_until 10 sh -c "! kill -0 $PID_floatlb2 2>/dev/null"

# --- bearer tokens, HTTPS with a generated CA, SIGHUP reload.
printf '# operators\nfirst-token\ns3cret-%s\n' "$$" > "$WORK/tokens"
TOKEN="s3cret-$$"
gen_cert() { # gen_cert NAME: a server certificate for 127.0.0.1 signed by the test CA
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/ca.key" -out "$WORK/ca.pem" -days 1 -subj "/CN=floatlb test CA" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout "$WORK/$1.key" -out "$WORK/$1.csr" -subj "/CN=127.0.0.1" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\n' > "$WORK/san.ext"
  openssl x509 -req -in "$WORK/$1.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial -days 1 \
    -extfile "$WORK/san.ext" -out "$WORK/$1.pem" 2>/dev/null
}
gen_cert srv
cp "$WORK/ca.pem" "$WORK/ca1.pem"
cp "$WORK/srv.pem" "$WORK/tls.pem"; cp "$WORK/srv.key" "$WORK/tls.key"
bg floatlb3 "$WORK/floatlb3.log" ip netns exec "$(ns lb)" "$BIN/floatlb" --config-path="$WORK/cfg" \
  --api-token-file="$WORK/tokens" --tls-cert="$WORK/tls.pem" --tls-key="$WORK/tls.key" --tls-port=11443
wait_until 30 in_ns lb curl -sf -m 1 $API || fail "daemon with tokens and TLS did not come up"
check "warning: non-loopback listener" sh -c "! grep -q 'without authentication' $WORK/floatlb3.log"
status() { in_ns lb curl -s -o "$WORK/resp" -w '%{http_code}' "$@"; }
check "liveness open without a token" test "$(status $API)" = 200
check "401 without a token (curl)" test "$(status $API/config/loadbalancer/all)" = 401
check "401 body is JSON with code 401" python3 -c "import json; assert json.load(open('$WORK/resp'))['code']==401"
check "401 with a wrong token (curl)" test "$(status -H 'Authorization: Bearer nope' $API/config/loadbalancer/all)" = 401
check "200 with the right token (curl)" test "$(status -H "Authorization: Bearer $TOKEN" $API/config/loadbalancer/all)" = 200
check "DELETE all refused without a token" test "$(status -X DELETE $API/config/loadbalancer/all)" = 401
check "rules untouched" sh -c "ip netns exec $(ns lb) $CTL --token=$TOKEN get lb | grep -q 198.18.0.10"
check "floatctl without a token fails (401)" sh -c "! ip netns exec $(ns lb) $CTL get lb 2>$WORK/ctl.err && grep -q 401 $WORK/ctl.err"
check "floatctl with a wrong token fails" sh -c "! ip netns exec $(ns lb) $CTL --token=nope get lb 2>/dev/null"
check "floatctl with FLOATCTL_TOKEN works" sh -c "FLOATCTL_TOKEN=$TOKEN ip netns exec $(ns lb) $CTL get lb | grep -q 198.18.0.10"
HTTPS=https://127.0.0.1:11443/netlox/v1
check "HTTPS with the CA (curl)" test "$(status --cacert "$WORK/ca1.pem" -H "Authorization: Bearer $TOKEN" $HTTPS/config/loadbalancer/all)" = 200
check "HTTPS refused without the CA (curl)" sh -c "! ip netns exec $(ns lb) curl -sf -m 3 $HTTPS >/dev/null 2>&1"
check "HTTPS with the CA (floatctl)" sh -c "ip netns exec $(ns lb) $CTL --protocol https --cacert $WORK/ca1.pem -p 11443 --token $TOKEN get lb | grep -q 198.18.0.10"
check "HTTPS without the right CA fails (floatctl)" sh -c "! ip netns exec $(ns lb) $CTL --protocol https --cacert $WORK/srv.pem -p 11443 --token $TOKEN get lb 2>/dev/null"
# A new CA and certificate, then SIGHUP: new connections get the new certificate.
gen_cert srv2
cp "$WORK/srv2.pem" "$WORK/tls.pem"; cp "$WORK/srv2.key" "$WORK/tls.key"
kill -HUP "$PID_floatlb3"
check "after SIGHUP the new certificate is served" wait_until 5 sh -c \
  "ip netns exec $(ns lb) curl -sf -m 2 --cacert $WORK/ca.pem $HTTPS >/dev/null"
check "and the old CA no longer verifies it" sh -c "! ip netns exec $(ns lb) curl -sf -m 2 --cacert $WORK/ca1.pem $HTTPS >/dev/null 2>&1"
check "the daemon is still running" kill -0 "$PID_floatlb3"
