# img-lib.sh - shared by tests/func/test-image-*.sh, bench/image.sh and the demo (source it
# after lib.sh, or standalone with T set): a loopback registry and a test image.
#   registry_start NAME [htpasswd]  start Debian's docker-registry on 127.0.0.1, a free
#                                   port; sets REG_<NAME>=127.0.0.1:PORT
#   mkimage DIR [ARGS]              an OCI layout (tests/helpers/mkimage.py)
#   push DIR REG/REPO:TAG [CREDS]   skopeo copy oci:DIR -> the registry
IMG_TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
_reg_pids=()

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

registry_start() { # registry_start NAME [auth]
	local name=$1 auth=${2:-} port dir i
	dir=$T/registry-$name
	mkdir -p "$dir/data"
	port=$(free_port)
	{
		echo "version: 0.1"
		echo "log: {level: error}"
		echo "storage: {filesystem: {rootdirectory: $dir/data}, delete: {enabled: true}}"
		echo "http: {addr: 127.0.0.1:$port}"
		if [ -n "$auth" ]; then
			htpasswd -Bbc "$dir/htpasswd" cabinuser cabinpass >/dev/null 2>&1
			echo "auth: {htpasswd: {realm: cabin-test, path: $dir/htpasswd}}"
		fi
	} >"$dir/config.yml"
	docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
	_reg_pids+=($!)
	for i in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break
		sleep 0.1
	done
	eval "REG_$name=127.0.0.1:$port"
	REG_DATA_LAST=$dir/data
}

registry_stop_all() {
	local p
	for p in "${_reg_pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${_reg_pids[@]}"; do wait "$p" 2>/dev/null || :; done
	_reg_pids=()
}

mkimage() { # mkimage DIR [ARGS...]
	local dir=$1
	shift
	python3 "$IMG_TOP/tests/helpers/mkimage.py" "$dir" --busybox "$(command -v busybox)" "$@"
}

push() { # push DIR REF [user:pass]
	local creds=()
	[ -n "${3:-}" ] && creds=(--dest-creds "$3")
	skopeo copy -q --dest-tls-verify=false "${creds[@]}" "oci:$1:${4:-v1}" "docker://$2" \
		>"$T/skopeo.log" 2>&1
}
