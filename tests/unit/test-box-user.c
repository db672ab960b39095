/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * box_user_resolve(): `container run -u` against the image's own /etc/passwd and
 * /etc/group, which are hostile: short lines, ids that are not numbers, -1, 2^32.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "box/box.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "unit/tap.h"

static char root[] = "/tmp/cabin-test-box-user.XXXXXX";
static int rootfd = -1, etcfd = -1;

static void files(const char *passwd, const char *group)
{
	struct cabin_err *err = NULL;

	if (fs_write_file_atomic(etcfd, "passwd", passwd, strlen(passwd), 0644, 0, &err) < 0 ||
	    fs_write_file_atomic(etcfd, "group", group, strlen(group), 0644, 0, &err) < 0) {
		tap_diag("write: %s", cabin_err_msg(err));
		exit(1);
	}
}

/* resolve @user; "ok UID GID HOME [EXTRA,...]" or the error */
static char *resolve(const char *user)
{
	struct cabin_err *err = NULL;
	json_t *extra = NULL, *v;
	char *home = NULL, *out = NULL, buf[512];
	uid_t uid;
	gid_t gid;
	size_t i, n;

	if (box_user_resolve(rootfd, user, &uid, &gid, &extra, &home, &err) < 0) {
		out = strdup(cabin_err_msg(err));
	} else {
		n = (size_t)snprintf(buf, sizeof(buf), "ok %u %u %s", (unsigned)uid, (unsigned)gid,
				     home);
		json_array_foreach(extra, i, v) n += (size_t)snprintf(
			buf + n, sizeof(buf) - n, " %lld", (long long)json_integer_value(v));
		out = strdup(buf);
	}
	cabin_err_release(&err);
	json_decref(extra);
	free(home);
	return out;
}

static void is(const char *user, const char *want, const char *why)
{
	char *got = resolve(user);

	tap_ok(!strcmp(got, want), "-u %s: %s (%s)", user, why, got);
	free(got);
}

static void has(const char *user, const char *want, const char *why)
{
	char *got = resolve(user);

	tap_ok(strstr(got, want) != NULL, "-u %s: %s (%s)", user, why, got);
	free(got);
}

int main(void)
{
	tap_plan(11);
	if (!mkdtemp(root) || (rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    mkdirat(rootfd, "etc", 0755) < 0 ||
	    (etcfd = openat(rootfd, "etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return 1;

	files("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
	      "root:x:0:\napp:x:1000:\nwheel:x:10:root,app\ndocker:x:999:app\n");
	is("app", "ok 1000 1000 /home/app 10 999", "name, its group and supplementary groups");
	is("app:wheel", "ok 1000 10 /home/app", "name:group");
	is("0", "ok 0 0 /root 10", "a uid found in passwd");

	/* a line of three fields: its gid was read from a NULL pointer (cabin crashed) */
	files("root:x:0\n", "");
	has("root", "not found in the image's /etc/passwd", "a passwd line without a gid field");
	is("0", "ok 0 0 /root", "a uid whose passwd line has no gid field");

	/* ids that are not numbers matched uid 0 (atol), -1 became 4294967295 */
	files("evil:x:abc:0::/evil:\nneg:x:-1:-1::/neg:\nbig:x:4294967295:0::/big:\n"
	      "ok:x:4294967294:0::/ok:\n",
	      "g:x:zz:evil\nshort:x\n");
	is("0", "ok 0 0 /root", "uid `abc` is not uid 0");
	has("neg", "not found", "uid -1 refused");
	has("big", "not found", "uid 4294967295 refused");
	is("ok", "ok 4294967294 0 /ok", "the largest uid");
	has("4294967295", "not a valid uid", "-u 4294967295 refused");
	has("ok:short", "not found in the image's /etc/group", "a group line of two fields");

	fs_rm_rf_at(AT_FDCWD, root, NULL);
	return tap_done();
}
