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
#include "lib/utf8.h"
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

static int sanitized(const char *in, size_t n, const char *want, size_t wlen)
{
	size_t len;
	char *out = utf8_sanitize(in, n, &len);
	int ok = len == wlen && !memcmp(out, want, wlen) && out[len] == '\0';

	free(out);
	return ok;
}

static void test_utf8(void)
{
	static const char ok4[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf";
	static const char nul[] = "a\0b";

	tap_ok(sanitized(ok4, sizeof(ok4) - 1, ok4, sizeof(ok4) - 1),
	       "utf8: valid 1- to 4-byte sequences (up to U+10FFFF) are kept");
	tap_ok(sanitized(nul, 3, nul, 3), "utf8: a NUL byte is kept");
	tap_ok(sanitized("caf\xe9 \xff", 6, "caf\xef\xbf\xbd \xef\xbf\xbd", 10),
	       "utf8: a Latin-1 byte and 0xff become U+FFFD each");
	/* overlong '/', a surrogate, above U+10FFFF, a lone continuation, a cut sequence */
	tap_ok(sanitized("\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd", 6) &&
		       sanitized("\xe0\x80\xaf", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 9) &&
		       sanitized("\xed\xa0\x80x", 4, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx", 10) &&
		       sanitized("\xf4\x90\x80\x80", 4,
				 "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 12) &&
		       sanitized("\x80", 1, "\xef\xbf\xbd", 3) &&
		       sanitized("\xe2\x82", 2, "\xef\xbf\xbd\xef\xbf\xbd", 6),
	       "utf8: overlongs, surrogates, > U+10FFFF, stray and cut sequences are replaced");
}

int main(void)
{
	tap_plan(19);
	test_utf8();
	test_errors();
	test_strv();
	test_fs();
	test_err_ptr();
	return tap_done();
}
