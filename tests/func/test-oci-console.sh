#!/bin/bash
# Terminals and hooks: the pty master over --console-socket (SCM_RIGHTS, as conmon expects),
# consoleSize, exec --tty, and every hook kind with the state on its stdin.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oci-lib.sh"
plan 20

B=$T/b
mkbundle "$B"
cp "$B/config.json" "$T/good.json"

# A console-socket peer: receive the master, copy what the container writes to OUT.
cat >"$T/console.py" <<'PY'
import array, os, socket, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(1)
open(path + ".ready", "w").close()
c, _ = s.accept()
fds = array.array("i")
msg, anc, flags, addr = c.recvmsg(64, socket.CMSG_LEN(fds.itemsize))
for level, typ, data in anc:
    if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
        fds.frombytes(data[:fds.itemsize])
with open(out, "wb") as f:
    f.write(b"name=" + msg + b"\n")
    f.flush()
    while True:
        try:
            d = os.read(fds[0], 4096)
        except OSError:
            break
        if not d:
            break
        f.write(d)
        f.flush()
PY

# console ID ARGS...: run the container with a terminal, print what the peer received
console() {
	local id=$1 sock=$T/$1.sock
	shift
	python3 "$T/console.py" "$sock" "$T/$id.out" &
	local py=$!
	for _ in $(seq 100); do [ -e "$sock.ready" ] && break; sleep 0.05; done
	rt run -d --console-socket "$sock" -b "$B" "$id"
	local rc=$?
	wait $py
	rt delete --force "$id" 2>/dev/null
	tr -d '\r' <"$T/$id.out"
	return $rc
}

cfg "$B" 'c["process"]["terminal"]=True'
args "$B" /init tty
o=$(console $PFX-t1)
assert_contains "$o" "name=/dev/ptmx" "the console socket receives the pty master"
assert_contains "$o" "/dev/pts/0" "the process's stdin is the pty slave"
cfg "$B" 'c["process"]["consoleSize"]={"height":33,"width":111}'
args "$B" /init winsize
assert_contains "$(console $PFX-t2)" "33 111" "consoleSize sets the terminal size"
args "$B" /init echo through-the-pty
assert_contains "$(console $PFX-t3)" "through-the-pty" "output goes through the pty"
assert_eq "$(rt run -b "$B" $PFX-t5 </dev/null | tr -d '\r')" "through-the-pty" "run in the foreground relays the pty without a console socket"
nok "terminal without --console-socket is refused for create" rt create -b "$B" $PFX-t4
no_leftovers $PFX-t4 "and leaves nothing behind"

# exec --tty into a running container, with a console socket
cp "$T/good.json" "$B/config.json"
args "$B" /init sleep 1000
rt run -d -b "$B" $PFX-e
python3 "$T/console.py" "$T/e.sock" "$T/e.out" &
py=$!
for _ in $(seq 100); do [ -e "$T/e.sock.ready" ] && break; sleep 0.05; done
ok "exec --tty --console-socket" rt exec --tty --detach --console-socket "$T/e.sock" $PFX-e /init tty
wait $py
assert_contains "$(tr -d '\r' <"$T/e.out")" "/dev/pts/" "exec --tty gets a pty of the container"
rt delete --force $PFX-e

# hooks: each kind runs once, in order, with the state on stdin
cp "$T/good.json" "$B/config.json"
h() { echo '{"path":"/bin/sh","args":["sh","-c","cat > '"$T"'/hook-'$1'; echo '$1' >> '"$T"'/order"]}'; }
cfg "$B" 'c["hooks"]={"prestart":['"$(h prestart)"'],"createRuntime":['"$(h createRuntime)"'],
"createContainer":['"$(h createContainer)"'],"startContainer":[{"path":"/init","args":["init","write","/tmp/started","yes"]}],
"poststart":['"$(h poststart)"'],"poststop":['"$(h poststop)"']}
c["annotations"]={"org.example.key":"value"}'
args "$B" /init cat /tmp/started
assert_eq "$(rt run -b "$B" $PFX-h)" yes "startContainer runs in the container before the process"
assert_eq "$(tr '\n' ' ' <"$T/order")" "prestart createRuntime createContainer poststart poststop " "hooks run in lifecycle order"
for k in createRuntime poststart poststop; do
	assert_contains "$(cat "$T/hook-$k")" "\"id\":\"$PFX-h\"" "$k hook reads the state on stdin"
done
assert_contains "$(cat "$T/hook-poststop")" '"status":"stopped"' "poststop sees a stopped container"
assert_contains "$(cat "$T/hook-createRuntime")" '"org.example.key":"value"' "hook state has the annotations"
cfg "$B" 'c["hooks"]={"createRuntime":[{"path":"/bin/false"}]}'
nok "a failing createRuntime hook fails create" rt create -b "$B" $PFX-hf
no_leftovers $PFX-hf "a failed hook leaves nothing behind"
cfg "$B" 'c["hooks"]={"createRuntime":[{"path":"/bin/sleep","args":["sleep","30"],"timeout":1}]}'
assert_contains "$(rt create -b "$B" $PFX-ht 2>&1)" "timed out after 1s" "a hook past its timeout is killed and fails create"
no_leftovers $PFX-ht "a timed-out hook leaves nothing behind"
done_testing
