/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: box_user_resolve(), which reads the image's /etc/passwd and
 * /etc/group for `container run -u NAME[:GROUP]` (and the image's User): both files are
 * the image's, hostile. The files are written into a rootfs on the sandbox tmpfs
 * (sandbox.h) and looked up as the container sees them.
 *
 * Input: the user argument, /etc/passwd and /etc/group, separated by the byte 0x00
 * (missing parts are empty; a file is absent when its part is a lone 0x01).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "box/box.h"
#include "fuzz/sandbox.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/log.h"

static int rootfd = -1;

static void put_file(const char *name, const uint8_t *d, size_t n)
{
	int fd;

	unlinkat(rootfd, name, 0);
	if (n == 1 && d[0] == 1)
		return;
	fd = openat(rootfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || (n && fs_write_all(fd, d, n) < 0))
		abort();
	close(fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int mfd = fuzz_sandbox_init(*argc, *argv);

	rootfd = openat(mfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(mfd);
	if (rootfd < 0 || mkdirat(rootfd, "etc", 0755) < 0)
		abort();
	log_set_quiet(1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *part[3] = { data, NULL, NULL }, *end = data + size;
	size_t len[3] = { size, 0, 0 };
	struct cabin_err *err = NULL;
	json_t *extra = NULL;
	char *user, *home = NULL;
	uid_t uid = 0;
	gid_t gid = 0;
	int ret;

	for (int i = 1; i < 3; i++) {
		const uint8_t *z = memchr(part[i - 1], 0, len[i - 1]);

		if (!z)
			break;
		len[i - 1] = (size_t)(z - part[i - 1]);
		part[i] = z + 1;
		len[i] = (size_t)(end - part[i]);
	}
	user = strndup((const char *)data, len[0]);
	if (!user)
		abort();
	put_file("etc/passwd", part[1] ? part[1] : (const uint8_t *)"", len[1]);
	put_file("etc/group", part[2] ? part[2] : (const uint8_t *)"", len[2]);
	ret = box_user_resolve(rootfd, user, &uid, &gid, &extra, &home, &err);
	if (ret < 0 && !err) {
		fprintf(stderr, "fuzz-user: FINDING: refused without an error\n");
		abort();
	}
	if (ret == 0 && (!home || !json_is_array(extra))) {
		fprintf(stderr, "fuzz-user: FINDING: resolved without a home or groups\n");
		abort();
	}
	if (getenv("CABIN_FUZZ_DEBUG"))
		fprintf(stderr, "user `%s`: %s uid %u gid %u home %s\n", user,
			ret < 0 ? cabin_err_msg(err) : "ok", (unsigned)uid, (unsigned)gid,
			home ? home : "-");
	cabin_err_release(&err);
	json_decref(extra);
	free(home);
	free(user);
	return 0;
}
