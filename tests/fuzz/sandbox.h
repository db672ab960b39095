/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A place where a fuzz target may let hostile input write files, and a host it cannot
 * damage. fuzz_sandbox_init() moves the process into its own mount namespace (a user
 * namespace first when not root), makes every mount of the host read-only there except
 * the directories libFuzzer writes (its corpus, artifact prefix and the working
 * directory), and returns a directory fd on a detached tmpfs (nodev, nosuid, noexec,
 * 64 MiB) that no path names. A write that escapes the directory a parser was given
 * either lands elsewhere on that tmpfs, where the target looks for it, or on the host,
 * where it fails with EROFS: both are findings, and neither touches the host.
 */
#ifndef CABIN_TESTS_FUZZ_SANDBOX_H
#define CABIN_TESTS_FUZZ_SANDBOX_H

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MOUNT_ATTR_RDONLY
struct mount_attr {
	unsigned long long attr_set, attr_clr, propagation, userns_fd;
};
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV 0x00000004
#define MOUNT_ATTR_NOEXEC 0x00000008
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#define SB_FSCONFIG_SET_STRING 1
#define SB_FSCONFIG_CMD_CREATE 6

static int sb_write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : write(fd, s, strlen(s));

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* Keep @dir writable: a bind mount of itself with the read-only flag cleared. */
static int sb_keep_writable(const char *dir)
{
	struct mount_attr clr = { .attr_clr = MOUNT_ATTR_RDONLY };
	struct stat st;

	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	if (mount(dir, dir, NULL, MS_BIND, NULL) < 0 ||
	    syscall(SYS_mount_setattr, AT_FDCWD, dir, 0, &clr, sizeof(clr)) < 0) {
		fprintf(stderr, "fuzz sandbox: keep `%s` writable: %s\n", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * With CABIN_FUZZ_NO_OPENAT2=1 in the environment, openat2(2) fails with ENOSYS (a
 * seccomp filter, as on kernels before 5.6): path resolution then takes the fallback
 * walker of lib/resolve.c, which the fuzzer drives instead.
 */
static void sb_no_openat2(void)
{
	scmp_filter_ctx ctx;

	if (!getenv("CABIN_FUZZ_NO_OPENAT2"))
		return;
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(openat2), 0) < 0 ||
	    seccomp_load(ctx) < 0) {
		fprintf(stderr, "fuzz sandbox: cannot filter openat2\n");
		exit(1);
	}
	seccomp_release(ctx);
	fprintf(stderr, "fuzz sandbox: openat2 fails with ENOSYS: the fallback walker runs\n");
}

/* Return: the tmpfs directory fd; exits 77 (skip) when the kernel or privilege lacks. */
static int fuzz_sandbox_init(int argc, char **argv)
{
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
	char cwd[4096], *keep[64];
	int nkeep = 0, fsfd, mfd;
	uid_t uid = getuid();
	gid_t gid = getgid();

	if (!getcwd(cwd, sizeof(cwd)))
		exit(77);
	keep[nkeep++] = strdup(cwd);
	for (int i = 1; i < argc && nkeep < 62; i++) {
		const char *a = argv[i];

		if (!strncmp(a, "-artifact_prefix=", 17) ||
		    !strncmp(a, "-exact_artifact_path=", 21)) {
			char *v = strdup(strchr(a, '=') + 1);

			keep[nkeep++] = v[0] && v[strlen(v) - 1] == '/' ? v : strdup(dirname(v));
		} else if (a[0] != '-') {
			keep[nkeep++] = strdup(a);
		}
	}
	if (unshare(CLONE_NEWNS) < 0) {
		char map[64];

		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
			fprintf(stderr, "fuzz sandbox: SKIP: no mount namespace: %s\n",
				strerror(errno));
			exit(77);
		}
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
		sb_write_file("/proc/self/setgroups", "deny");
		if (sb_write_file("/proc/self/uid_map", map) < 0)
			exit(77);
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
		if (sb_write_file("/proc/self/gid_map", map) < 0)
			exit(77);
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    syscall(SYS_mount_setattr, AT_FDCWD, "/", AT_RECURSIVE, &ro, sizeof(ro)) < 0) {
		fprintf(stderr, "fuzz sandbox: SKIP: cannot make the host read-only: %s\n",
			strerror(errno));
		exit(77);
	}
	for (int i = 0; i < nkeep; i++) {
		if (sb_keep_writable(keep[i]) < 0)
			exit(1);
		free(keep[i]);
	}
	fsfd = (int)syscall(SYS_fsopen, "tmpfs", 1 /* FSOPEN_CLOEXEC */);
	if (fsfd < 0 || syscall(SYS_fsconfig, fsfd, SB_FSCONFIG_SET_STRING, "size", "64m", 0) < 0 ||
	    syscall(SYS_fsconfig, fsfd, SB_FSCONFIG_SET_STRING, "mode", "0755", 0) < 0 ||
	    syscall(SYS_fsconfig, fsfd, SB_FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		fprintf(stderr, "fuzz sandbox: SKIP: tmpfs: %s\n", strerror(errno));
		exit(77);
	}
	mfd = (int)syscall(SYS_fsmount, fsfd, 1 /* FSMOUNT_CLOEXEC */,
			   MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
	close(fsfd);
	if (mfd < 0) {
		fprintf(stderr, "fuzz sandbox: SKIP: fsmount: %s\n", strerror(errno));
		exit(77);
	}
	sb_no_openat2();
	return mfd;
}

#endif
