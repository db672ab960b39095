/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/nsfs.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctr/cgroup.h"
#include "ctr/state.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#define CABIN_OCI_VERSION_STR "1.2.0"

int ctr_id_validate(const char *id, struct cabin_err **err)
{
	size_t n = strlen(id);

	if (n == 0 || n > 1024)
		return cabin_err_make(err, 0, "invalid container id `%s`: 1 to 1024 bytes", id);
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') ||
			 (i > 0 && (c == '_' || c == '+' || c == '-' || c == '.'));

		if (!ok)
			return cabin_err_make(err, 0,
					      "invalid container id `%s`: use letters, digits and "
					      "`_+-.` (not first)",
					      id);
	}
	return 0;
}

char *ctr_state_dir(const char *root, const char *id)
{
	return xasprintf("%s/%s", root, id);
}

/*
 * Removing a directory can cost more than all the rest of a start: on ext4 without a
 * journal mounted with `discard` (/run is a directory of / on some hosts), rmdir(2)
 * discards the directory's block and waits for the device to do it, 1-3 ms here, where
 * a file written and unlinked before writeback never had a block (see
 * fs_write_file_atomic()). So a deleted container's state directory is kept, emptied,
 * under a name no container ID can take (IDs never start with a dot, and `list` skips
 * such names), and the next create renames it into place instead of making a new one.
 * At most STATE_SPARES of them are kept; renames are atomic, so concurrent creates and
 * deletes each get their own or none.
 */
#define STATE_SPARES 4

static void spare_name(char *buf, size_t len, int i)
{
	snprintf(buf, len, ".spare-%d", i);
}

int ctr_state_dir_make(int rootfd, const char *id, struct cabin_err **err)
{
	struct cabin_err *e = NULL;
	char name[32];

	for (int i = 0; i < STATE_SPARES; i++) {
		spare_name(name, sizeof(name), i);
		if (renameat2(rootfd, name, rootfd, id, RENAME_NOREPLACE) == 0) {
			/* only delete leaves spares, emptied first: anything else goes */
			if (fs_empty_dir_at(rootfd, id, &e) == 1)
				return 0;
			cabin_err_release(&e);
			if (fs_rm_rf_at(rootfd, id, &e) < 0) {
				log_warn("state directory `%s`: %s", id, cabin_err_msg(e));
				cabin_err_release(&e);
			}
			break;
		}
		/* EEXIST: the container exists, which mkdirat() below reports */
		if (errno != ENOENT)
			break;
	}
	if (mkdirat(rootfd, id, 0700) < 0) {
		if (errno == EEXIST)
			return cabin_err_make(err, 0, "container `%s` already exists", id);
		return cabin_err_make(err, errno, "mkdir `%s`", id);
	}
	return 0;
}

int ctr_state_dir_remove(int rootfd, const char *id, struct cabin_err **err)
{
	char name[32];
	int ret = fs_empty_dir_at(rootfd, id, err);

	if (ret <= 0)
		return ret;
	for (int i = 0; i < STATE_SPARES; i++) {
		spare_name(name, sizeof(name), i);
		if (renameat2(rootfd, id, rootfd, name, RENAME_NOREPLACE) == 0)
			return 0;
		/* EINVAL: a filesystem without RENAME_NOREPLACE */
		if (errno != EEXIST)
			break;
	}
	if (unlinkat(rootfd, id, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return cabin_err_make(err, errno, "rmdir `%s`", id);
	return 0;
}

unsigned long long ctr_proc_start_time(pid_t pid)
{
	char path[64], buf[1024];
	cleanup_close int fd = -1;
	ssize_t n;
	char *p;
	unsigned long long v = 0;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* comm may contain spaces and parentheses: fields start after the last ')' */
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	p += 2;
	/* p is at field 3 (state); a zombie counts as gone */
	if (*p == 'Z' || *p == 'X')
		return 0;
	for (int field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p)
		return 0;
	v = strtoull(p, NULL, 10);
	return v;
}

int ctr_state_alive(const struct ctr_state *st)
{
	return st->pid > 0 && st->start_time && ctr_proc_start_time(st->pid) == st->start_time;
}

const char *ctr_status_name(enum ctr_status s)
{
	switch (s) {
	case CTR_CREATING:
		return "creating";
	case CTR_CREATED:
		return "created";
	case CTR_RUNNING:
		return "running";
	case CTR_PAUSED:
		return "paused";
	case CTR_STOPPED:
		return "stopped";
	}
	return "unknown";
}

enum ctr_status ctr_state_status(const char *root, const struct ctr_state *st)
{
	char path[4096];

	if (!st->pid)
		return CTR_CREATING;
	if (!ctr_state_alive(st))
		return CTR_STOPPED;
	snprintf(path, sizeof(path), "%s/%s/exec.fifo", root, st->id);
	if (access(path, F_OK) == 0)
		return CTR_CREATED;
	if (st->cgroup) {
		struct ctr_cgroup *cg = NULL;
		struct cabin_err *e = NULL;

		if (ctr_cgroup_from_string(st->cgroup, &cg, &e) == 0) {
			int frozen = ctr_cgroup_is_frozen(cg);

			ctr_cgroup_free(cg);
			if (frozen > 0)
				return CTR_PAUSED;
		}
		cabin_err_release(&e);
	}
	return CTR_RUNNING;
}

json_t *ctr_state_to_json(const struct ctr_state *st, enum ctr_status status)
{
	json_t *j = json_pack("{s:s,s:s,s:s}", "ociVersion", CABIN_OCI_VERSION_STR, "id", st->id,
			      "status", ctr_status_name(status));

	if (status != CTR_STOPPED && st->pid > 0)
		json_object_set_new(j, "pid", json_integer(st->pid));
	else
		json_object_set_new(j, "pid", json_integer(0));
	json_object_set_new(j, "bundle", json_string(st->bundle ? st->bundle : ""));
	if (st->rootfs)
		json_object_set_new(j, "rootfs", json_string(st->rootfs));
	if (st->created)
		json_object_set_new(j, "created", json_string(st->created));
	json_object_set_new(j, "owner", json_string(""));
	if (st->annotations)
		json_object_set(j, "annotations", st->annotations);
	else
		json_object_set_new(j, "annotations", json_object());
	return j;
}

/*
 * state.json's members but cgroup, pid, start_time and pidns, which ctr_state_text_save()
 * adds: the runtime learns them after the clone (cgroup: which directories it made).
 */
static json_t *state_json_fixed(const struct ctr_state *st)
{
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:i,s:b}", "id", st->id, "bundle", st->bundle,
			      "rootfs", st->rootfs, "created", st->created, "owner", (int)st->owner,
			      "ns_pid", st->ns_pid);

	if (st->config)
		json_object_set_new(j, "config", json_string(st->config));
	if (st->annotations)
		json_object_set(j, "annotations", st->annotations);
	if (st->poststop)
		json_object_set(j, "poststop", st->poststop);
	if (st->process)
		json_object_set(j, "process", st->process);
	if (st->foreign)
		json_object_set(j, "foreign", st->foreign);
	return j;
}

/* room for ,"pid":N,"start_time":N,"pidns":N} */
#define STATE_VARS_MAX 96

int ctr_state_render(const struct ctr_state *st, struct ctr_state_text *out, struct cabin_err **err)
{
	cleanup_json json_t *j = state_json_fixed(st);
	cleanup_free char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	size_t n = s ? strlen(s) : 0;

	/* an object with members: "{...}", whose closing brace the variable part replaces */
	if (n < 3 || s[n - 1] != '}')
		return cabin_err_make(err, ENOMEM, "encode state");
	out->buf = xrealloc(steal_ptr(&s), n - 1 + STATE_VARS_MAX);
	out->len = n - 1;
	return 0;
}

int ctr_state_text_save(int dirfd, struct ctr_state_text *t, const struct ctr_state *st,
			struct cabin_err **err)
{
	cleanup_json json_t *cgj = st->cgroup ? json_string(st->cgroup) : NULL;
	cleanup_free char *cg = cgj ? json_dumps(cgj, JSON_ENCODE_ANY) : NULL;
	size_t len = t->len;
	int n, ret;

	if (cgj && !cg)
		return cabin_err_make(err, ENOMEM, "encode state");
	if (cg) {
		static const char key[] = ",\"cgroup\":";
		size_t cl = strlen(cg);

		t->buf = xrealloc(t->buf, len + sizeof(key) - 1 + cl + STATE_VARS_MAX);
		memcpy(t->buf + len, key, sizeof(key) - 1);
		memcpy(t->buf + len + sizeof(key) - 1, cg, cl);
		len += sizeof(key) - 1 + cl;
	}
	if (st->pidns)
		n = snprintf(t->buf + len, STATE_VARS_MAX,
			     ",\"pid\":%d,\"start_time\":%llu,\"pidns\":%llu}", (int)st->pid,
			     st->start_time, st->pidns);
	else
		n = snprintf(t->buf + len, STATE_VARS_MAX, ",\"pid\":%d,\"start_time\":%llu}",
			     (int)st->pid, st->start_time);
	if (n < 0 || n >= STATE_VARS_MAX)
		return cabin_err_make(err, EOVERFLOW, "encode state");
	/* Not fsync'd: state lives in /run, gone at reboot; fsync would dominate start-up. */
	ret = fs_write_file_atomic(dirfd, "state.json", t->buf, len + (size_t)n, 0600, 0, err);
	if (ret < 0)
		return cabin_err_wrap(err, "save state");
	return 0;
}

void ctr_state_text_free(struct ctr_state_text *t)
{
	free(t->buf);
	t->buf = NULL;
	t->len = 0;
}

int ctr_state_save(int dirfd, const struct ctr_state *st, struct cabin_err **err)
{
	struct ctr_state_text t = { 0 };
	int ret = ctr_state_render(st, &t, err);

	if (ret == 0)
		ret = ctr_state_text_save(dirfd, &t, st, err);
	ctr_state_text_free(&t);
	return ret;
}

static char *dup_str(json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	return s ? xstrdup(s) : NULL;
}

int ctr_state_load(const char *root, const char *id, struct ctr_state **out, struct cabin_err **err)
{
	cleanup_free char *dir = NULL, *path = NULL;
	struct ctr_state *st;
	json_error_t jerr;
	cleanup_json json_t *j = NULL;
	json_t *v;
	struct stat sb;

	if (ctr_id_validate(id, err) < 0)
		return -EINVAL;
	dir = ctr_state_dir(root, id);
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return cabin_err_make(err, 0, "container `%s` does not exist", id);
	st = xcalloc(1, sizeof(*st));
	st->id = xstrdup(id);
	path = xasprintf("%s/state.json", dir);
	j = json_load_file(path, 0, &jerr);
	if (!j) {
		if (errno == ENOENT || access(path, F_OK) < 0) {
			*out = st; /* interrupted create */
			return 0;
		}
		ctr_state_free(st);
		return cabin_err_make(err, 0, "`%s`: %s", path, jerr.text);
	}
	st->pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
	st->start_time = (unsigned long long)json_integer_value(json_object_get(j, "start_time"));
	st->bundle = dup_str(j, "bundle");
	st->rootfs = dup_str(j, "rootfs");
	st->created = dup_str(j, "created");
	st->cgroup = dup_str(j, "cgroup");
	st->config = dup_str(j, "config");
	st->owner = (uid_t)json_integer_value(json_object_get(j, "owner"));
	st->ns_pid = json_is_true(json_object_get(j, "ns_pid"));
	v = json_object_get(j, "annotations");
	st->annotations = v ? json_incref(v) : NULL;
	v = json_object_get(j, "poststop");
	st->poststop = v ? json_incref(v) : NULL;
	v = json_object_get(j, "process");
	st->process = v ? json_incref(v) : NULL;
	st->pidns = (unsigned long long)json_integer_value(json_object_get(j, "pidns"));
	v = json_object_get(j, "foreign");
	st->foreign = json_is_array(v) ? json_incref(v) : NULL;
	*out = st;
	return 0;
}

void ctr_state_free(struct ctr_state *st)
{
	if (!st)
		return;
	free(st->id);
	free(st->bundle);
	free(st->rootfs);
	free(st->created);
	free(st->cgroup);
	free(st->config);
	json_decref(st->annotations);
	json_decref(st->poststop);
	json_decref(st->process);
	json_decref(st->foreign);
	free(st);
}

unsigned long long ctr_state_pidns(pid_t pid)
{
	char path[64];
	struct stat sb;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	return stat(path, &sb) == 0 ? (unsigned long long)sb.st_ino : 0;
}

#ifndef PIDFD_GET_PID_NAMESPACE
#define PIDFD_GET_PID_NAMESPACE _IO(0xFF, 5) /* Linux 6.11 */
#endif

unsigned long long ctr_state_pidns_pidfd(int pidfd)
{
	cleanup_close int fd = ioctl(pidfd, PIDFD_GET_PID_NAMESPACE, 0);
	struct stat sb;

	return fd >= 0 && fstat(fd, &sb) == 0 ? (unsigned long long)sb.st_ino : 0;
}

/* Is the pid namespace of @pid the one with inode @ino, or below it? */
static int pidns_within(pid_t pid, unsigned long long ino)
{
	char path[64];
	int fd, depth;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* pid namespaces nest 32 deep at most */
	for (depth = 0; depth <= 32; depth++) {
		struct stat sb;
		int parent;

		if (fstat(fd, &sb) == 0 && (unsigned long long)sb.st_ino == ino) {
			close(fd);
			return 1;
		}
		parent = ioctl(fd, NS_GET_PARENT);
		close(fd);
		if (parent < 0)
			return 0; /* the top, or one we may not see: not below @ino */
		fd = parent;
	}
	close(fd);
	return 0;
}

int ctr_state_owns_pid(const struct ctr_state *st, pid_t pid)
{
	json_t *e;
	size_t i;

	if (st->ns_pid && st->pidns) {
		int r = pidns_within(pid, st->pidns);

		return r != 0; /* -1: gone or exiting, which only our SIGKILL makes it */
	}
	json_array_foreach(st->foreign, i, e)
	{
		if (json_integer_value(json_array_get(e, 0)) == pid &&
		    (unsigned long long)json_integer_value(json_array_get(e, 1)) ==
			    ctr_proc_start_time(pid))
			return 0;
	}
	return 1;
}
