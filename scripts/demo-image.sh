#!/bin/bash
# demo-image.sh - the image part of `make demo`: a registry on loopback (Debian's
# docker-registry), an image built and pushed to it (tests/helpers/mkimage.py, skopeo),
# then the Docker-style commands: pull, images, container run, run -d, logs, ps, exec,
# stop, rm, system df. Everything lives in a temporary --data-root and --root.
set -eu
cd "$(dirname "$0")/.."
CABIN=${CABIN:-$PWD/cabin}
[ "$(id -u)" = 0 ] || { echo "demo: containers need root" >&2; exit 1; }
for c in docker-registry skopeo python3 zstd curl busybox; do
	command -v $c >/dev/null || { echo "demo: $c is not installed (make deps)" >&2; exit 1; }
done

T=$(mktemp -d /tmp/cabin-demo-img.XXXXXX)
chmod 755 "$T"
TOP=$PWD
. tests/func/img-lib.sh
c() { "$CABIN" --data-root "$T/data" --root "$T/run" "$@"; }
cleanup() {
	c container rm -f web >/dev/null 2>&1 || true
	registry_stop_all
	rm -rf --one-file-system "$T"
}
trap cleanup EXIT
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

registry_start demo
IMG=$REG_demo/demo/hello:v1
say "a registry on $REG_demo; pushing a 3-layer image built from busybox-static"
mkimage "$T/layout" --cmd 'echo "hello from $(hostname), a container of an image"; ls /data' >/dev/null
push "$T/layout" "$IMG"

say "cabin image pull $IMG"
c image pull "$IMG"
say "cabin images"
c images
say "cabin container run --rm --network none $IMG"
c container run --rm --network none "$IMG"
say "cabin container run -d --name web --network none $IMG sh -c '...'"
c container run -d --name web --network none "$IMG" \
	sh -c 'trap "echo stopping; exit 0" TERM; while :; do echo tick; sleep 1; done'
sleep 1.2
say "cabin container ps"
c container ps
say "cabin container exec web cat /etc/passwd"
c container exec web cat /etc/passwd
say "cabin container stop web; cabin container logs web"
c container stop web >/dev/null
c container logs web
c container rm web >/dev/null
say "cabin system df"
c system df
