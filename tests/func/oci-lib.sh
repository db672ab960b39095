# oci-lib.sh - helpers for the OCI runtime tests (source after lib.sh).
#   mkbundle DIR          a bundle whose rootfs holds the static tests/helpers/init
#   cfg DIR 'PYTHON'      edit DIR/config.json: `c` is the parsed document
#   args DIR A...         set process.args
#   rt ARGS...            cabin --root $T/state ARGS...
#   no_leftovers ID       assert nothing of ID remains (state, mounts, cgroups, processes)
INIT=$TOP/tests/helpers/init
STATE=$T/state
PFX=oci$$

rt() { "$CABIN" --root "$STATE" "$@"; }

mkbundle() {
	mkdir -p "$1/rootfs/proc" "$1/rootfs/dev" "$1/rootfs/sys" "$1/rootfs/tmp" "$1/rootfs/etc"
	cp "$INIT" "$1/rootfs/init"
	(cd "$1" && "$CABIN" spec) || return 1
	# A test payload without capabilities of its own: keep the defaults minimal.
	cfg "$1" 'c["process"]["terminal"]=False; c["process"]["args"]=["/init","echo","hi"]
c["root"]["readonly"]=False
c["process"].pop("rlimits",None)'
}

cfg() {
	python3 - "$1/config.json" "$2" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
exec(sys.argv[2])
json.dump(c, open(p, "w"), indent=1)
PY
}

args() {
	local d=$1
	shift
	python3 - "$d/config.json" "$@" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["args"] = sys.argv[2:]
json.dump(c, open(p, "w"), indent=1)
PY
}

# no_leftovers ID MSG: no state entry, no mount of the bundle, no cgroup, no process.
no_leftovers() {
	local id=$1 msg=$2 bad=""
	[ -e "$STATE/$id" ] && bad="$bad state"
	grep -q "$T/" /proc/self/mountinfo && bad="$bad mounts"
	find /sys/fs/cgroup -maxdepth 8 -type d -name "$id" 2>/dev/null | grep -q . && bad="$bad cgroup"
	pgrep -f "$T/" >/dev/null 2>&1 && bad="$bad processes"
	assert_eq "${bad:-none}" none "$msg"
}

# json_get FILE-or-STRING KEY
json_get() {
	python3 -c 'import json,sys; v=json.loads(sys.argv[1]); print(v.get(sys.argv[2]))' "$1" "$2" 2>/dev/null
}

require_root
require_cmd python3
[ -x "$INIT" ] || skip_all "tests/helpers/init is not built (make)"
