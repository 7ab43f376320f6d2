#!/usr/bin/env bash
# kube-floatlb against a real floatlb started with TLS and API tokens (docs/security.md), all
# inside one network namespace (floatlb, kubesim --no-netns and the operator on its loopback).
source "$(dirname "$0")/../netns/lib.sh"
netns_init optls
need openssl
mkns lb
mkdir -p "$WORK/cfg"
printf '# kube-floatlb\nop-token-%s\n' "$$" > "$WORK/tokens"
chmod 600 "$WORK/tokens"
mkcert() { # mkcert DIR: a CA and a server certificate for 127.0.0.1 signed by it
  mkdir -p "$1"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1/ca.key" -out "$1/ca.pem" -days 1 -subj "/CN=optls CA" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout "$1/srv.key" -out "$1/srv.csr" -subj "/CN=127.0.0.1" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\n' > "$1/san.ext"
  openssl x509 -req -in "$1/srv.csr" -CA "$1/ca.pem" -CAkey "$1/ca.key" -CAcreateserial -days 1 \
    -extfile "$1/san.ext" -out "$1/srv.pem" 2>/dev/null
}
mkcert "$WORK/good"
mkcert "$WORK/other"
bg floatlb "$WORK/floatlb.log" ip netns exec "$(ns lb)" "$BIN/floatlb" --config-path="$WORK/cfg" --host=127.0.0.1 \
  --api-token-file="$WORK/tokens" --tls-cert="$WORK/good/srv.pem" --tls-key="$WORK/good/srv.key" --tls-port=11443
check "floatlb with TLS and tokens is up" wait_until 30 in_ns lb curl -sf -m 1 --cacert "$WORK/good/ca.pem" \
  https://127.0.0.1:11443/netlox/v1
if in_ns lb "$PY" "$FLOATLB_SRC/tests/operator/floatlb_tls.py" "$WORK/good/ca.pem" "$WORK/other/ca.pem" \
  "$WORK/tokens" > "$WORK/py.log" 2>&1; then
  pass "kube-floatlb over https + token: $(grep -c '^ok' "$WORK/py.log") cases"
else
  fail "kube-floatlb over https + token: $(tail -20 "$WORK/py.log")"
fi
cat "$WORK/py.log" | grep '^ok' || true
