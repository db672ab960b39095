#!/bin/bash
# test-image-load.sh - `cabin image load` of what podman saves (oci-archive and
# docker-archive, also gzip-compressed) and of an OCI layout directory: the loaded image
# runs and shows the same files, environment and working directory as the same image
# pulled from a loopback registry. A hostile or corrupt archive is refused and leaves
# nothing behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/img-lib.sh"

require_root
require_cmd docker-registry skopeo python3 curl busybox podman gzip
at_exit registry_stop_all

plan 20

R=$T/run
cab() { local d=$1; shift; "$CABIN" --data-root "$d" --root "$R" "$@"; }
SHOW='pwd; env | grep -v -E "^(HOSTNAME|container|TERM)=" | sort; id; cd /;
find data opq bin etc home root tmp ! -type d -exec stat -c "%n %f %u:%g %s %h %Y" {} +;
find data opq bin etc home root tmp -type d -exec stat -c "%n %f %u:%g" {} +'
show() {
	cab "$1" container run --rm --network none "$2" sh -c "$SHOW" 2>&1 |
		grep -v -E "^etc/(hosts|hostname|resolv.conf) " | sort
}
nothing_left() { # nothing_left DATA_ROOT
	local df
	df=$(cab "$1" system df | tail -1)
	[ "$df" = "Orphaned: 0 blobs, 0 layers (0B); temporary: 0 (0B)" ] || { echo "#   $df"; return 1; }
	[ -z "$(ls "$1/images")" ] || { echo "#   images: $(ls "$1/images")"; return 1; }
}

registry_start open
REG=$REG_open
IMG=$REG/cabin/load:v1
mkimage "$T/img" --gzip-only >/dev/null
push "$T/img" "$IMG"
cab "$T/pulled" image pull -q "$IMG" >/dev/null 2>&1
ok "the reference: the image pulled from the registry" test $? -eq 0
show "$T/pulled" "$IMG" >"$T/ref.txt"

mkdir -p "$T/pm"
PM=(podman --root "$T/pm/storage" --runroot "$T/pm/run" --storage-driver vfs
	--cgroup-manager cgroupfs --events-backend file)
pm() { timeout 120 "${PM[@]}" "$@"; }
at_exit "pm rmi -af"
pm pull -q --tls-verify=false "$IMG" >/dev/null 2>&1
pm save --format oci-archive -o "$T/oci.tar" "$IMG" >/dev/null 2>&1
ok "podman save --format oci-archive" test -s "$T/oci.tar"
pm save --format docker-archive -o "$T/docker.tar" "$IMG" >/dev/null 2>&1
ok "podman save --format docker-archive" test -s "$T/docker.tar"

out=$(cab "$T/oci" image load -i "$T/oci.tar" 2>&1)
assert_eq "$out" "Loaded image: $IMG" "image load of an oci-archive names the image"
assert_eq "$(show "$T/oci" "$IMG" | diff "$T/ref.txt" -)" "" "the oci-archive image runs the same"

out=$(cab "$T/docker" image load -i "$T/docker.tar" 2>&1)
assert_eq "$out" "Loaded image: $IMG" "image load of a docker-archive names the image"
assert_eq "$(show "$T/docker" "$IMG" | diff "$T/ref.txt" -)" "" "the docker-archive image runs the same"
assert_eq "$(cab "$T/docker" images -q)" "$(cab "$T/pulled" images -q)" "the same image ID as pulled"

gzip -c "$T/docker.tar" >"$T/docker.tar.gz"
cab "$T/gz" image load -q -i "$T/docker.tar.gz" >/dev/null 2>&1
assert_eq "$(cab "$T/gz" container run --rm --network none "$IMG" 2>&1)" "hello from the image
FOO=bar baz" "a gzip-compressed docker-archive"

out=$(cab "$T/layout" image load -i "$T/img" 2>&1)
assert_eq "$out" "Loaded image: localhost/image:v1" "an OCI layout directory (ref.name is a tag)"
assert_eq "$(show "$T/layout" localhost/image:v1 | diff "$T/ref.txt" -)" "" "and it runs the same"

# Bad input: nothing is left behind.
python3 - "$T/evil.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as tf:
    for name, data in (("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("../escape", b"x")):
        t = tarfile.TarInfo(name); t.size = len(data); tf.addfile(t, io.BytesIO(data))
PY
err=$(cab "$T/bad" image load -i "$T/evil.tar" 2>&1)
assert_contains "$err" "\`..\` refused (path traversal)" "an archive with ../ is refused"
ok "nothing escaped" test ! -e "$T/bad/tmp/escape" -a ! -e "$T/bad/escape"
ok "nothing left by the hostile archive" nothing_left "$T/bad"

# A blob that is a symlink within the archive (to ../../real-layer, its root): moved as
# it is, its target would be read from the store's tmp/, next to the store
# ($T/symstore/../real-layer, where a copy waits); the store must get a regular file.
mkdir -p "$T/sym"
tar -C "$T/sym" -xf "$T/oci.tar"
b=$(ls -S "$T/sym/blobs/sha256" | head -1)
mv "$T/sym/blobs/sha256/$b" "$T/sym/real-layer"
ln -s ../../real-layer "$T/sym/blobs/sha256/$b"
cp "$T/sym/real-layer" "$T/real-layer"
tar -C "$T/sym" -cf "$T/sym.tar" .
cab "$T/symstore" image load -i "$T/sym.tar" >/dev/null 2>&1
ok "a symlinked blob of an archive is stored as a regular file, not a link out of the store" \
	test -f "$T/symstore/blobs/sha256/$b" -a ! -L "$T/symstore/blobs/sha256/$b"

# A blob whose content does not match its name.
mkdir -p "$T/corrupt"
tar -C "$T/corrupt" -xf "$T/oci.tar"
b=$(ls -S "$T/corrupt/blobs/sha256" | head -1)
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[100]^=1; open(p,"wb").write(b)' \
	"$T/corrupt/blobs/sha256/$b"
tar -C "$T/corrupt" -cf "$T/corrupt.tar" .
err=$(cab "$T/bad2" image load -i "$T/corrupt.tar" 2>&1)
assert_contains "$err" "digest mismatch" "a corrupt blob in an archive: digest mismatch"
ok "nothing left by the corrupt archive" nothing_left "$T/bad2"
# A full disk: a 2 MB tmpfs store and an archive that needs more.
mkdir -p "$T/small"
if mount -t tmpfs -o size=2m tmpfs "$T/small" 2>/dev/null; then
	at_exit "umount -l $T/small"
	err=$(cab "$T/small/d" image load -i "$T/oci.tar" 2>&1)
	assert_contains "$err" "No space left on device" "a full disk: a clear error"
	assert_eq "$(ls -A "$T/small/d/tmp" "$T/small/d/blobs/sha256" "$T/small/d/layers" \
		"$T/small/d/images" | grep -vc ':$\|^$')" 0 "a full disk leaves no temporary, blob, layer or image"
	umount "$T/small"
else
	skip "cannot mount a tmpfs"
	skip "cannot mount a tmpfs"
fi
err=$(cab "$T/bad3" image load -i "$T/nonexistent.tar" 2>&1)
assert_contains "$err" "nonexistent.tar" "a missing file is named"
done_testing
