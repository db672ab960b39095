/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The OCI config of a container made from an image: the image config's Entrypoint, Cmd,
 * Env, WorkingDir and User under the options of `container run`, on top of the runtime's
 * default spec (namespaces, /proc, /dev, /sys mounts, masked paths).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* podman's default capability set: what images expect of a container's root. */
static const char *const default_caps[] = {
	"CAP_CHOWN",   "CAP_DAC_OVERRIDE",     "CAP_FOWNER",	 "CAP_FSETID",
	"CAP_KILL",    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP",	 "CAP_SETGID",
	"CAP_SETPCAP", "CAP_SETUID",	       "CAP_SYS_CHROOT",
};

#define PASSWD_MAX (4u << 20)

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

/* Find the line of @name (or id @id when @name is NULL) in a passwd/group file. */
static int find_entry(char *file, const char *name, long id, char ***fields, int nfields)
{
	char *save = NULL;

	for (char *line = strtok_r(file, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char **f = xcalloc((size_t)nfields + 1, sizeof(char *));
		char *p = line;
		int n = 0;

		while (n < nfields) {
			char *c = strchr(p, ':');

			f[n++] = p;
			if (!c)
				break;
			*c = '\0';
			p = c + 1;
		}
		if (n >= 3 && ((name && !strcmp(f[0], name)) || (!name && atol(f[2]) == id))) {
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
	cleanup_free char **pf = NULL, **gf = NULL;
	char *g = strchr(u, ':');
	const char *uname = NULL;

	if (g)
		*g++ = '\0';
	*extra = json_array();
	*home = NULL;
	if (all_digits(u)) {
		*uid = (uid_t)atol(u);
		*gid = 0;
		if (passwd && find_entry(passwd, NULL, (long)*uid, &pf, 7)) {
			*gid = (gid_t)atol(pf[3]);
			uname = pf[0];
			if (pf[5])
				*home = xstrdup(pf[5]);
		}
	} else {
		if (!passwd || !find_entry(passwd, u, 0, &pf, 7))
			return cabin_err_make(err, 0,
					      "user `%s`: not found in the image's /etc/passwd", u);
		*uid = (uid_t)atol(pf[2]);
		*gid = (gid_t)atol(pf[3]);
		uname = pf[0];
		if (pf[5])
			*home = xstrdup(pf[5]);
	}
	if (g) {
		cleanup_free char *gcopy = group ? xstrdup(group) : NULL;
		cleanup_free char **f = NULL;

		if (all_digits(g))
			*gid = (gid_t)atol(g);
		else if (gcopy && find_entry(gcopy, g, 0, &f, 4))
			*gid = (gid_t)atol(f[2]);
		else
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
			if (n < 4 || !f[3])
				continue;
			for (m = strtok_r(f[3], ",", &msave); m; m = strtok_r(NULL, ",", &msave))
				if (!strcmp(m, uname) && (gid_t)atol(f[2]) != *gid)
					json_array_append_new(*extra, json_integer(atol(f[2])));
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
		json_array_extend(args, json_is_array(json_object_get(cfg, "Entrypoint"))
						? json_object_get(cfg, "Entrypoint")
						: json_array());
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
	json_object_set_new(proc, "args", steal_ptr(&args));

	rootfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return cabin_err_make(err, errno, "open rootfs `%s`", rootfs);
	user = o->user ? o->user : json_string_value(json_object_get(cfg, "User"));
	if (box_user_resolve(rootfd, user, &uid, &gid, &extra, &home, err) < 0)
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
		cleanup_free char *h = xasprintf("HOSTNAME=%.12s", id);

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
	caps = json_array();
	for (i = 0; i < sizeof(default_caps) / sizeof(default_caps[0]); i++)
		json_array_append_new(caps, json_string(default_caps[i]));
	json_object_set_new(proc, "capabilities",
			    json_pack("{s:O,s:O,s:O,s:O}", "bounding", caps, "effective", caps,
				      "permitted", caps, "inheritable", json_array()));
	json_object_set_new(proc, "noNewPrivileges", json_false());

	json_object_set_new(spec, "root",
			    json_pack("{s:s,s:b}", "path", rootfs, "readonly", o->read_only));
	{
		cleanup_free char *h = xasprintf("%.12s", id);

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
