#!/bin/bash
# test-image-pull.sh - `cabin image pull` against Debian's docker-registry (distribution 2.8)
# on loopback, without and with htpasswd basic auth. The image is an OCI layout built here
# (tests/helpers/mkimage.py: gzip and zstd layers, a whiteout, an opaque directory, a hard
# link, a capability xattr) and pushed with skopeo. Bad input: 404, 401, another platform,
# a digest mismatch, a truncated layer, path traversal, a full disk; each leaves nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/img-lib.sh"

require_root
require_cmd docker-registry skopeo htpasswd python3 zstd curl busybox
at_exit registry_stop_all

plan 63

D=$T/data
cab() { "$CABIN" --data-root "$D" "$@"; }
# blob_file DIGEST: where the registry keeps a blob
blob_file() { echo "$REG_DATA/docker/registry/v2/blobs/sha256/${1:7:2}/${1#sha256:}/data"; }
# nothing_left: no temporary and no orphaned blob or layer
nothing_left() {
	local df
	df=$(cab system df | tail -1)
	[ "$df" = "Orphaned: 0 blobs, 0 layers (0B); temporary: 0 (0B)" ] || {
		echo "#   $df"
		ls "$D/tmp" | sed 's/^/#   tmp: /'
		return 1
	}
}

registry_start open
REG=$REG_open REG_DATA=$REG_DATA_LAST
mkimage "$T/img" >/dev/null
push "$T/img" "$REG/cabin/test:v1"
ok "skopeo pushes the test image to the loopback registry" test $? -eq 0

out=$(cab image pull "$REG/cabin/test:v1" 2>"$T/err")
assert_contains "$out" "sha256:" "image pull prints the image ID"
id=$out
assert_contains "$(cat "$T/err")" "done" "progress lines without a tty"
assert_contains "$(cab images)" "$REG/cabin/test" "image ls shows the name"
assert_contains "$(cab image inspect "$REG/cabin/test:v1")" '"FOO=bar baz"' \
	"image inspect shows the config's Env"

# The unpacked layers: overlayfs form of whiteouts and opaque directories.
L=$D/layers
wh=$(find "$L" -path '*/data/a' -type c | head -1)
ok "the whiteout .wh.a became a 0/0 character device" test -n "$wh"
opq=$(for d in "$L"/*/opq; do [ -e "$d/new" ] && echo "$d"; done)
assert_eq "$(python3 -c "import os,sys; print(os.getxattr(sys.argv[1],'trusted.overlay.opaque'))" "$opq" 2>&1)" \
	"b'y'" "the opaque directory carries trusted.overlay.opaque=y"
h1=$(find "$L" -path '*/data/h1' | head -1)
assert_eq "$(stat -c %h "$h1")" 2 "the hard link shares the inode"
assert_eq "$(stat -c %a "${h1%/h1}/suid")" 4755 "the set-uid bit is kept"
capd=$(python3 -c "import os,sys; print(os.getxattr(sys.argv[1],'security.capability').hex())" \
	"${h1%/h1}/capped" 2>&1)
assert_eq "$capd" "0000000200040000000000000000000000000000" "the capability xattr is kept"
assert_eq "$(stat -c %Y "${h1%/h1}/suid")" 1700000000 "mtimes are kept"
assert_eq "$(stat -c '%F %t,%T %a' "${h1%/h1}/null")" "character special file 1,3 666" \
	"a device node is made with its numbers and mode"

# A second pull downloads nothing.
out=$(cab image pull "$REG/cabin/test:v1" 2>&1)
assert_not_contains "$out" "downloading" "a second pull finds every blob in the store"
ok "no temporary or orphaned file after the pulls" nothing_left

# An index with two platforms.
mkimage "$T/multi" --multiarch --salt multi >/dev/null
skopeo copy -q --all --dest-tls-verify=false "oci:$T/multi:v1" "docker://$REG/cabin/multi:v1" \
	>/dev/null 2>&1
cab image pull -q "$REG/cabin/multi:v1" >/dev/null 2>&1
assert_contains "$(cab image inspect "$REG/cabin/multi:v1")" '"Architecture": "amd64"' \
	"from an index, the host's platform is chosen"
cab image pull -q --platform linux/arm64 "$REG/cabin/multi:v1" >/dev/null 2>&1
assert_contains "$(cab image inspect "$REG/cabin/multi:v1")" '"Architecture": "arm64"' \
	"--platform linux/arm64 picks the arm64 manifest"
err=$(cab image pull --platform linux/s390x "$REG/cabin/multi:v1" 2>&1)
assert_contains "$err" "no image for platform \`linux/s390x\` in the index (it has: linux/arm64/v8, linux/amd64)" \
	"a platform the index lacks: the error lists what it has"

# A Docker manifest list (skopeo --all --format v2s2 turns the index into one).
mkimage "$T/mlist" --multiarch --gzip-only --salt mlist >/dev/null
skopeo copy -q --all --format v2s2 --dest-tls-verify=false "oci:$T/mlist:v1" \
	"docker://$REG/cabin/mlist:v1" >/dev/null 2>&1
assert_contains "$(curl -s -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
	"http://$REG/v2/cabin/mlist/manifests/v1")" "manifest.list.v2+json" "the registry holds a manifest list"
cab image pull -q --platform linux/arm64 "$REG/cabin/mlist:v1" >/dev/null 2>&1
assert_contains "$(cab image inspect "$REG/cabin/mlist:v1")" '"Architecture": "arm64"' \
	"from a Docker manifest list, --platform linux/arm64 picks the arm64 manifest"
cab image rm "$REG/cabin/mlist:v1" >/dev/null

# Another platform without an index.
mkimage "$T/arm" --arch arm64 --salt arm >/dev/null
push "$T/arm" "$REG/cabin/arm:v1"
err=$(cab image pull "$REG/cabin/arm:v1" 2>&1)
assert_contains "$err" "the image is for platform \`linux/arm64\`, not \`linux/amd64\`" \
	"a manifest for another platform is refused"
ok "nothing left by the refused platform" nothing_left

err=$(cab image pull "$REG/cabin/nothere:v1" 2>&1)
assert_contains "$err" "404: manifest \`cabin/nothere:v1\` not found" "404: a clear error"

# A config blob whose content the registry changed: a digest mismatch.
mkimage "$T/bad" --salt bad >/dev/null
push "$T/bad" "$REG/cabin/bad:v1"
cfg=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]+"/index.json"))["manifests"][0]["digest"]; print(json.load(open(sys.argv[1]+"/blobs/sha256/"+m[7:]))["config"]["digest"])' "$T/bad")
f=$(blob_file "$cfg")
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[10]^=1; open(p,"wb").write(b)' "$f"
err=$(cab image pull "$REG/cabin/bad:v1" 2>&1)
assert_contains "$err" "digest mismatch" "a corrupt blob: digest mismatch"
assert_not_contains "$(cab images)" "cabin/bad" "no image is recorded"
ok "nothing left by the digest mismatch" nothing_left

# A truncated layer (the registry serves fewer bytes than the manifest says).
mkimage "$T/trunc" --salt trunc >/dev/null
push "$T/trunc" "$REG/cabin/trunc:v1"
lay=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]+"/index.json"))["manifests"][0]["digest"]; print(json.load(open(sys.argv[1]+"/blobs/sha256/"+m[7:]))["layers"][2]["digest"])' "$T/trunc")
f=$(blob_file "$lay")
truncate -s 50 "$f"
err=$(cab image pull "$REG/cabin/trunc:v1" 2>&1)
assert_contains "$err" "truncated" "a truncated layer: a clear error"
ok "nothing left by the truncated layer" nothing_left

# Hostile layers.
for kind in dotdot abs symlink hardlink; do
	mkimage "$T/evil-$kind" --evil "$kind" --salt "$kind" >/dev/null
	push "$T/evil-$kind" "$REG/cabin/evil-$kind:v1"
	err=$(cab image pull "$REG/cabin/evil-$kind:v1" 2>&1)
	case $kind in
	dotdot) want="\`..\` refused" ;;
	abs) want="absolute name refused" ;;
	symlink) want="leaves the layer through a symlink" ;;
	hardlink) want="hard link \`hl\`" ;;
	esac
	assert_contains "$err" "$want" "path traversal ($kind) is refused"
done
ok "nothing escaped: no file named escape anywhere" \
	test -z "$(find "$T" / -maxdepth 1 -name escape 2>/dev/null; find "$D" -name escape)"
ok "nothing left by the hostile layers" nothing_left

# A full disk: a 2 MB tmpfs store and a 3 MB layer.
mkdir -p "$T/small"
if mount -t tmpfs -o size=2m tmpfs "$T/small" 2>/dev/null; then
	at_exit "umount -l $T/small"
	mkimage "$T/big" --big 3 --salt big >/dev/null
	push "$T/big" "$REG/cabin/big:v1"
	err=$("$CABIN" --data-root "$T/small/d" image pull "$REG/cabin/big:v1" 2>&1)
	assert_contains "$err" "No space left on device" "a full disk: a clear error"
	assert_eq "$(ls "$T/small/d/tmp" "$T/small/d/blobs/sha256" "$T/small/d/layers" | grep -c .)" \
		"3" "a full disk leaves no temporary, blob or layer behind"
	umount "$T/small"
else
	skip "cannot mount a tmpfs"
	skip "cannot mount a tmpfs"
fi

# Basic auth (htpasswd): 401 without credentials, then `cabin login`.
registry_start auth htpasswd
AREG=$REG_auth
push "$T/img" "$AREG/cabin/test:v1" cabinuser:cabinpass
export CABIN_AUTH_FILE=$T/auth.json
err=$(cab image pull "$AREG/cabin/test:v1" 2>&1)
assert_contains "$err" "401 unauthorized" "without credentials: 401 and a clear error"
err=$(echo wrong | cab login -u cabinuser --password-stdin "$AREG" 2>&1)
assert_contains "$err" "401" "login with a wrong password fails"
ok "login with the right password" sh -c "echo cabinpass | '$CABIN' login -u cabinuser --password-stdin '$AREG' >/dev/null"
assert_eq "$(stat -c %a "$T/auth.json")" 600 "the auth file is 0600"
out=$(cab image pull -q "$AREG/cabin/test:v1" 2>&1)
assert_eq "$out" "$id" "with stored credentials the pull succeeds (same image ID)"
cab logout "$AREG" >/dev/null
unset CABIN_AUTH_FILE
# what `podman login` writes ($XDG_RUNTIME_DIR/containers/auth.json) is read
cab image rm "$AREG/cabin/test:v1" >/dev/null
if command -v podman >/dev/null; then
	mkdir -p "$T/xdg"
	XDG_RUNTIME_DIR=$T/xdg timeout 60 podman login --tls-verify=false -u cabinuser \
		-p cabinpass "$AREG" >/dev/null 2>&1
	out=$(XDG_RUNTIME_DIR=$T/xdg HOME=$T/nohome cab image pull -q "$AREG/cabin/test:v1" 2>&1)
	assert_eq "$out" "$id" "credentials from the auth.json podman login wrote"
else
	skip "no podman to write an auth.json"
fi
# ~/.docker/config.json is read too
mkdir -p "$T/home/.docker"
printf '{"auths":{"%s":{"auth":"%s"}}}' "$AREG" "$(printf cabinuser:cabinpass | base64)" \
	>"$T/home/.docker/config.json"
cab image rm "$AREG/cabin/test:v1" >/dev/null
out=$(HOME=$T/home cab image pull -q "$AREG/cabin/test:v1" 2>&1)
assert_eq "$out" "$id" "credentials from ~/.docker/config.json"
# Docker's credential helpers: credsStore and credHelpers name docker-credential-NAME
mkdir -p "$T/bin" "$T/home2/.docker"
cat >"$T/bin/docker-credential-imgtest" <<EOF
#!/bin/sh
[ "\$1" = get ] || exit 1
read -r server
echo "\$server" >>"$T/helper.log"
[ "\$server" = "$AREG" ] || { echo "credentials not found in native keychain"; exit 1; }
printf '{"ServerURL":"%s","Username":"cabinuser","Secret":"cabinpass"}\n' "\$server"
EOF
chmod +x "$T/bin/docker-credential-imgtest"
echo '{"auths":{},"credsStore":"imgtest"}' >"$T/home2/.docker/config.json"
cab image rm "$AREG/cabin/test:v1" >/dev/null
out=$(PATH=$T/bin:$PATH HOME=$T/home2 cab image pull -q "$AREG/cabin/test:v1" 2>&1)
assert_eq "$out/$(cat "$T/helper.log")" "$id/$AREG" "credentials from a credsStore helper (asked for the registry)"
printf '{"credHelpers":{"%s":"imgtest"},"credsStore":"nothere"}' "$AREG" >"$T/home2/.docker/config.json"
cab image rm "$AREG/cabin/test:v1" >/dev/null
out=$(PATH=$T/bin:$PATH HOME=$T/home2 cab image pull -q "$AREG/cabin/test:v1" 2>&1)
assert_eq "$out" "$id" "credentials from the credHelpers entry of the registry"

# Bearer tokens, as Docker Hub does it (tests/helpers/token-registry.py): the token service
# wants credentials, blobs are redirected, and a download a killed pull left is resumed
# with a Range request. The registry sends blobs slowly and counts the transfers in flight.
mkimage "$T/tok" --big 2 --plain --salt token >/dev/null
python3 "$TOP/tests/helpers/token-registry.py" "$T/tok" "$T/tok.port" --user tuser:tpass \
	--slow --cut-file "$T/tok.cut" 2>"$T/tok.log" &
tokpid=$!
stop_tok() { kill $tokpid; }
at_exit stop_tok
for i in $(seq 100); do [ -s "$T/tok.port" ] && break; sleep 0.1; done
TREG=127.0.0.1:$(cat "$T/tok.port")
export CABIN_AUTH_FILE=$T/auth2.json
err=$(cab image pull "$TREG/cabin/tok:v1" 2>&1)
assert_contains "$err" "the token service refused an anonymous pull" "bearer: anonymous refused"
cab login -u tuser -p tpass "$TREG" >/dev/null
# half of the largest layer, as a killed pull leaves it
for big in $(ls -S "$T/tok/blobs/sha256"); do [ -e "$D/blobs/sha256/$big" ] || break; done
head -c 100000 "$T/tok/blobs/sha256/$big" >"$D/tmp/$big.partial"
out=$(cab image pull "$TREG/cabin/tok:v1" 2>&1)
assert_contains "$out" "resuming at 100kB" "bearer: the pull resumes the partial download"
assert_contains "$(cat "$T/tok.log")" "GET /storage/$big range=bytes=100000-" \
	"the resumed download asks for the rest only (through the redirect)"
assert_contains "$(cab image inspect "$TREG/cabin/tok:v1")" '"Architecture": "amd64"' \
	"bearer: the image is pulled"
ok "an uncompressed layer (application/vnd.oci.image.layer.v1.tar) is unpacked" \
	test -n "$(find "$D/layers" -path '*/bulk/f001' -size 1048576c)"
# Parallel downloads: 5 blobs into an empty store, plain lines without a tty.
max_active() { tail -n +"$1" "$T/tok.log" | sed -n 's/^active //p' | sort -n | tail -1; }
n0=$(($(wc -l <"$T/tok.log") + 1))
out=$("$CABIN" --data-root "$T/par" image pull "$TREG/cabin/tok:v1" 2>&1)
par=$(max_active $n0)
ok "layers download in parallel (at most $par blob transfers at once, of 5)" test "${par:-0}" -ge 2
assert_eq "$(printf %s "$out" | grep -c ': downloading ')" 5 "without a tty: a plain line per blob"
assert_not_contains "$out" $'\033' "without a tty: no escape sequence"
# -j 1 on a tty: one transfer at a time, a bar per layer.
n0=$(($(wc -l <"$T/tok.log") + 1))
out=$(script -qec "$CABIN --data-root $T/tty image pull -j 1 $TREG/cabin/tok:v1" /dev/null | tr -d '\r')
assert_eq "$(max_active $n0)" 1 "pull -j 1: one blob transfer at a time"
assert_contains "$out" $'\033[2K' "on a tty: the progress is redrawn in place"
assert_eq "$(printf '%s\n' "$out" | tail -7 | head -5 | grep -c 'done        \[==============================\]')" 5 \
	"on a tty: the last frame has a full bar for each of the 5 blobs"
# The connection breaks in the middle of a blob: the same pull resumes it with a Range request.
echo 300000 >"$T/tok.cut"
n0=$(($(wc -l <"$T/tok.log") + 1))
out=$("$CABIN" --data-root "$T/cut" image pull "$TREG/cabin/tok:v1" 2>&1)
rc=$?
assert_eq "$rc/$(tail -n +$n0 "$T/tok.log" | grep -c '^cut after 300000')" "0/1" \
	"a connection cut after 300000 bytes of a blob: the pull succeeds all the same"
assert_contains "$out" "resuming at 300kB" "it resumes the blob where the cut left it"
assert_contains "$(tail -n +$n0 "$T/tok.log")" "range=bytes=300000-" "with a Range request for the rest"
unset CABIN_AUTH_FILE

# Docker schema 2 (skopeo --format v2s2; gzip layers only)
mkimage "$T/v2" --gzip-only --salt v2s2 >/dev/null
skopeo copy -q --format v2s2 --dest-tls-verify=false "oci:$T/v2:v1" "docker://$REG/cabin/v2:v1" \
	>/dev/null 2>&1
cab image pull -q "$REG/cabin/v2:v1" >/dev/null 2>&1
ok "a Docker schema 2 manifest is pulled" test $? -eq 0
mt=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifestMediaType"])' \
	"$D/images/$(cab image inspect "$REG/cabin/v2:v1" | grep '"Id"' | sed 's/.*sha256:\([0-9a-f]*\).*/\1/').json")
assert_eq "$mt" "application/vnd.docker.distribution.manifest.v2+json" "recorded as Docker schema 2"
cab image rm "$TREG/cabin/tok:v1" "$REG/cabin/v2:v1" >/dev/null

# tag, rm, prune
cab image tag "$REG/cabin/test:v1" mytest:latest
assert_contains "$(cab images)" "docker.io/library/mytest" "image tag adds a name"
cab image rm mytest >/dev/null
assert_not_contains "$(cab images)" "mytest" "image rm removes the name"
cab image rm "$REG/cabin/test:v1" "$AREG/cabin/test:v1" "$REG/cabin/multi:v1" >/dev/null
cab system prune -a >/dev/null
assert_eq "$(ls "$D/blobs/sha256" "$D/layers" "$D/images" | grep -c .)" 3 \
	"after rm and prune: no blob, layer or record"
done_testing
