#!/bin/bash
# test-image-crash.sh - kill -9 during `image pull` at random points, 20 times: each next
# pull succeeds (resuming what was downloaded), and `system df` shows no orphaned blob or
# layer and no temporary file. The image has a 24 MB layer so that the kills land in the
# download, in the digest check and in the unpacking. Then kill -9 during `image load` of
# an oci-archive of the same image, 6 times: each next load succeeds and leaves nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/img-lib.sh"

require_root
require_cmd docker-registry skopeo python3 zstd curl busybox
at_exit registry_stop_all

ROUNDS=${CABIN_CRASH_ROUNDS:-20}
LOAD_ROUNDS=${CABIN_CRASH_LOAD_ROUNDS:-6}
plan $((ROUNDS * 2 + 3 + LOAD_ROUNDS * 2))

D=$T/data
cab() { "$CABIN" --data-root "$D" "$@"; }
clean_df() {
	local df
	df=$(cab system df | tail -1)
	[ "$df" = "Orphaned: 0 blobs, 0 layers (0B); temporary: 0 (0B)" ] || { echo "#   $df"; return 1; }
}

registry_start open
IMG=$REG_open/cabin/big:v1
mkimage "$T/img" --big 24 >/dev/null
push "$T/img" "$IMG"
t0=$EPOCHREALTIME
cab image pull -q "$IMG" >/dev/null 2>&1
ok "a first, uninterrupted pull" test $? -eq 0
t1=$EPOCHREALTIME
# kill points: uniform over the time a whole pull takes
span_us=$(( (${t1/./} - ${t0/./}) ))
echo "# a whole pull takes $((span_us / 1000)) ms"
want=$(cab image inspect "$IMG" | grep '"Id"')
cab image rm "$IMG" >/dev/null
cab system prune -a >/dev/null

interrupted=0 resumed=0
for i in $(seq "$ROUNDS"); do
	"$CABIN" --data-root "$D" image pull -q "$IMG" >/dev/null 2>&1 &
	pid=$!
	us=$(( (RANDOM * 32768 + RANDOM) % (span_us + 1) ))
	sleep "$(printf '%d.%06d' $((us / 1000000)) $((us % 1000000)))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	cut=0
	cab images -q | grep -q . || { cut=1; interrupted=$((interrupted + 1)); }
	out=$(cab image pull "$IMG" 2>&1)
	rc=$?
	# a killed pull's blobs and partial downloads are reused, not fetched again
	[ $cut = 1 ] && case $out in *"resuming at"* | *"already downloaded"* | *"already exists"*)
		resumed=$((resumed + 1)) ;; esac
	ok "round $i (killed after $((us / 1000)) ms): the next pull succeeds" test $rc -eq 0
	ok "round $i: no orphaned blob, layer or temporary file" clean_df
	got=$(cab image inspect "$IMG" 2>/dev/null | grep '"Id"')
	[ "$got" = "$want" ] || echo "#   round $i: image $got, expected $want"
	cab image rm "$IMG" >/dev/null
	cab system prune -a >/dev/null
done
echo "# $interrupted of $ROUNDS pulls were killed before they finished; $resumed of their next pulls reused what the killed one had downloaded"
ok "at least a quarter of the kills interrupted a pull" test $interrupted -ge $((ROUNDS / 4))
ok "some pulls resumed a killed pull's download" test $resumed -ge 1

# The same for `image load` of an oci-archive (extracted to tmp/, then imported).
tar -C "$T/img" -cf "$T/img.tar" .
L=$T/load
t0=$EPOCHREALTIME
"$CABIN" --data-root "$L" image load -q -i "$T/img.tar" >/dev/null 2>&1
t1=$EPOCHREALTIME
span_us=$(( (${t1/./} - ${t0/./}) ))
echo "# a whole load takes $((span_us / 1000)) ms"
lwant=$("$CABIN" --data-root "$L" images -q)
lcut=0
for i in $(seq "$LOAD_ROUNDS"); do
	rm -rf --one-file-system "$L"
	"$CABIN" --data-root "$L" image load -q -i "$T/img.tar" >/dev/null 2>&1 &
	pid=$!
	us=$(( (RANDOM * 32768 + RANDOM) % (span_us + 1) ))
	sleep "$(printf '%d.%06d' $((us / 1000000)) $((us % 1000000)))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	"$CABIN" --data-root "$L" images -q 2>/dev/null | grep -q . || lcut=$((lcut + 1))
	"$CABIN" --data-root "$L" image load -q -i "$T/img.tar" >/dev/null 2>&1
	rc=$?
	ok "load round $i (killed after $((us / 1000)) ms): the next load succeeds" \
		test $rc -eq 0 -a "$("$CABIN" --data-root "$L" images -q)" = "$lwant"
	df=$("$CABIN" --data-root "$L" system df | tail -1)
	assert_eq "$df" "Orphaned: 0 blobs, 0 layers (0B); temporary: 0 (0B)" \
		"load round $i: no orphaned blob, layer or temporary file"
done
echo "# $lcut of $LOAD_ROUNDS loads were killed before they finished"
done_testing
