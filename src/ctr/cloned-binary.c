/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CVE-2019-5736: the init of a created container runs the runtime's binary inside the
 * container's namespaces, and so does the child `exec` forks before its execve. A process
 * of the container that reaches /proc/PID/exe of either (or execs a script whose first
 * line is `#!/proc/self/exe`, which the kernel resolves to the runtime) can open the host
 * binary read-only, wait for the runtime to exit and reopen it for writing through
 * /proc/self/fd: root on the host then runs the container's code the next time.
 *
 * As runc (libcontainer/nsenter/cloned_binary.c) and crun do, the commands that start
 * container processes re-execute themselves from a sealed memfd copy of the binary: the
 * kernel refuses every write to it (F_SEAL_WRITE), and the host file is no longer what
 * /proc/PID/exe points to. The copy costs one sendfile(2) of the binary and one execve(2)
 * per start, of the loaded segments only; a process already running from a sealed copy
 * skips it, so the check is a single fcntl(2) for nested callers.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ctr/cloned-binary.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* Linux 6.3: asked for where vm.memfd_noexec is set */
#endif

#define CLONED_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
/* guards against a re-exec loop should the copy not look sealed after all */
#define CLONED_ENV "_CABIN_CLONED_BINARY"

extern char **environ;

static int is_sealed_copy(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);

	return seals >= 0 && (seals & CLONED_SEALS) == CLONED_SEALS;
}

/*
 * How much of the file execve(2) needs: up to the end of the last segment. What follows
 * is the section headers and, in a build with -g, debug information, several times the
 * size of the code; nothing of it is loaded. Copying only the segments (and dropping the
 * section header table from the copy's ELF header) makes the copy that much cheaper.
 * Return: the length to copy, or 0 to copy the whole file.
 */
static off_t loaded_size(int exe, off_t size, Elf64_Ehdr *eh)
{
	off_t end = 0;

	if (pread(exe, eh, sizeof(*eh), 0) != (ssize_t)sizeof(*eh) ||
	    memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 || eh->e_phnum > 64)
		return 0;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		off_t pos = (off_t)eh->e_phoff + (off_t)(i * sizeof(ph));

		if (pread(exe, &ph, sizeof(ph), pos) != (ssize_t)sizeof(ph))
			return 0;
		if ((off_t)(ph.p_offset + ph.p_filesz) > end)
			end = (off_t)(ph.p_offset + ph.p_filesz);
	}
	end = end > (off_t)(eh->e_phoff + eh->e_phnum * sizeof(Elf64_Phdr))
		      ? end
		      : (off_t)(eh->e_phoff + eh->e_phnum * sizeof(Elf64_Phdr));
	if (end <= (off_t)sizeof(*eh) || end >= size)
		return 0;
	eh->e_shoff = 0;
	eh->e_shnum = 0;
	eh->e_shstrndx = SHN_UNDEF;
	return end;
}

static int make_copy(int exe, struct cabin_err **err)
{
	cleanup_close int mfd = -1;
	struct stat sb;
	Elf64_Ehdr eh;
	off_t off = 0, len;

	mfd = memfd_create("cabin", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (mfd < 0 && errno == EINVAL) /* before Linux 6.3 */
		mfd = memfd_create("cabin", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return cabin_err_make(err, errno, "memfd_create");
	if (fstat(exe, &sb) < 0)
		return cabin_err_make(err, errno, "stat /proc/self/exe");
	len = loaded_size(exe, sb.st_size, &eh);
	if (!len)
		len = sb.st_size;
	while (off < len) {
		ssize_t n = sendfile(mfd, exe, &off, (size_t)(len - off));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return cabin_err_make(err, n < 0 ? errno : EIO, "copy /proc/self/exe");
	}
	if (len < sb.st_size && pwrite(mfd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh))
		return cabin_err_make(err, errno, "copy /proc/self/exe");
	if (fcntl(mfd, F_ADD_SEALS, CLONED_SEALS) < 0)
		return cabin_err_make(err, errno, "seal the copy of /proc/self/exe");
	return steal_fd(&mfd);
}

/* Our own argv, as the kernel holds it: NUL-separated in /proc/self/cmdline. */
static char **self_argv(char **buf)
{
	struct cabin_err *e = NULL;
	size_t len = 0, n = 0, i = 0, k;
	char **argv;

	if (fs_read_file("/proc/self/cmdline", 1 << 20, buf, &len, &e) < 0 || !len) {
		cabin_err_release(&e);
		return NULL;
	}
	for (k = 0; k < len; k++)
		n += !(*buf)[k];
	argv = xcalloc(n + 2, sizeof(*argv));
	for (k = 0; k < len && i <= n; k += strlen(*buf + k) + 1)
		argv[i++] = *buf + k;
	return argv;
}

int ctr_cloned_binary_ensure(struct cabin_err **err)
{
	cleanup_close int exe = -1, copy = -1;
	cleanup_free char *cmdline = NULL;
	cleanup_free char **argv = NULL;
	int looped = getenv(CLONED_ENV) != NULL;

	exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (exe < 0)
		return cabin_err_make(err, errno, "open /proc/self/exe");
	if (is_sealed_copy(exe)) {
		unsetenv(CLONED_ENV);
		return 0;
	}
	if (looped)
		return cabin_err_make(err, 0,
				      "running from a copy of the binary that is not sealed");
	copy = make_copy(exe, err);
	if (copy < 0)
		return cabin_err_wrap(err, "protect the runtime binary (CVE-2019-5736)");
	close(steal_fd(&exe));
	argv = self_argv(&cmdline);
	if (!argv)
		return cabin_err_make(err, errno, "read /proc/self/cmdline");
	setenv(CLONED_ENV, "1", 1);
	/* argv[0] and the environment are kept: callers (podman, containerd) see no change */
	syscall(SYS_execveat, copy, "", argv, environ, AT_EMPTY_PATH);
	unsetenv(CLONED_ENV);
	return cabin_err_make(err, errno, "re-execute the sealed copy of the runtime binary");
}
