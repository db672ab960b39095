#!/bin/bash
# test-image-tls.sh - pulls from registries that are not on loopback, inside a network
# namespace made here (the registry listens on 10.213.0.1, an address of that namespace's
# lo; nothing touches the machine's interfaces). Debian's docker-registry serves TLS with a
# certificate signed by a CA the test makes with openssl, and htpasswd basic auth:
# verification is on by default and the CA is trusted through --cert-dir, podman's and
# Docker's certs.d directories; --tls-verify=false skips it. A plain-HTTP registry off
# loopback is refused unless --tls-verify=false.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/img-lib.sh"

require_root
require_cmd docker-registry skopeo htpasswd python3 zstd curl busybox openssl ip unshare
at_exit registry_stop_all

plan 20

NS=img-tls-$$
ip netns add "$NS" || skip_all "cannot create a network namespace"
at_exit "ip netns del $NS"
in_ns() { ip netns exec "$NS" "$@"; }
in_ns ip link set lo up
ADDR=10.213.0.1
in_ns ip addr add "$ADDR/32" dev lo
TREG=$ADDR:5443 HREG=$ADDR:5000 MREG=$ADDR:5444
D=$T/data
cab() { in_ns "$CABIN" --data-root "$D" "$@"; }
nothing_left() {
	local df
	df=$(cab system df | tail -1)
	[ "$df" = "Orphaned: 0 blobs, 0 layers (0B); temporary: 0 (0B)" ] || { echo "#   $df"; return 1; }
	[ -z "$(ls "$D/images")" ] || { echo "#   images: $(ls "$D/images")"; return 1; }
}
pulled() { # pulled: the image is recorded and runs nothing; just its config
	cab image inspect "$TREG/cabin/tls:v1" 2>/dev/null | grep -q '"FOO=bar baz"'
}
forget() {
	cab image rm "$TREG/cabin/tls:v1" >/dev/null 2>&1
	cab system prune -a >/dev/null 2>&1
}

# A CA and a server certificate for 10.213.0.1 signed by it; a second CA that did not sign.
C=$T/certs
mkdir -p "$C"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout "$C/ca.key" -out "$C/ca.crt" -days 2 \
	-subj /CN=img-test-ca -addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign >/dev/null 2>&1
openssl req "${ec[@]}" -keyout "$C/srv.key" -out "$C/srv.csr" -subj "/CN=$ADDR" >/dev/null 2>&1
printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\n' "$ADDR" >"$C/ext"
openssl x509 -req -in "$C/srv.csr" -CA "$C/ca.crt" -CAkey "$C/ca.key" -CAcreateserial \
	-out "$C/srv.crt" -days 2 -extfile "$C/ext" >/dev/null 2>&1
openssl req -x509 "${ec[@]}" -keyout "$C/other.key" -out "$C/other.crt" -days 2 \
	-subj /CN=img-other-ca >/dev/null 2>&1
# a client certificate for the registry that asks for one (Docker's client.cert/.key)
mkdir -p "$T/client"
openssl req "${ec[@]}" -keyout "$T/client/client.key" -out "$C/client.csr" -subj /CN=img-client \
	>/dev/null 2>&1
printf 'extendedKeyUsage=clientAuth\n' >"$C/cext"
openssl x509 -req -in "$C/client.csr" -CA "$C/ca.crt" -CAkey "$C/ca.key" -CAcreateserial \
	-out "$T/client/client.cert" -days 2 -extfile "$C/cext" >/dev/null 2>&1
cp "$C/ca.crt" "$T/client/"
ok "openssl makes a CA and a certificate for $ADDR" \
	sh -c "openssl verify -CAfile '$C/ca.crt' '$C/srv.crt' >/dev/null"

# The registries, in the namespace: TLS + htpasswd on :5443, plain HTTP on :5000.
R=$T/reg
mkdir -p "$R/tls" "$R/http"
htpasswd -Bbc "$R/htpasswd" cabinuser cabinpass >/dev/null 2>&1
cat >"$R/tls.yml" <<EOF
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $R/tls}}
http: {addr: "$TREG", tls: {certificate: $C/srv.crt, key: $C/srv.key}}
auth: {htpasswd: {realm: cabin-test, path: $R/htpasswd}}
EOF
cat >"$R/mtls.yml" <<EOF
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $R/mtls}}
http: {addr: "$MREG", tls: {certificate: $C/srv.crt, key: $C/srv.key, clientcas: [$C/ca.crt]}}
EOF
cat >"$R/http.yml" <<EOF
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $R/http}}
http: {addr: "$HREG"}
EOF
in_ns docker-registry serve "$R/tls.yml" >"$R/tls.log" 2>&1 &
_reg_pids+=($!)
in_ns docker-registry serve "$R/http.yml" >"$R/http.log" 2>&1 &
_reg_pids+=($!)
in_ns docker-registry serve "$R/mtls.yml" >"$R/mtls.log" 2>&1 &
_reg_pids+=($!)
for i in $(seq 300); do
	in_ns curl -s -o /dev/null --cacert "$C/ca.crt" "https://$TREG/v2/" &&
		in_ns curl -s -o /dev/null "http://$HREG/v2/" &&
		in_ns curl -s -o /dev/null --cacert "$C/ca.crt" --cert "$T/client/client.cert" \
			--key "$T/client/client.key" "https://$MREG/v2/" && break
	sleep 0.1
done
mkimage "$T/img" >/dev/null
in_ns skopeo copy -q --dest-cert-dir "$T/none" --dest-tls-verify=false \
	--dest-creds cabinuser:cabinpass "oci:$T/img:v1" "docker://$TREG/cabin/tls:v1" \
	>"$T/skopeo.log" 2>&1
in_ns skopeo copy -q --dest-tls-verify=false "oci:$T/img:v1" "docker://$HREG/cabin/http:v1" \
	>>"$T/skopeo.log" 2>&1
in_ns skopeo copy -q --dest-cert-dir "$T/client" "oci:$T/img:v1" "docker://$MREG/cabin/mtls:v1" \
	>>"$T/skopeo.log" 2>&1
ok "skopeo pushes to the three registries" test $? -eq 0
export CABIN_AUTH_FILE=$T/auth.json
printf '{"auths":{"%s":{"auth":"%s"}}}' "$TREG" "$(printf cabinuser:cabinpass | base64)" \
	>"$CABIN_AUTH_FILE"

# Verification is on by default: a CA nobody trusts is refused, with a way out named.
err=$(cab image pull "$TREG/cabin/tls:v1" 2>&1)
assert_contains "$err" "TLS to \`$TREG\` failed (trust its CA with --cert-dir DIR" \
	"an untrusted certificate is refused and the error says how to trust it"
assert_contains "$err" "certificate" "the error gives TLS's reason"
ok "nothing left by the refused pull" nothing_left

mkdir -p "$T/wrong"
cp "$C/other.crt" "$T/wrong/ca.crt"
err=$(cab image pull --cert-dir "$T/wrong" "$TREG/cabin/tls:v1" 2>&1)
assert_contains "$err" "TLS to \`$TREG\` failed" "--cert-dir with a CA that did not sign: refused"

mkdir -p "$T/good"
cp "$C/ca.crt" "$T/good/registry-ca.crt"
cab image pull -q --cert-dir "$T/good" "$TREG/cabin/tls:v1" >/dev/null 2>"$T/err"
ok "--cert-dir DIR with the CA (*.crt): the pull verifies and succeeds" pulled
forget

cab image pull -q --tls-verify=false "$TREG/cabin/tls:v1" >/dev/null 2>&1
ok "--tls-verify=false pulls without verifying" pulled
forget

# podman's and Docker's certs.d directories, HOST:PORT as the reference names it. /etc is
# not touched: a tmpfs covers the directory in a private mount namespace.
certsd_pull() { # certsd_pull DIR: pull with DIR/certs.d/HOST:PORT/ca.crt
	unshare -m --propagation private sh -c "
		mount -t tmpfs img-certs '$1' &&
		mkdir -p '$1/certs.d/$TREG' && cp '$C/ca.crt' '$1/certs.d/$TREG/ca.crt' &&
		ip netns exec '$NS' '$CABIN' --data-root '$D' image pull -q '$TREG/cabin/tls:v1'" \
		>/dev/null 2>"$T/err"
}
for etc in /etc/containers /etc/docker; do
	if [ -d "$etc" ]; then
		certsd_pull "$etc"
		ok "$etc/certs.d/$TREG/ca.crt is trusted" pulled
		forget
	else
		skip "no $etc to cover with a tmpfs"
	fi
done
mkdir -p "$T/home/.config/containers/certs.d/$TREG"
cp "$C/ca.crt" "$T/home/.config/containers/certs.d/$TREG/"
HOME=$T/home cab image pull -q "$TREG/cabin/tls:v1" >/dev/null 2>&1
ok "~/.config/containers/certs.d/$TREG/ca.crt is trusted" pulled
forget

# login checks the credentials over verified TLS too.
rm -f "$CABIN_AUTH_FILE"
err=$(echo wrong | cab login --cert-dir "$T/good" -u cabinuser --password-stdin "$TREG" 2>&1)
assert_contains "$err" "401" "login over TLS: a wrong password is refused"
echo cabinpass | cab login --cert-dir "$T/good" -u cabinuser --password-stdin "$TREG" >/dev/null 2>&1
ok "login over TLS with --cert-dir" test $? -eq 0
cab image pull -q --cert-dir "$T/good" "$TREG/cabin/tls:v1" >/dev/null 2>&1
ok "the stored credentials pull over verified TLS" pulled
forget

# A registry that wants a client certificate: NAME.cert and NAME.key next to the CA.
mkdir -p "$T/caonly" "$T/nokey"
cp "$C/ca.crt" "$T/caonly/"
cp "$C/ca.crt" "$T/client/client.cert" "$T/nokey/"
err=$(cab image pull --cert-dir "$T/caonly" "$MREG/cabin/mtls:v1" 2>&1)
assert_contains "$err" "does the registry want a client certificate? NAME.cert and NAME.key go in --cert-dir DIR" \
	"without a client certificate the registry refuses, and the error says where one goes"
err=$(cab image pull --cert-dir "$T/nokey" "$MREG/cabin/mtls:v1" 2>&1)
assert_contains "$err" "client certificate \`$T/nokey/client.cert\`: its key \`$T/nokey/client.key\`" \
	"a client certificate without its key: a clear error"
cab image pull -q --cert-dir "$T/client" "$MREG/cabin/mtls:v1" >/dev/null 2>&1
ok "client.cert and client.key of the cert dir are shown to the registry" \
	sh -c "ip netns exec '$NS' '$CABIN' --data-root '$D' image inspect '$MREG/cabin/mtls:v1' | grep -q 'FOO=bar baz'"
cab image rm "$MREG/cabin/mtls:v1" >/dev/null 2>&1
cab system prune -a >/dev/null 2>&1

# Plain HTTP off loopback: only with --tls-verify=false.
err=$(cab image pull "$HREG/cabin/http:v1" 2>&1)
assert_contains "$err" "plain HTTP only with --tls-verify=false" \
	"a plain-HTTP registry off loopback is refused by default"
ok "nothing left by the refused plain-HTTP pull" nothing_left
cab image pull -q --tls-verify=false "$HREG/cabin/http:v1" >/dev/null 2>&1
ok "--tls-verify=false pulls over plain HTTP" \
	sh -c "ip netns exec '$NS' '$CABIN' --data-root '$D' image inspect '$HREG/cabin/http:v1' | grep -q 'FOO=bar baz'"
done_testing
