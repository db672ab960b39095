/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/strv.h"
#include "lib/util.h"
#include "lib/xalloc.h"
#include "unit/tap.h"

static int fails_with_context(struct cabin_err **err)
{
	int ret = cabin_err_make(err, ENOENT, "open `%s`", "/nope");

	return cabin_err_wrap(err, "start `%s`", "web") + 0 * ret;
}

static void test_errors(void)
{
	struct cabin_err *err = NULL;
	int ret = fails_with_context(&err);

	tap_ok(ret == -ENOENT, "error returns -errno (%d)", ret);
	tap_ok(err && !strcmp(err->msg, "start `web`: open `/nope`: No such file or directory"),
	       "wrap prefixes context: %s", cabin_err_msg(err));
	cabin_err_release(&err);
	tap_ok(err == NULL, "release clears the pointer");
	ret = cabin_err_make(&err, 0, "bad value `%d`", 7);
	tap_ok(ret == -1 && !strcmp(err->msg, "bad value `7`"), "errno 0 gives -1 and no suffix");
	cabin_err_release(&err);
	cabin_err_release(&err);
	tap_ok(1, "double release is harmless");
}

static void test_strv(void)
{
	cleanup_strv char **env = NULL;

	strv_env_set(&env, "PATH=/bin");
	strv_env_set(&env, "HOME=/root");
	strv_env_set(&env, "PATH=/usr/bin");
	tap_ok(strv_len(env) == 2, "env_set replaces an existing key");
	tap_ok(!strcmp(strv_env_get(env, "PATH"), "/usr/bin"), "env_get returns the new value");
	tap_ok(strv_env_get(env, "PAT") == NULL, "env_get matches whole keys only");
}

static void test_fs(void)
{
	char dir[] = "/tmp/cabin-unit.XXXXXX";
	struct cabin_err *err = NULL;
	cleanup_free char *buf = NULL, *sub = NULL;
	cleanup_close int dfd = -1;
	size_t len = 0;
	int ret;

	if (!mkdtemp(dir)) {
		tap_ok(0, "mkdtemp");
		return;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ret = fs_write_file_atomic(dfd, "state.json", "{}", 2, 0600, FS_ATOMIC_FSYNC, &err);
	tap_ok(ret == 0, "atomic write succeeds");
	sub = xasprintf("%s/state.json", dir);
	ret = fs_read_file(sub, 1 << 20, &buf, &len, &err);
	tap_ok(ret == 0 && len == 2 && !strcmp(buf, "{}"), "read back what was written");
	free(sub);
	sub = xasprintf("%s/a/b/c", dir);
	ret = fs_mkdir_p(sub, 0700, &err);
	tap_ok(ret == 0 && access(sub, F_OK) == 0, "mkdir -p creates nested directories");
	ret = fs_read_file("/proc/self/status", 16, &buf, &len, &err);
	tap_ok(ret < 0 && err && strstr(err->msg, "File too large"), "size bound is enforced");
	cabin_err_release(&err);
	ret = fs_rm_rf_at(AT_FDCWD, dir, &err);
	tap_ok(ret == 0 && access(dir, F_OK) < 0, "rm -rf removes the tree");
}

static void test_err_ptr(void)
{
	void *p = ERR_PTR(-EINVAL);

	tap_ok(IS_ERR(p) && PTR_ERR(p) == -EINVAL, "ERR_PTR round-trips");
	tap_ok(!IS_ERR(&p), "a real pointer is not an error");
}

int main(void)
{
	tap_plan(15);
	test_errors();
	test_strv();
	test_fs();
	test_err_ptr();
	return tap_done();
}
