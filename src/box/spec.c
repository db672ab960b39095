/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The OCI config of a container made from an image: the image config's Entrypoint, Cmd,
 * Env, WorkingDir and User under the options of `container run`, on top of the runtime's
 * default spec (namespaces, /proc, /dev, /sys mounts, masked paths).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "box/box.h"
#include "ctr/spec.h"
#include "img/layer.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/strv.h"
#include "lib/xalloc.h"
#include "net/net.h"

/*
 * Docker's default capability set (moby oci/caps/defaults.go): what images expect of a
 * container's root. podman's lacks MKNOD, NET_RAW and AUDIT_WRITE.
 */
static const char *const default_caps[] = {
	"CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",	   "CAP_FOWNER",
	"CAP_MKNOD",   "CAP_NET_RAW",	   "CAP_SETGID",	   "CAP_SETUID",
	"CAP_SETFCAP", "CAP_SETPCAP",	   "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
	"CAP_KILL",    "CAP_AUDIT_WRITE",
};

#define PASSWD_MAX (4u << 20)
/* where --init's cabin-init appears (podman: /run/podman-init) */
#define BOX_INIT_DEST "/run/cabin-init"

static int all_digits(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s) && strlen(s) < 11;
}

/* Read @path of the container's root as the container would see it (symlinks in root). */
static char *read_in_root(int rootfd, const char *path)
{
	cleanup_close int fd = img_openat_in_root(rootfd, path, O_RDONLY);
	char *buf = NULL;

	if (fd < 0 || fs_read_fd(fd, PASSWD_MAX, &buf) < 0)
		return NULL;
	return buf;
}

/*
 * A uid or gid field of the image's passwd or group file: decimal digits only, below
 * 4294967295 ((uid_t)-1 means "unchanged" to setresuid(2)). atol() took "", "abc" and
 * "-1" too, and a passwd line with fewer than four fields left its gid field NULL.
 */
static int parse_id(const char *s, unsigned long *id)
{
	unsigned long long v = 0;

	if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 10)
		return -1;
	for (; *s; s++)
		v = v * 10 + (unsigned long long)(*s - '0');
	if (v >= 0xffffffffULL)
		return -1;
	*id = (unsigned long)v;
	return 0;
}

/*
 * Find the line of @name (or id @id when @name is NULL) in a passwd/group file: one with
 * at least @need fields, the id ones (2, and 3 for passwd) numbers. Lines that are not
 * are skipped as libc's getpwnam() skips them.
 */
static int find_entry(char *file, const char *name, unsigned long id, char ***fields, int nfields,
		      int need)
{
	char *save = NULL;

	for (char *line = strtok_r(file, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char **f = xcalloc((size_t)nfields + 1, sizeof(char *));
		char *p = line;
		unsigned long v, g;
		int n = 0;

		while (n < nfields) {
			char *c = strchr(p, ':');

			f[n++] = p;
			if (!c)
				break;
			*c = '\0';
			p = c + 1;
		}
		if (n >= need && parse_id(f[2], &v) == 0 && (need < 4 || parse_id(f[3], &g) == 0) &&
		    ((name && !strcmp(f[0], name)) || (!name && v == id))) {
			*fields = f;
			return 1;
		}
		free(f);
	}
	return 0;
}

int box_user_resolve(int rootfd, const char *user, uid_t *uid, gid_t *gid, json_t **extra,
		     char **home, struct cabin_err **err)
{
	cleanup_free char *u = xstrdup(user && *user ? user : "0");
	cleanup_free char *passwd = read_in_root(rootfd, "/etc/passwd");
	cleanup_free char *group = read_in_root(rootfd, "/etc/group");
	cleanup_free char **pf = NULL;
	char *g = strchr(u, ':');
	const char *uname = NULL;
	unsigned long id;

	if (g)
		*g++ = '\0';
	*extra = json_array();
	*home = NULL;
	if (all_digits(u)) {
		if (parse_id(u, &id) < 0)
			return cabin_err_make(err, 0, "user `%s`: not a valid uid", u);
		*uid = (uid_t)id;
		*gid = 0;
		if (passwd && find_entry(passwd, NULL, id, &pf, 7, 4)) {
			parse_id(pf[3], &id);
			*gid = (gid_t)id;
			uname = pf[0];
			if (pf[5])
				*home = xstrdup(pf[5]);
		}
	} else {
		if (!passwd || !find_entry(passwd, u, 0, &pf, 7, 4))
			return cabin_err_make(err, 0,
					      "user `%s`: not found in the image's /etc/passwd", u);
		parse_id(pf[2], &id);
		*uid = (uid_t)id;
		parse_id(pf[3], &id);
		*gid = (gid_t)id;
		uname = pf[0];
		if (pf[5])
			*home = xstrdup(pf[5]);
	}
	if (g) {
		cleanup_free char *gcopy = group ? xstrdup(group) : NULL;
		cleanup_free char **f = NULL;

		if (all_digits(g)) {
			if (parse_id(g, &id) < 0)
				return cabin_err_make(err, 0, "group `%s`: not a valid gid", g);
			*gid = (gid_t)id;
		} else if (gcopy && find_entry(gcopy, g, 0, &f, 4, 3)) {
			parse_id(f[2], &id);
			*gid = (gid_t)id;
		} else
			return cabin_err_make(err, 0,
					      "group `%s`: not found in the image's /etc/group", g);
	} else if (uname && group) {
		/* Supplementary groups: every group that lists the user, as login(1) would. */
		char *save = NULL;

		for (char *line = strtok_r(group, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			char *f[4] = { 0 }, *p = line, *m, *msave = NULL;
			int n = 0;

			while (n < 4 && p) {
				char *c = strchr(p, ':');

				f[n++] = p;
				if (c)
					*c = '\0';
				p = c ? c + 1 : NULL;
			}
			if (n < 4 || !f[3] || parse_id(f[2], &id) < 0)
				continue;
			for (m = strtok_r(f[3], ",", &msave); m; m = strtok_r(NULL, ",", &msave))
				if (!strcmp(m, uname) && (gid_t)id != *gid)
					json_array_append_new(*extra, json_integer((json_int_t)id));
		}
	}
	if (!*home)
		*home = xstrdup(*uid == 0 ? "/root" : "/");
	return 0;
}

static int env_has(json_t *env, const char *key)
{
	size_t kl = strlen(key), i;
	json_t *v;

	json_array_foreach(env, i, v)
	{
		const char *s = json_string_value(v);

		if (s && !strncmp(s, key, kl) && s[kl] == '=')
			return 1;
	}
	return 0;
}

static void env_set(json_t *env, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t kl = eq ? (size_t)(eq - kv) : strlen(kv), i;
	json_t *v;

	json_array_foreach(env, i, v)
	{
		const char *s = json_string_value(v);

		if (s && !strncmp(s, kv, kl) && s[kl] == '=') {
			json_array_set_new(env, i, json_string(kv));
			return;
		}
	}
	json_array_append_new(env, json_string(kv));
}

/* Remove the default mount at @dst (a user mount replaces it). */
static void drop_mount(json_t *mounts, const char *dst)
{
	size_t i;
	json_t *m;

	json_array_foreach(
		mounts, i,
		m) if (!strcmp(json_string_value(json_object_get(m, "destination")) ?: "", dst))
	{
		json_array_remove(mounts, i);
		return;
	}
}

static int add_bind(json_t *mounts, json_t *rec, const char *type, const char *src, const char *dst,
		    int ro, const char *volname, struct cabin_err **err)
{
	if (*dst != '/')
		return cabin_err_make(err, 0, "mount destination `%s` must be absolute", dst);
	if (strstr(dst, "/../") || (strlen(dst) >= 3 && !strcmp(dst + strlen(dst) - 3, "/..")))
		return cabin_err_make(err, 0, "mount destination `%s`: `..` is not allowed", dst);
	drop_mount(mounts, dst);
	json_array_append_new(mounts,
			      json_pack("{s:s,s:s,s:s,s:[s,s]}", "destination", dst, "type", "bind",
					"source", src, "options", "rbind", ro ? "ro" : "rw"));
	json_array_append_new(rec,
			      json_pack("{s:s,s:s*,s:s,s:s,s:b}", "Type", type, "Name", volname,
					"Source", src, "Destination", dst, "RW", !ro));
	return 0;
}

static int volume_source(const struct box_run_opts *o, const char *name, char **src,
			 struct cabin_err **err)
{
	if (box_volume_create(o->data_root, name, err) < 0)
		return -1;
	*src = xasprintf("%s/volumes/%s/_data", o->data_root, name);
	return 0;
}

static int add_volume(const struct box_run_opts *o, json_t *mounts, json_t *rec, const char *spec,
		      struct cabin_err **err)
{
	cleanup_free char *s = xstrdup(spec), *src = NULL;
	char *parts[4] = { 0 };
	int n = 0, ro = 0;

	for (char *p = s; p && n < 4; n++) {
		char *c = strchr(p, ':');

		parts[n] = p;
		if (c)
			*c = '\0';
		p = c ? c + 1 : NULL;
	}
	if (n == 1) {
		/* `-v /dst`: an anonymous volume */
		char name[33];
		unsigned char r[16];
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

		if (fd < 0 || read(fd, r, sizeof(r)) != sizeof(r)) {
			if (fd >= 0)
				close(fd);
			return cabin_err_make(err, errno, "random");
		}
		close(fd);
		for (int i = 0; i < 16; i++)
			snprintf(name + 2 * i, 3, "%02x", r[i]);
		if (volume_source(o, name, &src, err) < 0)
			return -1;
		return add_bind(mounts, rec, "volume", src, parts[0], 0, name, err);
	}
	if (n == 3) {
		if (!strcmp(parts[2], "ro"))
			ro = 1;
		else if (strcmp(parts[2], "rw") && strcmp(parts[2], "z") && strcmp(parts[2], "Z"))
			return cabin_err_make(err, 0, "-v `%s`: unknown option `%s` (ro or rw)",
					      spec, parts[2]);
	} else if (n != 2) {
		return cabin_err_make(err, 0, "-v `%s`: expected SRC:DST[:ro]", spec);
	}
	if (parts[0][0] == '/') {
		struct stat st;

		if (stat(parts[0], &st) < 0)
			return cabin_err_make(err, errno, "-v `%s`: bind source `%s`", spec,
					      parts[0]);
		return add_bind(mounts, rec, "bind", parts[0], parts[1], ro, NULL, err);
	}
	if (volume_source(o, parts[0], &src, err) < 0)
		return cabin_err_wrap(err, "-v `%s`", spec);
	return add_bind(mounts, rec, "volume", src, parts[1], ro, parts[0], err);
}

/* --mount type=bind|volume|tmpfs,source=S,target=D[,readonly][,tmpfs-size=N] */
static int add_mount(const struct box_run_opts *o, json_t *mounts, json_t *rec, const char *spec,
		     struct cabin_err **err)
{
	cleanup_free char *s = xstrdup(spec), *vsrc = NULL;
	const char *type = "volume", *src = NULL, *dst = NULL, *size = NULL;
	char *save = NULL;
	int ro = 0;

	for (char *kv = strtok_r(s, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		const char *v = eq ? eq + 1 : "";

		if (eq)
			*eq = '\0';
		if (!strcmp(kv, "type"))
			type = v;
		else if (!strcmp(kv, "source") || !strcmp(kv, "src"))
			src = v;
		else if (!strcmp(kv, "target") || !strcmp(kv, "destination") || !strcmp(kv, "dst"))
			dst = v;
		else if (!strcmp(kv, "readonly") || !strcmp(kv, "ro"))
			ro = !eq || !strcmp(v, "true") || !strcmp(v, "1");
		else if (!strcmp(kv, "tmpfs-size"))
			size = v;
		else
			return cabin_err_make(err, 0, "--mount `%s`: unknown key `%s`", spec, kv);
	}
	if (!dst)
		return cabin_err_make(err, 0, "--mount `%s`: target is required", spec);
	if (!strcmp(type, "tmpfs")) {
		cleanup_free char *opt = size ? xasprintf("size=%s", size) : NULL;

		if (*dst != '/')
			return cabin_err_make(err, 0, "--mount `%s`: target must be absolute",
					      spec);
		drop_mount(mounts, dst);
		json_array_append_new(mounts, json_pack("{s:s,s:s,s:s,s:[s,s,s*]}", "destination",
							dst, "type", "tmpfs", "source", "tmpfs",
							"options", "nosuid", "nodev", opt));
		json_array_append_new(rec,
				      json_pack("{s:s,s:s}", "Type", "tmpfs", "Destination", dst));
		return 0;
	}
	if (!src)
		return cabin_err_make(err, 0, "--mount `%s`: source is required", spec);
	if (!strcmp(type, "bind")) {
		struct stat st;

		if (*src != '/' || stat(src, &st) < 0)
			return cabin_err_make(
				err, *src == '/' ? errno : 0,
				"--mount `%s`: bind source `%s` (an existing absolute "
				"path)",
				spec, src);
		return add_bind(mounts, rec, "bind", src, dst, ro, NULL, err);
	}
	if (strcmp(type, "volume"))
		return cabin_err_make(err, 0, "--mount `%s`: type `%s` (bind, volume or tmpfs)",
				      spec, type);
	if (volume_source(o, src, &vsrc, err) < 0)
		return -1;
	return add_bind(mounts, rec, "volume", vsrc, dst, ro, src, err);
}

static int add_tmpfs(json_t *mounts, json_t *rec, const char *spec, struct cabin_err **err)
{
	cleanup_free char *s = xstrdup(spec);
	char *opts = strchr(s, ':');
	cleanup_json json_t *o = json_pack("[s,s]", "nosuid", "nodev");
	char *save = NULL;

	if (opts)
		*opts++ = '\0';
	if (*s != '/')
		return cabin_err_make(err, 0, "--tmpfs `%s`: the destination must be absolute",
				      spec);
	for (char *p = opts ? strtok_r(opts, ",", &save) : NULL; p; p = strtok_r(NULL, ",", &save))
		json_array_append_new(o, json_string(p));
	drop_mount(mounts, s);
	json_array_append_new(mounts,
			      json_pack("{s:s,s:s,s:s,s:o}", "destination", s, "type", "tmpfs",
					"source", "tmpfs", "options", steal_ptr(&o)));
	json_array_append_new(rec, json_pack("{s:s,s:s}", "Type", "tmpfs", "Destination", s));
	return 0;
}

/* ---- security options: capabilities, --privileged, seccomp, devices ---- */

int box_cap_normalize(const char *name, char **out)
{
	char buf[64], lower[64];
	cap_value_t v;
	size_t n = strlen(name), off = 0;

	if (!n || n + 4 >= sizeof(buf))
		return -1;
	if (!strcasecmp(name, "ALL")) {
		if (out)
			*out = xstrdup("ALL");
		return 0;
	}
	if (strncasecmp(name, "CAP_", 4))
		off = 4;
	snprintf(buf, sizeof(buf), "%s%s", off ? "CAP_" : "", name);
	for (size_t i = 0; buf[i]; i++) {
		buf[i] = (char)toupper((unsigned char)buf[i]);
		lower[i] = (char)tolower((unsigned char)buf[i]);
		lower[i + 1] = '\0';
		if (!isalnum((unsigned char)buf[i]) && buf[i] != '_')
			return -1;
	}
	/* libcap knows names beyond the running kernel's last capability: not those */
	if (cap_from_name(lower, &v) < 0 || v < 0 || v > 63 || !CAP_IS_SUPPORTED(v))
		return -1;
	if (out)
		*out = xstrdup(buf);
	return 0;
}

static json_t *caps_compute(const struct box_run_opts *o);
static int json_has_str(json_t *a, const char *s);

int box_caps_has(const struct box_run_opts *o, const char *cap)
{
	cleanup_json json_t *caps = caps_compute(o);

	return json_has_str(caps, cap);
}

/* Every capability of our bounding set: what ALL and --privileged grant (as containerd's
 * WithAllCurrentCapabilities); a capability we lack cannot be handed to a container. */
static json_t *caps_all(void)
{
	json_t *a = json_array();

	for (int c = 0; c <= 63; c++) {
		char *nm;

		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) != 1)
			continue;
		nm = cap_to_name(c);
		if (nm && !strncasecmp(nm, "cap_", 4)) {
			for (char *p = nm; *p; p++)
				*p = (char)toupper((unsigned char)*p);
			json_array_append_new(a, json_string(nm));
		}
		cap_free(nm);
	}
	return a;
}

static int strv_has_cap(char **v, const char *cap)
{
	for (size_t i = 0; v && v[i]; i++) {
		cleanup_free char *n = NULL;

		if (box_cap_normalize(v[i], &n) == 0 && !strcmp(n, cap))
			return 1;
	}
	return 0;
}

static int json_has_str(json_t *a, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v) if (!strcmp(json_string_value(v) ?: "", s)) return 1;
	return 0;
}

/* moby's TweakCapabilities: ALL in --cap-add, ALL in --cap-drop, or defaults -drop +add */
static json_t *caps_compute(const struct box_run_opts *o)
{
	json_t *all = caps_all(), *caps = json_array(), *v;
	size_t i;

	if (o->privileged) {
		json_decref(caps);
		return all;
	}
	if (strv_has_cap(o->cap_add, "ALL")) {
		json_array_foreach(all, i, v) if (!strv_has_cap(o->cap_drop, json_string_value(v)))
			json_array_append(caps, v);
	} else {
		if (!strv_has_cap(o->cap_drop, "ALL"))
			for (i = 0; i < sizeof(default_caps) / sizeof(default_caps[0]); i++)
				if (!strv_has_cap(o->cap_drop, default_caps[i]) &&
				    json_has_str(all, default_caps[i]))
					json_array_append_new(caps, json_string(default_caps[i]));
		for (i = 0; o->cap_add && o->cap_add[i]; i++) {
			cleanup_free char *n = NULL;

			if (box_cap_normalize(o->cap_add[i], &n) == 0 && !json_has_str(caps, n))
				json_array_append_new(caps, json_string(n));
		}
	}
	json_decref(all);
	return caps;
}

/* The host's device nodes under @dir, as runc's HostDevices (--privileged). */
static void host_devices(const char *dir, json_t *devs, int depth)
{
	cleanup_closedir DIR *d = opendir(dir);
	struct dirent *de;

	while (d && depth < 8 && (de = readdir(d))) {
		cleanup_free char *p = NULL;
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		if (lstat(p, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (strcmp(p, "/dev/pts") && strcmp(p, "/dev/shm") &&
			    strcmp(p, "/dev/fd") && strcmp(p, "/dev/mqueue"))
				host_devices(p, devs, depth + 1);
			continue;
		}
		if ((!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) || !strcmp(p, "/dev/console") ||
		    !strcmp(p, "/dev/ptmx"))
			continue;
		json_array_append_new(devs,
				      json_pack("{s:s,s:s,s:I,s:I,s:i,s:i,s:i}", "path", p, "type",
						S_ISCHR(st.st_mode) ? "c" : "b", "major",
						(json_int_t)major(st.st_rdev), "minor",
						(json_int_t)minor(st.st_rdev), "fileMode",
						(int)(st.st_mode & 07777), "uid", 0, "gid", 0));
	}
}

/* --device HOST[:CTR[:rwm]] (or HOST:rwm): the node and a cgroup rule allowing it */
static int add_device(json_t *devs, json_t *rules, const char *spec, struct cabin_err **err)
{
	cleanup_free char *s = xstrdup(spec);
	char *src = s, *dst = NULL, *c;
	const char *perm = "rwm";
	struct stat st;

	if ((c = strchr(src, ':'))) {
		*c = '\0';
		dst = c + 1;
		if ((c = strchr(dst, ':'))) {
			*c = '\0';
			perm = c + 1;
		} else if (*dst != '/') {
			perm = dst;
			dst = NULL;
		}
	}
	if (!dst || !*dst)
		dst = src;
	if (!*perm || strspn(perm, "rwm") != strlen(perm) || strlen(perm) > 3)
		return cabin_err_make(err, 0, "--device `%s`: permissions `%s` (r, w and m)", spec,
				      perm);
	if (*src != '/' || *dst != '/' || strstr(dst, "/../") || !strncmp(dst, "/dev/..", 7))
		return cabin_err_make(err, 0, "--device `%s`: absolute paths expected", spec);
	if (stat(src, &st) < 0)
		return cabin_err_make(err, errno, "--device `%s`: `%s`", spec, src);
	if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
		return cabin_err_make(err, 0, "--device `%s`: `%s` is not a device node", spec,
				      src);
	json_array_append_new(devs, json_pack("{s:s,s:s,s:I,s:I,s:i,s:i,s:i}", "path", dst, "type",
					      S_ISCHR(st.st_mode) ? "c" : "b", "major",
					      (json_int_t)major(st.st_rdev), "minor",
					      (json_int_t)minor(st.st_rdev), "fileMode",
					      (int)(st.st_mode & 0777), "uid", 0, "gid", 0));
	json_array_append_new(rules, json_pack("{s:b,s:s,s:I,s:I,s:s}", "allow", 1, "type",
					       S_ISCHR(st.st_mode) ? "c" : "b", "major",
					       (json_int_t)major(st.st_rdev), "minor",
					       (json_int_t)minor(st.st_rdev), "access", perm));
	return 0;
}

static int kernel_at_least(const char *want)
{
	struct utsname u;
	unsigned a = 0, b = 0, x = 0, y = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &a, &b) < 1 ||
	    sscanf(want, "%u.%u", &x, &y) < 1)
		return 1;
	return a > x || (a == x && b >= y);
}

/*
 * A rule of a Docker profile applies (moby profiles/seccomp): not when an excluded
 * architecture is ours, an excluded capability is held or the kernel reaches an excluded
 * minKernel; only when the included architectures list ours, every included capability
 * is held and the kernel reaches the included minKernel.
 */
static int rule_applies(json_t *sc, json_t *caps)
{
	json_t *ex = json_object_get(sc, "excludes"), *in = json_object_get(sc, "includes"), *v;
	size_t i;

	if (json_has_str(json_object_get(ex, "arches"), "amd64"))
		return 0;
	json_array_foreach(json_object_get(ex, "caps"), i,
			   v) if (json_has_str(caps, json_string_value(v) ?: "")) return 0;
	if (json_is_string(json_object_get(ex, "minKernel")) &&
	    kernel_at_least(json_string_value(json_object_get(ex, "minKernel"))))
		return 0;
	if (json_array_size(json_object_get(in, "arches")) &&
	    !json_has_str(json_object_get(in, "arches"), "amd64"))
		return 0;
	json_array_foreach(json_object_get(in, "caps"), i,
			   v) if (!json_has_str(caps, json_string_value(v) ?: "")) return 0;
	if (json_is_string(json_object_get(in, "minKernel")) &&
	    !kernel_at_least(json_string_value(json_object_get(in, "minKernel"))))
		return 0;
	return 1;
}

/*
 * A profile in Docker's format (archMap, includes and excludes by capability, architecture
 * and kernel) turned into the OCI form for @caps; a profile already in the OCI form passes
 * through the same code unchanged. @what names it in errors.
 */
static int seccomp_convert(json_t *p, const char *what, json_t *caps, json_t **out,
			   struct cabin_err **err)
{
	cleanup_json json_t *arches = json_array(), *calls = json_array();
	json_t *v, *sc;
	size_t i;

	if (!json_is_string(json_object_get(p, "defaultAction")))
		return cabin_err_make(err, 0, "%s: no defaultAction: not a seccomp profile", what);
	json_array_foreach(json_object_get(p, "archMap"), i, v)
	{
		if (strcmp(json_string_value(json_object_get(v, "architecture")) ?: "",
			   "SCMP_ARCH_X86_64"))
			continue;
		json_array_append(arches, json_object_get(v, "architecture"));
		json_array_extend(arches, json_object_get(v, "subArchitectures"));
	}
	if (!json_array_size(arches) && json_is_array(json_object_get(p, "architectures")))
		json_array_extend(arches, json_object_get(p, "architectures"));
	json_array_foreach(json_object_get(p, "syscalls"), i, sc)
	{
		json_t *names = json_object_get(sc, "names"), *r;

		if (!json_is_object(sc) || !json_is_string(json_object_get(sc, "action")))
			return cabin_err_make(err, 0, "%s: syscalls[%zu] has no action", what, i);
		if (!rule_applies(sc, caps))
			continue;
		r = json_pack("{s:O}", "action", json_object_get(sc, "action"));
		if (json_is_array(names))
			json_object_set(r, "names", names);
		else if (json_is_string(json_object_get(sc, "name")))
			json_object_set_new(r, "names",
					    json_pack("[O]", json_object_get(sc, "name")));
		else {
			json_decref(r);
			return cabin_err_make(err, 0, "%s: syscalls[%zu] has no names", what, i);
		}
		if (json_object_get(sc, "errnoRet"))
			json_object_set(r, "errnoRet", json_object_get(sc, "errnoRet"));
		if (json_array_size(json_object_get(sc, "args")))
			json_object_set(r, "args", json_object_get(sc, "args"));
		json_array_append_new(calls, r);
	}
	*out = json_pack("{s:O,s:O,s:O}", "defaultAction", json_object_get(p, "defaultAction"),
			 "architectures", arches, "syscalls", calls);
	if (json_object_get(p, "defaultErrnoRet"))
		json_object_set(*out, "defaultErrnoRet", json_object_get(p, "defaultErrnoRet"));
	if (json_is_array(json_object_get(p, "flags")))
		json_object_set(*out, "flags", json_object_get(p, "flags"));
	return 0;
}

/*
 * --security-opt seccomp=PROFILE.json, or without it the default profile
 * (seccomp-default.c), for a container with the capabilities @caps.
 */
static int seccomp_profile(const char *path, json_t *caps, json_t **out, struct cabin_err **err)
{
	cleanup_free char *what = NULL;
	cleanup_json json_t *p = NULL;
	json_error_t je;

	if (!path)
		p = box_seccomp_default();
	else if (!(p = json_load_file(path, 0, &je)))
		return cabin_err_make(err, 0, "--security-opt seccomp=`%s`: %s", path, je.text);
	what = path ? xasprintf("--security-opt seccomp=`%s`", path)
		    : xstrdup("the default seccomp profile");
	return seccomp_convert(p, what, caps, out, err);
}

static const struct {
	const char *name, *oci;
} ulimit_names[] = {
	{ "as", "RLIMIT_AS" },
	{ "core", "RLIMIT_CORE" },
	{ "cpu", "RLIMIT_CPU" },
	{ "data", "RLIMIT_DATA" },
	{ "fsize", "RLIMIT_FSIZE" },
	{ "locks", "RLIMIT_LOCKS" },
	{ "memlock", "RLIMIT_MEMLOCK" },
	{ "msgqueue", "RLIMIT_MSGQUEUE" },
	{ "nice", "RLIMIT_NICE" },
	{ "nofile", "RLIMIT_NOFILE" },
	{ "nproc", "RLIMIT_NPROC" },
	{ "rss", "RLIMIT_RSS" },
	{ "rtprio", "RLIMIT_RTPRIO" },
	{ "rttime", "RLIMIT_RTTIME" },
	{ "sigpending", "RLIMIT_SIGPENDING" },
	{ "stack", "RLIMIT_STACK" },
};

static int ulimit_value(const char *s, json_int_t *v)
{
	char *end;
	long long n;

	if (!strcmp(s, "unlimited") || !strcmp(s, "-1")) {
		*v = -1; /* RLIM_INFINITY as the runtime reads it */
		return 0;
	}
	n = strtoll(s, &end, 10);
	if (end == s || *end || n < 0)
		return -1;
	*v = n;
	return 0;
}

/* --ulimit NAME=SOFT[:HARD] into process.rlimits (replacing the default of that type) */
static int add_ulimit(json_t *rl, const char *spec, struct cabin_err **err)
{
	cleanup_free char *s = xstrdup(spec);
	char *eq = strchr(s, '='), *colon;
	const char *oci = NULL;
	json_int_t soft, hard;
	json_t *v;
	size_t i;

	if (!eq)
		return cabin_err_make(err, 0, "--ulimit `%s`: expected NAME=SOFT[:HARD]", spec);
	*eq++ = '\0';
	for (i = 0; i < sizeof(ulimit_names) / sizeof(ulimit_names[0]); i++)
		if (!strcmp(ulimit_names[i].name, s))
			oci = ulimit_names[i].oci;
	if (!oci)
		return cabin_err_make(err, 0, "--ulimit `%s`: unknown limit `%s`", spec, s);
	colon = strchr(eq, ':');
	if (colon)
		*colon++ = '\0';
	if (ulimit_value(eq, &soft) < 0 || (colon && ulimit_value(colon, &hard) < 0))
		return cabin_err_make(err, 0, "--ulimit `%s`: values are numbers or unlimited",
				      spec);
	if (!colon)
		hard = soft;
	if (hard != -1 && (soft == -1 || soft > hard))
		return cabin_err_make(err, 0, "--ulimit `%s`: the soft limit is above the hard one",
				      spec);
	json_array_foreach(rl, i,
			   v) if (!strcmp(json_string_value(json_object_get(v, "type")) ?: "", oci))
	{
		json_array_remove(rl, i);
		break;
	}
	json_array_append_new(rl,
			      json_pack("{s:s,s:I,s:I}", "type", oci, "soft", soft, "hard", hard));
	return 0;
}

/* --group-add: a name of the image's /etc/group or a number */
static int add_group(int rootfd, json_t *gids, const char *g, struct cabin_err **err)
{
	cleanup_free char *group = read_in_root(rootfd, "/etc/group");
	cleanup_free char **f = NULL;
	unsigned long gid;

	if (all_digits(g)) {
		if (parse_id(g, &gid) < 0)
			return cabin_err_make(err, 0, "--group-add `%s`: not a valid gid", g);
	} else if (group && find_entry(group, g, 0, &f, 4, 3)) {
		parse_id(f[2], &gid);
	} else {
		return cabin_err_make(err, 0,
				      "--group-add `%s`: not found in the image's /etc/group", g);
	}
	json_array_append_new(gids, json_integer((json_int_t)gid));
	return 0;
}

char *box_init_path(void)
{
	const char *env = getenv("CABIN_INIT");
	char exe[PATH_MAX];
	ssize_t n;

	if (env && *env)
		return access(env, X_OK) == 0 ? xstrdup(env) : NULL;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0 && exe[0] == '/') {
		char *slash;
		cleanup_free char *p = NULL;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		*slash = '\0';
		p = xasprintf("%s/cabin-init", exe);
		if (access(p, X_OK) == 0)
			return steal_ptr(&p);
	}
	if (access("/usr/local/libexec/cabin/cabin-init", X_OK) == 0)
		return xstrdup("/usr/local/libexec/cabin/cabin-init");
	if (access("/usr/libexec/cabin/cabin-init", X_OK) == 0)
		return xstrdup("/usr/libexec/cabin/cabin-init");
	return NULL;
}

int box_add_host_split(const char *spec, char **host, char **ip)
{
	const char *sep = strchr(spec, '=');
	size_t hl;

	if (!sep)
		sep = strchr(spec, ':');
	if (!sep || sep == spec || !sep[1])
		return -1;
	hl = (size_t)(sep - spec);
	*host = xstrndup(spec, hl);
	sep++;
	if (*sep == '[' && sep[strlen(sep) - 1] == ']')
		*ip = xstrndup(sep + 1, strlen(sep) - 2);
	else
		*ip = xstrdup(sep);
	return 0;
}

/*
 * What `container run` options add to the record: they reach the monitor (network
 * files, restart policy), `stop` (signal, timeout), ps filters and inspect.
 */
int box_record_extra(const struct box_run_opts *o, json_t *imgcfg, json_t *spec, json_t *rec,
		     struct cabin_err **err)
{
	json_t *labels = json_object(),
	       *l = json_object_get(json_object_get(imgcfg, "config"), "Labels");
	json_t *v;
	const char *k;

	/* Docker: the image's labels, then --label over them */
	json_object_foreach(l, k, v) if (json_is_string(v)) json_object_set(labels, k, v);
	for (size_t i = 0; o->labels && o->labels[i]; i++) {
		char *eq = strchr(o->labels[i], '=');
		cleanup_free char *key = xstrndup(o->labels[i], eq ? (size_t)(eq - o->labels[i])
								   : strlen(o->labels[i]));

		json_object_set_new(labels, key, json_string(eq ? eq + 1 : ""));
	}
	json_object_set_new(rec, "labels", labels);
	json_object_set(rec, "hostname", json_object_get(spec, "hostname"));
	json_object_set_new(rec, "extraHosts", json_array());
	json_object_set_new(rec, "dns", json_array());
	json_object_set_new(rec, "dnsSearch", json_array());
	json_object_set_new(rec, "dnsOptions", json_array());
	for (size_t i = 0; o->add_hosts && o->add_hosts[i]; i++)
		json_array_append_new(json_object_get(rec, "extraHosts"),
				      json_string(o->add_hosts[i]));
	for (size_t i = 0; o->dns && o->dns[i]; i++)
		json_array_append_new(json_object_get(rec, "dns"), json_string(o->dns[i]));
	for (size_t i = 0; o->dns_search && o->dns_search[i]; i++)
		json_array_append_new(json_object_get(rec, "dnsSearch"),
				      json_string(o->dns_search[i]));
	for (size_t i = 0; o->dns_options && o->dns_options[i]; i++)
		json_array_append_new(json_object_get(rec, "dnsOptions"),
				      json_string(o->dns_options[i]));
	if (o->stop_timeout != BOX_TIMEOUT_UNSET)
		json_object_set_new(rec, "stopTimeout", json_integer(o->stop_timeout));
	json_object_set_new(rec, "restartPolicy", json_string(o->restart ? o->restart : "no"));
	json_object_set_new(rec, "restartMax", json_integer(o->restart_max));
	json_object_set_new(rec, "restartCount", json_integer(0));
	json_object_set_new(rec, "privileged", json_boolean(o->privileged));
	json_object_set_new(rec, "init", json_boolean(o->init));
	json_object_set_new(rec, "capAdd", json_array());
	json_object_set_new(rec, "capDrop", json_array());
	for (size_t i = 0; o->cap_add && o->cap_add[i]; i++)
		json_array_append_new(json_object_get(rec, "capAdd"), json_string(o->cap_add[i]));
	for (size_t i = 0; o->cap_drop && o->cap_drop[i]; i++)
		json_array_append_new(json_object_get(rec, "capDrop"), json_string(o->cap_drop[i]));
	json_object_set(
		rec, "capabilities",
		json_object_get(json_object_get(json_object_get(spec, "process"), "capabilities"),
				"bounding"));
	json_object_set_new(rec, "shmSize",
			    json_integer(o->shm_size > 0 ? o->shm_size : 64 * 1024 * 1024));
	(void)err;
	return 0;
}

int box_spec_build(const struct box_run_opts *o, json_t *imgcfg, const char *id, const char *rootfs,
		   const char *cdir, json_t **out, json_t **mounts_rec, struct cabin_err **err)
{
	json_t *cfg = json_object_get(imgcfg, "config");
	cleanup_json json_t *spec = ctr_spec_default(0), *args = NULL, *caps = NULL, *extra = NULL;
	json_t *proc, *env, *v, *mounts, *linux_, *res, *nss;
	cleanup_free char *home = NULL;
	cleanup_close int rootfd = -1;
	const char *cwd, *user;
	struct net_lease files;
	uid_t uid;
	gid_t gid;
	size_t i;

	*mounts_rec = json_array();
	proc = json_object_get(spec, "process");
	/* args: Entrypoint + Cmd, either replaced by the command line */
	args = json_array();
	if (o->entrypoint_set) {
		if (o->entrypoint && *o->entrypoint)
			json_array_append_new(args, json_string(o->entrypoint));
	} else {
		if (json_is_array(json_object_get(cfg, "Entrypoint")))
			json_array_extend(args, json_object_get(cfg, "Entrypoint"));
	}
	if (o->cmd && o->cmd[0]) {
		for (i = 0; o->cmd[i]; i++)
			json_array_append_new(args, json_string(o->cmd[i]));
	} else if (!o->entrypoint_set && json_is_array(json_object_get(cfg, "Cmd"))) {
		json_array_extend(args, json_object_get(cfg, "Cmd"));
	}
	json_array_foreach(args, i, v) if (!json_is_string(v))
	{
		return cabin_err_make(err, 0, "image config: Entrypoint/Cmd must be strings");
	}
	if (!json_array_size(args))
		return cabin_err_make(err, 0,
				      "no command: the image has no Entrypoint or Cmd and none was "
				      "given");
	if (o->init) {
		/* docker-init's way: the init bind-mounted read-only, the command its argument */
		cleanup_free char *ip = box_init_path();

		if (!ip)
			return cabin_err_make(
				err, 0,
				"--init: no cabin-init next to cabin, in $CABIN_INIT or "
				"in /usr/local/libexec/cabin");
		json_array_insert_new(args, 0, json_string("--"));
		json_array_insert_new(args, 0, json_string(BOX_INIT_DEST));
		json_array_append_new(json_object_get(spec, "mounts"),
				      json_pack("{s:s,s:s,s:s,s:[s,s,s]}", "destination",
						BOX_INIT_DEST, "type", "bind", "source", ip,
						"options", "bind", "ro", "nosuid"));
	}
	json_object_set_new(proc, "args", steal_ptr(&args));

	rootfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return cabin_err_make(err, errno, "open rootfs `%s`", rootfs);
	user = o->user ? o->user : json_string_value(json_object_get(cfg, "User"));
	if (box_user_resolve(rootfd, user, &uid, &gid, &extra, &home, err) < 0)
		return -1;
	for (i = 0; o->group_add && o->group_add[i]; i++)
		if (add_group(rootfd, extra, o->group_add[i], err) < 0)
			return -1;
	json_object_set_new(proc, "user",
			    json_pack("{s:I,s:I,s:o}", "uid", (json_int_t)uid, "gid",
				      (json_int_t)gid, "additionalGids", steal_ptr(&extra)));

	env = json_array();
	json_array_foreach(json_object_get(cfg, "Env"), i,
			   v) if (json_is_string(v) && strchr(json_string_value(v), '='))
		env_set(env, json_string_value(v));
	for (i = 0; o->env && o->env[i]; i++)
		env_set(env, o->env[i]);
	if (!env_has(env, "PATH"))
		env_set(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	if (!env_has(env, "HOSTNAME")) {
		cleanup_free char *h = o->hostname ? xasprintf("HOSTNAME=%s", o->hostname)
						   : xasprintf("HOSTNAME=%.12s", id);

		env_set(env, h);
	}
	if (!env_has(env, "HOME")) {
		cleanup_free char *h = xasprintf("HOME=%s", home);

		env_set(env, h);
	}
	if (o->tty && !env_has(env, "TERM"))
		env_set(env, "TERM=xterm");
	json_object_set_new(proc, "env", env);

	cwd = o->workdir ? o->workdir : json_string_value(json_object_get(cfg, "WorkingDir"));
	if (!cwd || !*cwd)
		cwd = "/";
	if (*cwd != '/')
		return cabin_err_make(err, 0, "working directory `%s` must be absolute", cwd);
	/* Docker creates a missing working directory (owned by the user). */
	if (strcmp(cwd, "/")) {
		cleanup_free char *rel = xstrdup(cwd + 1);
		char *p = rel;

		while (p) {
			char *sl = strchr(p, '/');
			cleanup_close int pfd = -1;

			if (sl)
				*sl = '\0';
			if (sl)
				p = sl + 1;
			else
				p = NULL;
			pfd = img_openat_in_root(rootfd, rel, O_PATH | O_DIRECTORY);
			if (pfd == -ENOENT) {
				cleanup_free char *parent = xstrdup(rel);
				char *ps = strrchr(parent, '/');
				cleanup_close int dfd = img_openat_in_root(
					rootfd, ps ? parent : ".", O_PATH | O_DIRECTORY);

				if (ps)
					*ps = '\0';
				if (ps) {
					close(dfd);
					dfd = img_openat_in_root(rootfd, parent,
								 O_PATH | O_DIRECTORY);
				}
				if (dfd >= 0 && mkdirat(dfd, ps ? ps + 1 : rel, 0755) == 0)
					fchownat(dfd, ps ? ps + 1 : rel, uid, gid,
						 AT_SYMLINK_NOFOLLOW);
			}
			if (sl)
				*sl = '/';
		}
	}
	json_object_set_new(proc, "cwd", json_string(cwd));
	json_object_set_new(proc, "terminal", json_boolean(o->tty));
	if (o->tty)
		json_object_set_new(proc, "consoleSize",
				    json_pack("{s:i,s:i}", "height", 24, "width", 80));
	caps = caps_compute(o);
	json_object_set_new(proc, "capabilities",
			    json_pack("{s:O,s:O,s:O,s:o}", "bounding", caps, "effective", caps,
				      "permitted", caps, "inheritable", json_array()));
	json_object_set_new(proc, "noNewPrivileges", json_boolean(o->no_new_privs));
	for (i = 0; o->ulimits && o->ulimits[i]; i++)
		if (add_ulimit(json_object_get(proc, "rlimits"), o->ulimits[i], err) < 0)
			return -1;

	json_object_set_new(spec, "root",
			    json_pack("{s:s,s:b}", "path", rootfs, "readonly", o->read_only));
	{
		cleanup_free char *h = o->hostname ? xstrdup(o->hostname) : xasprintf("%.12s", id);

		json_object_set_new(spec, "hostname", json_string(h));
	}
	mounts = json_object_get(spec, "mounts");
	linux_ = json_object_get(spec, "linux");
	nss = json_object_get(linux_, "namespaces");
	if (o->network && !strcmp(o->network, "host")) {
		json_array_foreach(
			nss, i, v) if (!strcmp(json_string_value(json_object_get(v, "type")) ?: "",
					       "network"))
		{
			json_array_remove(nss, i);
			break;
		}
	}
	/* /etc/hosts, /etc/resolv.conf and /etc/hostname: files the network code fills. */
	if (net_files_prepare(o->data_root, id, &files, err) < 0)
		return cabin_err_wrap(err, "network files");
	json_array_append_new(mounts, json_pack("{s:s,s:s,s:s,s:[s,s]}", "destination",
						"/etc/hosts", "type", "bind", "source",
						files.hosts_path, "options", "bind", "rw"));
	json_array_append_new(mounts, json_pack("{s:s,s:s,s:s,s:[s,s]}", "destination",
						"/etc/resolv.conf", "type", "bind", "source",
						files.resolv_path, "options", "bind", "rw"));
	json_array_append_new(mounts, json_pack("{s:s,s:s,s:s,s:[s,s]}", "destination",
						"/etc/hostname", "type", "bind", "source",
						files.hostname_path, "options", "bind", "rw"));
	for (i = 0; o->volumes && o->volumes[i]; i++)
		if (add_volume(o, mounts, *mounts_rec, o->volumes[i], err) < 0)
			goto fail;
	for (i = 0; o->mounts && o->mounts[i]; i++)
		if (add_mount(o, mounts, *mounts_rec, o->mounts[i], err) < 0)
			goto fail;
	for (i = 0; o->tmpfs && o->tmpfs[i]; i++)
		if (add_tmpfs(mounts, *mounts_rec, o->tmpfs[i], err) < 0)
			goto fail;

	res = json_object_get(linux_, "resources");
	if (!res) {
		res = json_object();
		json_object_set_new(linux_, "resources", res);
	}
	if (!json_is_array(json_object_get(res, "devices")))
		json_object_set_new(res, "devices", json_array());
	if (!json_is_array(json_object_get(linux_, "devices")))
		json_object_set_new(linux_, "devices", json_array());
	if (o->privileged) {
		/*
		 * Docker's --privileged: every capability (above), every host device and
		 * access to all in the devices cgroup, no masked or read-only /proc paths,
		 * /sys and the cgroup tree writable, no seccomp filter.
		 */
		host_devices("/dev", json_object_get(linux_, "devices"), 0);
		json_object_set_new(res, "devices",
				    json_pack("[{s:b,s:s}]", "allow", 1, "access", "rwm"));
		json_object_del(linux_, "maskedPaths");
		json_object_del(linux_, "readonlyPaths");
		json_array_foreach(mounts, i, v)
		{
			const char *d = json_string_value(json_object_get(v, "destination")) ?: "";
			json_t *mo = json_object_get(v, "options"), *x;
			size_t k;

			if (strcmp(d, "/sys") && strcmp(d, "/sys/fs/cgroup"))
				continue;
			json_array_foreach(mo, k, x) if (!strcmp(json_string_value(x) ?: "", "ro"))
			{
				json_array_set_new(mo, k, json_string("rw"));
			}
		}
	}
	for (i = 0; o->devices && o->devices[i]; i++)
		if (add_device(json_object_get(linux_, "devices"), json_object_get(res, "devices"),
			       o->devices[i], err) < 0)
			goto fail;
	if (o->shm_size > 0) {
		json_array_foreach(mounts, i, v)
		{
			json_t *mo = json_object_get(v, "options"), *x;
			size_t k;

			if (strcmp(json_string_value(json_object_get(v, "destination")) ?: "",
				   "/dev/shm"))
				continue;
			json_array_foreach(mo, k,
					   x) if (!strncmp(json_string_value(x) ?: "", "size=", 5))
			{
				cleanup_free char *sz = xasprintf(
					"size=%lldk", (long long)((o->shm_size + 1023) / 1024));

				json_array_set_new(mo, k, json_string(sz));
			}
		}
	}
	if (!(o->seccomp && !strcmp(o->seccomp, "unconfined")) && !o->privileged) {
		json_t *sc = NULL;

		if (seccomp_profile(o->seccomp, caps, &sc, err) < 0)
			goto fail;
		json_object_set_new(linux_, "seccomp", sc);
	}
	if (o->memory > 0)
		json_object_set_new(res, "memory",
				    json_pack("{s:I}", "limit", (json_int_t)o->memory));
	if (o->cpu_quota > 0)
		json_object_set_new(res, "cpu",
				    json_pack("{s:I,s:I}", "quota", (json_int_t)o->cpu_quota,
					      "period", (json_int_t)100000));
	if (o->pids_limit > 0)
		json_object_set_new(res, "pids",
				    json_pack("{s:I}", "limit", (json_int_t)o->pids_limit));
	{
		cleanup_free char *cg = xasprintf("/cabin/%s", id);

		json_object_set_new(linux_, "cgroupsPath", json_string(cg));
	}
	json_object_set_new(spec, "annotations",
			    json_pack("{s:s,s:s}", "org.cabin.container.dir", cdir,
				      "org.opencontainers.image.ref.name", o->image));
	*out = steal_ptr(&spec);
	return 0;
fail:
	return -1;
}

/* ---- volumes ---- */

static int volume_name_ok(const char *n)
{
	size_t len = strlen(n);

	if (!len || len > 128 || n[0] == '.' || n[0] == '-')
		return 0;
	for (const char *p = n; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-'))
			return 0;
	return 1;
}

int box_volume_create(const char *data_root, const char *name, struct cabin_err **err)
{
	cleanup_free char *dir = NULL, *data = NULL;

	if (!volume_name_ok(name))
		return cabin_err_make(
			err, 0,
			"volume name `%s`: letters, digits and `_.-` only, not starting "
			"with `.` or `-`",
			name);
	dir = xasprintf("%s/volumes/%s", data_root, name);
	data = xasprintf("%s/_data", dir);
	if (fs_mkdir_p(dir, 0700, err) < 0)
		return -1;
	if (mkdir(data, 0755) < 0 && errno != EEXIST)
		return cabin_err_make(err, errno, "mkdir `%s`", data);
	return 0;
}

int box_volume_users(const char *data_root, const char *name)
{
	cleanup_json json_t *all = box_list(data_root);
	json_t *rec, *m;
	size_t i, k;
	int n = 0;

	json_array_foreach(all, i, rec) json_array_foreach(
		json_object_get(rec, "mounts"), k,
		m) if (!strcmp(json_string_value(json_object_get(m, "Name")) ?: "", name)) n++;
	return n;
}

int box_volume_rm(const char *data_root, const char *name, int force, struct cabin_err **err)
{
	cleanup_free char *vols = xasprintf("%s/volumes", data_root);
	cleanup_close int dfd = -1;
	struct stat st;
	int users;

	if (!volume_name_ok(name))
		return cabin_err_make(err, 0, "volume `%s` not found", name);
	dfd = open(vols, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return cabin_err_make(err, 0, "volume `%s` not found", name);
	users = box_volume_users(data_root, name);
	if (users && !force)
		return cabin_err_make(err, 0, "volume `%s` is in use by %d container(s)", name,
				      users);
	return fs_rm_rf_at(dfd, name, err);
}

json_t *box_volume_list(const char *data_root)
{
	cleanup_free char *vols = xasprintf("%s/volumes", data_root);
	cleanup_closedir DIR *d = opendir(vols);
	json_t *arr = json_array();
	struct dirent *de;

	while (d && (de = readdir(d))) {
		cleanup_free char *mp = NULL;

		if (de->d_name[0] == '.')
			continue;
		mp = xasprintf("%s/%s/_data", vols, de->d_name);
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "Name", de->d_name, "Driver",
						     "local", "Mountpoint", mp));
	}
	return arr;
}
