#!/bin/bash
# checkpoint and restore: runc's command line and errors, the refusal where CRIU cannot
# work (`criu check` fails) with nothing changed, cabin's side of CRIU's RPC against a
# stand-in that decodes it with CRIU's own definitions (tests/helpers/fake-criu.py), and a
# real round trip through CRIU where `criu check` passes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oci-lib.sh"
plan 57

B=$T/b
mkbundle "$B"
args "$B" /init sleep 1000
# a bind mount, a masked file and a masked directory: CRIU gets the first two as external
mkdir -p "$B/rootfs/mnt" "$B/rootfs/etc/masked-dir" "$T/bindsrc"
touch "$B/rootfs/etc/masked-file"
cfg "$B" 'c["mounts"].append({"destination":"/mnt","type":"bind","source":"'"$T"'/bindsrc","options":["bind"]})
c["linux"]["maskedPaths"] += ["/etc/masked-file", "/etc/masked-dir"]'
FAKE=$TOP/tests/helpers/fake-criu.py
ID=$PFX-ck
cd "$T" || exit 1

# fails MSG NEEDLE CMD...: a non-zero exit and an error line containing NEEDLE
fails() {
	local msg=$1 needle=$2 out rc
	shift 2
	out=$("$@" 2>&1 >/dev/null)
	rc=$?
	if [ $rc -ne 0 ]; then assert_contains "$out" "$needle" "$msg"; else
		_ok 1 "$msg (exit 0)"
	fi
}
# STATUS:PID in one look
st_of() {
	rt state "$1" 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); print("%s:%s" % (d["status"], d["pid"]))' 2>/dev/null
}

rt run -d -b "$B" $ID </dev/null >/dev/null 2>&1
st0=$(st_of $ID)
pid0=${st0#*:}
assert_eq "${st0%%:*}" running "a container to checkpoint runs"

# --- runc's argument checks, before CRIU is asked anything (runc bats: bad --parent-path)
fails "--parent-path must be relative" "--parent-path" \
	rt checkpoint --parent-path "$T/parent-dir" --work-path ./work-dir --image-path ./image-dir $ID
fails "--parent-path must exist in the image directory" "--parent-path" \
	rt checkpoint --parent-path ./parent-dir --work-path ./work-dir --image-path ./image-dir $ID
mkdir image-dir
touch image-dir/parent-file
fails "--parent-path must be a directory" "Not a directory" \
	rt checkpoint --parent-path parent-file --image-path ./image-dir $ID
rm -rf image-dir
fails "--manage-cgroups-mode is soft, full or strict" "--manage-cgroups-mode" \
	rt checkpoint --manage-cgroups-mode bogus $ID
fails "--empty-ns takes only network" "namespace \`pid\` is not supported" \
	rt checkpoint --empty-ns pid $ID
fails "--page-server needs ADDRESS:PORT" "ADDRESS:PORT" rt checkpoint --page-server nope $ID
fails "--page-server port is a number" "invalid port" rt checkpoint --page-server 127.0.0.1:x $ID
fails "unknown container" "does not exist" rt checkpoint $PFX-none
fails "a container ID is required" "exactly one container ID" rt checkpoint
rt create -b "$B" $PFX-cr </dev/null >/dev/null 2>&1
fails "a created container cannot be checkpointed" "cannot be checkpointed in created state" \
	rt checkpoint $PFX-cr
rt delete -f $PFX-cr
fails "--criu names a missing program" "\`$T/no-criu\` is not found" \
	rt --criu "$T/no-criu" checkpoint --image-path ./image-dir $ID
ok "no image or work directory was created" test ! -e image-dir -a ! -e work-dir -a ! -e checkpoint

# --- CRIU that cannot work: one error with CRIU's reason, nothing changed
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import pycriu.rpc_pb2' 2>/dev/null; then
	have_fake=1
else
	have_fake=0
fi
mkdir -p "$T/bin"
cat >"$T/bin/criu" <<'EOF'
#!/bin/sh
[ "$1" = check ] || exit 9
echo "Error (criu/kerndat.c:1): vdso: Unexpected rt vDSO area bounds" >&2
echo "Error (criu/crtools.c:2): Could not initialize kernel features detection." >&2
exit 1
EOF
chmod +x "$T/bin/criu"
out=$(PATH="$T/bin:$PATH" rt checkpoint --image-path ./image-dir --work-path ./work-dir $ID 2>&1)
rc=$?
_ok $((rc == 0)) "checkpoint fails where \`criu check\` fails"
assert_contains "$out" "\`criu check\` failed: vdso: Unexpected rt vDSO area bounds; Could not initialize kernel features detection" \
	"the error carries CRIU's reasons"
assert_eq "$(printf '%s\n' "$out" | wc -l)" 1 "one error line"
assert_eq "$(st_of $ID)" "running:$pid0" "the container still runs, same init"
ok "no image or work directory was created" test ! -e image-dir -a ! -e work-dir
fails "restore needs an image directory" "--image-path" \
	env PATH="$T/bin:$PATH" "$CABIN" --root "$STATE" restore -b "$B" --image-path "$T/img0" $PFX-r0
mkdir "$T/img0"
fails "restore needs a checkpoint image" "descriptors.json" \
	env PATH="$T/bin:$PATH" "$CABIN" --root "$STATE" restore -b "$B" --image-path "$T/img0" $PFX-r0
echo '["/dev/null","/dev/null","/dev/null"]' >"$T/img0/descriptors.json"
fails "restore fails where \`criu check\` fails" "Could not initialize kernel features detection" \
	env PATH="$T/bin:$PATH" "$CABIN" --root "$STATE" restore -b "$B" --image-path "$T/img0" $PFX-r0
no_leftovers $PFX-r0 "a refused restore leaves nothing"
fails "restore of an existing container ID" "already exists" \
	rt restore -b "$B" --image-path "$T/img0" $ID

# a `criu check` that never answers is killed at the timeout, with what it started
cat >"$T/bin/criu" <<EOF
#!/bin/sh
[ "\$1" = check ] || exit 9
[ -n "\$HANG_CLOSED" ] && exec 2>&-
sleep 1000 &
echo \$! >"$T/criu-child"
wait
EOF
t0=$(date +%s)
out=$(CABIN_CRIU_CHECK_TIMEOUT=2 PATH="$T/bin:$PATH" timeout 20 "$CABIN" --root "$STATE" \
	checkpoint --image-path ./image-dir $ID 2>&1)
rc=$?
t=$(($(date +%s) - t0))
_ok $((rc == 0 || rc == 124)) "checkpoint fails where \`criu check\` hangs"
assert_contains "$out" "\`criu check\` did not answer in 2 s" "  ... the error says it timed out"
ok "  ... at the timeout, not much later (${t} s)" test $t -le 6
# gone, or a zombie waiting for the host's init to reap it
cpid=$(cat "$T/criu-child")
sleep 0.2
ok "  ... what it started is killed too" sh -c "! grep -qs '^State:.*[RSD]' /proc/$cpid/status"
out=$(HANG_CLOSED=1 CABIN_CRIU_CHECK_TIMEOUT=2 PATH="$T/bin:$PATH" timeout 20 \
	"$CABIN" --root "$STATE" checkpoint --image-path ./image-dir $ID 2>&1)
assert_contains "$out" "did not answer in 2 s" "a \`criu check\` that closes stderr, then hangs"
fails "a bad CABIN_CRIU_CHECK_TIMEOUT is refused" "CABIN_CRIU_CHECK_TIMEOUT \`0\`" \
	env CABIN_CRIU_CHECK_TIMEOUT=0 PATH="$T/bin:$PATH" "$CABIN" --root "$STATE" checkpoint $ID

# this host's CRIU: either it works, or the error is what `criu check` says
if command -v criu >/dev/null 2>&1; then
	if reason=$(criu check -v1 --log-file /dev/stderr 2>&1 >/dev/null); then
		skip "criu check passes here: the real CRIU is exercised below"
		criu_ok=1
	else
		first=$(printf '%s\n' "$reason" | grep -m1 '^Error (' | sed 's/^Error ([^)]*): *//')
		fails "with this host's CRIU: the error names its failing check" "$first" \
			rt checkpoint --image-path ./image-dir $ID
		criu_ok=0
	fi
else
	fails "without criu: the error says so" "is not found" rt checkpoint $ID
	criu_ok=0
fi
assert_eq "$(st_of $ID)" "running:$pid0" "the container is intact"

# --- cabin's RPC, decoded by CRIU's own message definitions (a CRIU stand-in)
if [ $have_fake = 0 ]; then
	for _ in $(seq 23); do skip "no /usr/bin/python3 with pycriu (Debian package criu)"; done
else
	export FAKE_CRIU_DIR=$T/fake
	mkdir -p "$FAKE_CRIU_DIR"
	req() { sed -n "${1}p" "$FAKE_CRIU_DIR/requests.jsonl"; }
	# fields N EXPR...: each EXPR on request N (as `d`), one line each
	fields() {
		local n=$1
		shift
		python3 - "$(req "$n")" "$@" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
for e in sys.argv[2:]:
    print(eval(e))
PY
	}

	FAKE_CRIU_FAIL=dump rt --criu "$FAKE" checkpoint --image-path ./img1 --work-path ./work1 $ID \
		>"$T/err" 2>&1
	_ok $((! $?)) "a dump CRIU refuses fails"
	assert_contains "$(cat "$T/err")" "criu dump failed: fake criu: dump refused" \
		"the error carries CRIU's cr_errmsg"
	ok "the half image directory is removed, CRIU's log kept in --work-path" \
		test ! -e img1 -a -f work1/dump.log
	assert_eq "$(st_of $ID)" "running:$pid0" "the container still runs"

	rt --criu "$FAKE" checkpoint --image-path ./img1 --work-path ./work1 $ID 2>"$T/err"
	_ok $? "checkpoint through the RPC $(head -c 300 "$T/err")"
	mapfile -t F < <(fields 2 'd["type"]' \
		'[d["opts"]["pid"], d["opts"]["images_dir_fd"] >= 3, d["images_dir"], d["work_dir"], d["opts"]["log_file"], d["opts"]["root"]]' \
		'[d["opts"].get(k) for k in ("manage_cgroups","notify_scripts","orphan_pts_master","leave_running","empty_ns")]' \
		'[(m["key"], m["val"]) for m in d["opts"].get("ext_mnt",[]) if m["key"] in ("/mnt", "/etc/masked-file", "/etc/masked-dir", "/dev/null")]' \
		'd["opts"]["freeze_cgroup"]')
	assert_eq "${F[0]:-}" DUMP "request: DUMP"
	assert_eq "${F[1]:-}" "[$pid0, True, '$T/img1', '$T/work1', 'dump.log', '$B/rootfs']" \
		"request: init pid, image and work directories as fds, log, rootfs"
	assert_eq "${F[2]:-}" "[True, True, True, None, 1073741824]" \
		"request: cgroups, notifications, orphan pty, empty network namespace, no leave-running"
	assert_eq "${F[3]:-}" "[('/mnt', '/mnt'), ('/etc/masked-file', '/dev/null'), ('/dev/null', '/dev/null')]" \
		"request: bind mount, masked file (not directory), device nodes as external mounts"
	assert_contains "${F[4]:-}" "/$ID" "request: the freezer cgroup of the container"
	assert_eq "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' img1/descriptors.json 2>&1)" 3 \
		"descriptors.json lists the init's stdio"
	nok "after checkpoint the container is gone (runc: checkpointed)" rt state $ID 2>/dev/null

	(cd "$B" && FAKE_CRIU_FAIL=restore rt --criu "$FAKE" restore -d --image-path "$T/img1" \
		--work-path "$T/work1" $ID) </dev/null >/dev/null 2>"$T/err"
	assert_contains "$(cat "$T/err")" "criu restore failed: fake criu: restore refused" \
		"a restore CRIU refuses fails with its cr_errmsg"
	no_leftovers $ID "a failed restore leaves no state, cgroup or mount"
	rmdir "$B/rootfs/mnt"
	(cd "$B" && rt --criu "$FAKE" restore -d --image-path "$T/img1" --work-path "$T/work1" \
		--pid-file "$T/pid" $ID) </dev/null >/dev/null 2>"$T/err"
	_ok $? "restore through the RPC $(head -c 300 "$T/err")"
	mapfile -t F < <(fields 4 \
		'[d["type"], d["opts"]["rst_sibling"], d["opts"]["evasive_devices"], d["root_is_mount"], d["opts"]["root"].endswith("/criu-root")]' \
		'[(m["key"], m["val"]) for m in d["opts"].get("ext_mnt",[]) if m["key"] in ("/mnt", "/dev/null")]')
	assert_eq "${F[0]:-}" "['RESTORE', True, True, True, True]" \
		"request: RESTORE as a sibling, into a bind mount of the rootfs"
	assert_eq "${F[1]:-}" "[('/mnt', '$T/bindsrc'), ('/dev/null', '/dev/null')]" \
		"request: external mounts back to their sources"
	ok "restore makes the missing mount point of the bind mount" test -d "$B/rootfs/mnt"
	st1=$(st_of $ID)
	pid1=${st1#*:}
	assert_eq "running:$(cat "$T/pid" 2>/dev/null)" "$st1" \
		"the post-restore pid is the running container's init, and in --pid-file"
	assert_contains "$(cat /proc/$pid1/cgroup 2>/dev/null)" "$ID" \
		"the restored task is in the container's cgroups"
	rt delete -f $ID
	no_leftovers $ID "delete after restore leaves nothing"

	# in the foreground, restore waits for the init (its child, as with CRIU's
	# rst_sibling), exits with its status and deletes the container
	(cd "$B" && exec "$CABIN" --root "$STATE" --criu "$FAKE" restore --image-path "$T/img1" \
		$ID) </dev/null >/dev/null 2>"$T/err" &
	rpid=$!
	for _ in $(seq 100); do [ -f "$STATE/$ID/state.json" ] && [ "$(st_of $ID | cut -d: -f1)" = running ] && break; sleep 0.1; done
	rt kill $ID KILL
	wait $rpid
	assert_eq "$?" 137 "foreground restore exits with the init's status (128+SIGKILL)"
	no_leftovers $ID "and leaves nothing behind"
fi

# --- a real round trip, where CRIU works on this kernel
if [ "$criu_ok" = 1 ]; then
	rt run -d -b "$B" $PFX-rt </dev/null >/dev/null 2>&1
	rt checkpoint --image-path "$T/rimg" --work-path "$T/rwork" $PFX-rt 2>"$T/err"
	_ok $? "CRIU dump $(grep -m3 Error "$T/rwork/dump.log" 2>/dev/null)"
	(cd "$B" && rt restore -d --image-path "$T/rimg" --work-path "$T/rwork" $PFX-rt) \
		</dev/null >/dev/null 2>>"$T/err"
	_ok $? "CRIU restore $(grep -m3 Error "$T/rwork/restore.log" 2>/dev/null)"
	assert_eq "$(st_of $PFX-rt | cut -d: -f1)" running "the restored container runs"
	rt delete -f $PFX-rt
else
	for _ in 1 2 3; do skip "CRIU cannot work on this kernel (\`criu check\` fails): no real round trip"; done
fi
rt delete -f $ID >/dev/null 2>&1
done_testing
