#!/bin/bash
# --debug, --log and --log-format: logrus' text and json lines (as runc writes them), the
# container's own setup steps included (its init and an exec'd process log until execve),
# debug lines on stderr only without --log, and never in the container's output.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oci-lib.sh"
plan 11

B=$T/b
mkbundle "$B"
cleanup() { rt delete -f $PFX-lx; rt delete -f $PFX-lc; }
at_exit cleanup

args "$B" /init echo hi
rt --debug run -b "$B" $PFX-l1 >"$T/out" 2>"$T/err"
assert_eq "$(cat "$T/out")" hi "--debug: the container's output has no log line"
assert_contains "$(cat "$T/err")" 'level=debug msg="child process in init(): container' \
	"--debug: the init's setup steps reach stderr"
assert_eq "$(grep -vc '^time="[^"]*" level=debug msg=".*"$' "$T/err")" 0 \
	"--debug: every stderr line is a logrus text line"

rt --log "$T/text.log" --debug run -b "$B" $PFX-l2 >"$T/out" 2>"$T/err"
assert_eq "$(cat "$T/out" "$T/err")" hi "--log: no debug line on stdout or stderr"
assert_contains "$(cat "$T/text.log")" 'level=debug msg="init: closing the pipe to signal completion' \
	"--log: the init logs until it is ready"
assert_eq "$(grep -vc '^time="[^"]*" level=[a-z]* msg=".*"$' "$T/text.log")" 0 \
	"--log-format text (default): logrus text lines"

rt --log "$T/json.log" --log-format json --debug run -b "$B" $PFX-l3 >/dev/null 2>&1
assert_eq "$(python3 -c '
import json, sys
ls = [json.loads(l) for l in open(sys.argv[1])]
print(sorted(ls[0]), any(l["level"] == "debug" and l["msg"].startswith("child process in init()") for l in ls))
' "$T/json.log" 2>&1)" "['level', 'msg', 'time'] True" "--log-format json: level, msg, time; the init's lines too"

args "$B" /init sleep 1000
rt run -d -b "$B" $PFX-lx >/dev/null
out=$(rt --debug exec $PFX-lx /init echo from-exec 2>"$T/err")
assert_eq "$out" from-exec "exec --debug: the process's output has no log line"
assert_contains "$(cat "$T/err")" 'level=debug msg="setns_init: about to exec' \
	"exec --debug: the exec'd process logs up to its execve"
rt --debug --log "$T/exec.log" exec $PFX-lx /init echo x >/dev/null 2>&1
assert_contains "$(cat "$T/exec.log")" 'setns_init: about to exec' \
	"exec --log: the log file is kept open until execve (close-on-exec)"

# create with a terminal: the created init must not hold the caller's stderr open (a caller
# reading it to EOF would wait for `start`), though it logged its setup there
cat >"$T/peer.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(1)
c, _ = s.accept()
fds = socket.recv_fds(c, 64, 1)
time.sleep(30)
PY
python3 "$T/peer.py" "$T/c.sock" &
peer=$!
for _ in $(seq 100); do [ -S "$T/c.sock" ] && break; sleep 0.05; done
cfg "$B" 'c["process"]["terminal"]=True'
t0=$SECONDS
err=$(timeout 20 bash -c '"$@" 2>&1 >/dev/null | cat' _ "$CABIN" --root "$STATE" --debug create \
	--console-socket "$T/c.sock" -b "$B" $PFX-lc)
assert_eq "$(( SECONDS - t0 < 10 )) $(echo "$err" | grep -c 'init: closing the pipe')" "1 1" \
	"create --debug with a terminal: stderr ends with create, the init's lines in it"
kill $peer 2>/dev/null
rt delete -f $PFX-lc
done_testing
