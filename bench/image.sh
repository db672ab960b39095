#!/bin/bash
# image.sh - images against podman, each part interleaved in one run (A B B A ...):
#   pull  pull + unpack of a multi-layer image (tests/helpers/mkimage.py: gzip and zstd
#         layers plus a bulk layer of BIG MB) from a docker-registry on loopback, into an
#         empty store each time: `cabin image pull` against `podman pull` (overlay driver);
#   run   `cabin container run --rm IMAGE true` against `podman run --rm IMAGE true` on runc,
#         both with --network none.
#
# usage: bench/image.sh [N]      (root; N samples of each, default 7; env BIG=MB default 32)
# output: one line per sample, medians, then `pull_ratio X`, `run_ratio X`, and as the last
#   line `ratio X` (the run ratio). Ratios are cabin's median over podman's.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-7}
BIG=${BIG:-32}
CABIN=$TOP/cabin
[ "$(id -u)" = 0 ] || { echo "image.sh: needs root" >&2; exit 2; }
for c in docker-registry skopeo podman runc python3 zstd curl busybox; do
	command -v $c >/dev/null || { echo "image.sh: needs $c" >&2; exit 2; }
done
[ -x "$CABIN" ] || { echo "image.sh: build cabin first (make)" >&2; exit 2; }

T=$(mktemp -d /tmp/cabin-bench-img.XXXXXX)
chmod 755 "$T"
. "$TOP/tests/func/img-lib.sh"
PM=(podman --root "$T/pm/storage" --runroot "$T/pm/run" --storage-driver overlay
	--cgroup-manager cgroupfs --events-backend file --runtime "$(command -v runc)")
cleanup() {
	"${PM[@]}" rm -af -t 0 >/dev/null 2>&1
	"${PM[@]}" rmi -af >/dev/null 2>&1
	registry_stop_all
	umount -R "$T/pm/storage/overlay" 2>/dev/null
	rm -rf --one-file-system "$T"
}
trap cleanup EXIT

registry_start bench
IMG=$REG_bench/cabin/bench:v1
mkimage "$T/img" --big "$BIG" >/dev/null
push "$T/img" "$IMG" || { echo "image.sh: push failed: $(cat "$T/skopeo.log")" >&2; exit 1; }

now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

pull_cabin() {
	rm -rf --one-file-system "$T/cab"
	local t0 t1
	t0=$(now_us)
	"$CABIN" --data-root "$T/cab" image pull -q "$IMG" >/dev/null 2>&1 || echo "# cabin pull failed" >&2
	t1=$(now_us)
	echo $(((t1 - t0) / 1000))
}
pull_podman() {
	"${PM[@]}" rmi -af >/dev/null 2>&1
	local t0 t1
	t0=$(now_us)
	"${PM[@]}" pull -q --tls-verify=false "$IMG" >/dev/null 2>&1 || echo "# podman pull failed" >&2
	t1=$(now_us)
	echo $(((t1 - t0) / 1000))
}

echo "# pull + unpack of $IMG ($(du -sh "$T/img/blobs" | cut -f1) of blobs), $N samples each"
: >"$T/pa"
: >"$T/pb"
for i in $(seq "$N"); do
	if [ $((i % 2)) = 1 ]; then
		a=$(pull_cabin)
		b=$(pull_podman)
	else
		b=$(pull_podman)
		a=$(pull_cabin)
	fi
	echo "$a" >>"$T/pa"
	echo "$b" >>"$T/pb"
	echo "pull $i: cabin $a ms, podman $b ms"
done
pa=$(median <"$T/pa")
pb=$(median <"$T/pb")

# run: the image stays in both stores
"$CABIN" --data-root "$T/cab" image pull -q "$IMG" >/dev/null 2>&1
"${PM[@]}" pull -q --tls-verify=false "$IMG" >/dev/null 2>&1
RUNOPTS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
run_cabin() {
	local t0 t1
	t0=$(now_us)
	"$CABIN" --data-root "$T/cab" --root "$T/cabrun" container run --rm --network none "$IMG" \
		true >/dev/null 2>&1 || echo "# cabin run failed" >&2
	t1=$(now_us)
	echo $(((t1 - t0) / 1000))
}
run_podman() {
	local t0 t1
	t0=$(now_us)
	"${PM[@]}" run --rm --network none "${RUNOPTS[@]}" "$IMG" true >/dev/null 2>&1 ||
		echo "# podman run failed" >&2
	t1=$(now_us)
	echo $(((t1 - t0) / 1000))
}
for i in 1 2; do
	run_cabin >/dev/null
	run_podman >/dev/null
done
RN=$((N * 2))
echo "# container run --rm IMAGE true, $RN samples each"
: >"$T/ra"
: >"$T/rb"
for i in $(seq "$RN"); do
	if [ $((i % 2)) = 1 ]; then
		a=$(run_cabin)
		b=$(run_podman)
	else
		b=$(run_podman)
		a=$(run_cabin)
	fi
	echo "$a" >>"$T/ra"
	echo "$b" >>"$T/rb"
	echo "run $i: cabin $a ms, podman $b ms"
done
ra=$(median <"$T/ra")
rb=$(median <"$T/rb")
echo "median pull: cabin $pa ms, podman $pb ms"
echo "median run:  cabin $ra ms, podman $rb ms"
echo "pull_ratio $(awk -v a="$pa" -v b="$pb" 'BEGIN {printf "%.2f", a / b}')"
echo "run_ratio $(awk -v a="$ra" -v b="$rb" 'BEGIN {printf "%.2f", a / b}')"
echo "ratio $(awk -v a="$ra" -v b="$rb" 'BEGIN {printf "%.2f", a / b}')"
