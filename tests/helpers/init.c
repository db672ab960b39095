/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * init - a static payload for container (and guest) tests: one binary, no libraries, so
 * a rootfs is just this file. Each subcommand prints one fact about its environment.
 *   init echo ARGS...    init cat FILE...   init hostname   init domainname
 *   init id              init caps          init cwd        init env [NAME]
 *   init sleep SECONDS   init exit N        init ls DIR     init pid
 *   init umask           init mounts        init write FILE TEXT   init kill-self SIG
 *   init ns NAME         init stat PATH     init fds        init tty   init winsize   init rlimit
 *   init vsock-connect CID PORT MSG   connect, send MSG and a newline, print the line answered
 *   init vsock-serve PORT MSG         accept one connection, print the line received, answer MSG
 *                                     (says on stderr when it listens)
 *   init noopenat2 CMD ARGS...        run CMD with openat2(2) failing with ENOSYS, as on kernels
 *                                     before 5.6 (a seccomp filter, inherited by all it starts)
 *   init noclone3 CMD ARGS...         the same with clone3(2), as before 5.3
 *   init nounshare CMD ARGS...        the same with unshare(2)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/audit.h>
#include <linux/vm_sockets.h>
#include <stddef.h>
#include <sys/prctl.h>

extern char **environ;

static int cat(const char *path)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		fprintf(stderr, "init: open %s: %s\n", path, strerror(errno));
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(1, buf, (size_t)n) != n)
			return 1;
	close(fd);
	return n < 0;
}

static void status_line(const char *key)
{
	char buf[8192];
	int fd = open("/proc/self/status", O_RDONLY);
	ssize_t n;
	char *p;

	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (p = strtok(buf, "\n"); p; p = strtok(NULL, "\n"))
		if (!strncmp(p, key, strlen(key)))
			puts(p);
}

static void on_signal(int sig)
{
	_exit(100 + sig);
}

/* One line from @fd (without its newline) into @buf; -1 on error, EOF or timeout. */
static int read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;

	while (n + 1 < len) {
		ssize_t r = read(fd, buf + n, 1);

		if (r <= 0)
			return -1;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return 0;
}

/* Send @msg and a newline; a 30 s receive timeout so a lost peer ends the test. */
static int vsock_talk(int fd, const char *msg, int answer_first)
{
	struct timeval tv = { .tv_sec = 30 };
	char line[4096];
	size_t l = strlen(msg);

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (answer_first) {
		if (read_line(fd, line, sizeof(line)) < 0) {
			fprintf(stderr, "init: vsock read: %s\n", strerror(errno));
			return 1;
		}
		puts(line);
	}
	if (write(fd, msg, l) != (ssize_t)l || write(fd, "\n", 1) != 1) {
		fprintf(stderr, "init: vsock write: %s\n", strerror(errno));
		return 1;
	}
	if (!answer_first) {
		if (read_line(fd, line, sizeof(line)) < 0) {
			fprintf(stderr, "init: vsock read: %s\n", strerror(errno));
			return 1;
		}
		puts(line);
	}
	return 0;
}

static int vsock_connect(const char *cid, const char *port, const char *msg)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK };
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);

	a.svm_cid = (unsigned int)strtoul(cid, NULL, 0);
	a.svm_port = (unsigned int)strtoul(port, NULL, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, "init: vsock connect %s:%s: %s\n", cid, port, strerror(errno));
		return 1;
	}
	return vsock_talk(fd, msg, 0);
}

static int vsock_serve(const char *port, const char *msg)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY };
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0), c;

	a.svm_port = (unsigned int)strtoul(port, NULL, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1) < 0) {
		fprintf(stderr, "init: vsock listen %s: %s\n", port, strerror(errno));
		return 1;
	}
	/* On stderr: the caller captures stdout, the peer waits for this line. */
	fprintf(stderr, "listening on vsock port %s\n", port);
	c = accept(fd, NULL, NULL);
	if (c < 0) {
		fprintf(stderr, "init: vsock accept: %s\n", strerror(errno));
		return 1;
	}
	return vsock_talk(c, msg, 1);
}

/* syscall @nr -> ENOSYS for this process and everything it starts (x86-64 ABI only) */
static int no_syscall(unsigned nr)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	/* root has CAP_SYS_ADMIN: no need for no_new_privs, which would change what runs */
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "echo";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "echo")) {
		for (int i = 2; i < argc; i++)
			printf("%s%s", argv[i], i + 1 < argc ? " " : "");
		putchar('\n');
	} else if (!strcmp(cmd, "cat")) {
		for (int i = 2; i < argc; i++)
			if (cat(argv[i]))
				return 1;
	} else if (!strcmp(cmd, "hostname") || !strcmp(cmd, "domainname")) {
		struct utsname u;

		uname(&u);
		puts(cmd[0] == 'h' ? u.nodename : u.domainname);
	} else if (!strcmp(cmd, "id")) {
		gid_t groups[64];
		int n = getgroups(64, groups);

		printf("uid=%u gid=%u euid=%u egid=%u groups=", getuid(), getgid(), geteuid(),
		       getegid());
		for (int i = 0; i < n; i++)
			printf("%s%u", i ? "," : "", groups[i]);
		putchar('\n');
	} else if (!strcmp(cmd, "caps")) {
		status_line("Cap");
		status_line("NoNewPrivs");
		status_line("Seccomp:");
	} else if (!strcmp(cmd, "cwd")) {
		char buf[4096];

		puts(getcwd(buf, sizeof(buf)) ? buf : "?");
	} else if (!strcmp(cmd, "env")) {
		if (argc > 2) {
			const char *v = getenv(argv[2]);

			if (!v)
				return 1;
			puts(v);
		} else {
			for (char **e = environ; *e; e++)
				puts(*e);
		}
	} else if (!strcmp(cmd, "pid")) {
		printf("%d %d\n", getpid(), getppid());
	} else if (!strcmp(cmd, "sleep")) {
		unsigned s = argc > 2 ? (unsigned)atoi(argv[2]) : 1000000;

		while (s)
			s = sleep(s);
	} else if (!strcmp(cmd, "exit")) {
		return argc > 2 ? atoi(argv[2]) : 0;
	} else if (!strcmp(cmd, "trap")) {
		/*
		 * exit 100+N on signal N: shows that signals reach the process. `trap MS` waits
		 * MS milliseconds first, as a shell does before it reaches its `trap` line.
		 */
		struct sigaction sa = { .sa_handler = on_signal };

		if (argc > 2)
			usleep((useconds_t)atoi(argv[2]) * 1000);
		for (int sig = 1; sig < 32; sig++)
			if (sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD)
				sigaction(sig, &sa, NULL);
		puts("ready");
		for (;;)
			pause();
	} else if (!strcmp(cmd, "sigwait")) {
		/* as tini and other forwarding inits: every signal blocked, taken by sigwaitinfo()
		 */
		sigset_t all;
		int sig;

		sigfillset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		puts("ready");
		fflush(stdout);
		while ((sig = sigwaitinfo(&all, NULL)) == SIGCHLD || sig < 0)
			;
		return 100 + sig;
	} else if (!strcmp(cmd, "kill-self")) {
		kill(getpid(), argc > 2 ? atoi(argv[2]) : SIGKILL);
		pause();
	} else if (!strcmp(cmd, "ls")) {
		DIR *d = opendir(argc > 2 ? argv[2] : ".");
		struct dirent *de;

		if (!d) {
			fprintf(stderr, "init: opendir: %s\n", strerror(errno));
			return 1;
		}
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				puts(de->d_name);
		closedir(d);
	} else if (!strcmp(cmd, "umask")) {
		mode_t m = umask(0);

		printf("%04o\n", m);
	} else if (!strcmp(cmd, "mounts")) {
		return cat("/proc/self/mountinfo");
	} else if (!strcmp(cmd, "write") && argc > 3) {
		int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0 || write(fd, argv[3], strlen(argv[3])) < 0) {
			fprintf(stderr, "init: write %s: %s\n", argv[2], strerror(errno));
			return 1;
		}
		close(fd);
	} else if (!strcmp(cmd, "ns") && argc > 2) {
		char path[256], buf[256];
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/ns/%s", argv[2]);
		n = readlink(path, buf, sizeof(buf) - 1);
		if (n < 0)
			return 1;
		buf[n] = '\0';
		puts(buf);
	} else if (!strcmp(cmd, "stat") && argc > 2) {
		struct stat sb;

		if (lstat(argv[2], &sb) < 0) {
			printf("%s: %s\n", argv[2], strerror(errno));
			return 1;
		}
		printf("mode=%o uid=%u gid=%u rdev=%u:%u\n", sb.st_mode, sb.st_uid, sb.st_gid,
		       major(sb.st_rdev), minor(sb.st_rdev));
	} else if (!strcmp(cmd, "fds")) {
		DIR *d = opendir("/proc/self/fd");
		struct dirent *de;
		int n = 0;

		while (d && (de = readdir(d)))
			n += de->d_name[0] != '.';
		if (d)
			closedir(d);
		printf("%d\n", n - 1);
	} else if (!strcmp(cmd, "tty")) {
		char *t = ttyname(0);

		puts(t ? t : "not a tty");
		return !t;
	} else if (!strcmp(cmd, "winsize")) {
		struct winsize ws;

		if (ioctl(0, TIOCGWINSZ, &ws) < 0)
			return 1;
		printf("%u %u\n", ws.ws_row, ws.ws_col);
	} else if (!strcmp(cmd, "syscall") && argc > 2) {
		/* a raw syscall without arguments: what a seccomp filter answers */
		long r = syscall(atol(argv[2]), 0, 0, 0, 0, 0, 0);

		printf("%ld %s\n", r, r < 0 ? strerror(errno) : "ok");
#if defined(__x86_64__)
	} else if (!strcmp(cmd, "syscall32") && argc > 2) {
		/* the same through int 0x80: the i386 ABI (AUDIT_ARCH_I386 for seccomp) */
		long r = atol(argv[2]);

		__asm__ volatile("int $0x80" : "+a"(r) : "b"(0), "c"(0), "d"(0) : "memory");
		printf("%ld %s\n", r, r < 0 && r > -4096 ? strerror((int)-r) : "ok");
#endif
	} else if (!strcmp(cmd, "waitpath") && argc > 2) {
		/* exit 0 as soon as PATH exists (spins: tests use it to hit short windows) */
		struct timespec t0, t;
		struct stat sb;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		while (stat(argv[2], &sb) < 0) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			if (t.tv_sec - t0.tv_sec > 5)
				return 1;
		}
	} else if ((!strcmp(cmd, "noopenat2") || !strcmp(cmd, "noclone3") ||
		    !strcmp(cmd, "nounshare")) &&
		   argc > 2) {
		unsigned nr = cmd[2] == 'o'   ? 437 /* openat2 */
			      : cmd[2] == 'c' ? 435 /* clone3 */
					      : 272 /* unshare */;

		if (no_syscall(nr) < 0) {
			perror("seccomp");
			return 1;
		}
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		return 127;
	} else if (!strcmp(cmd, "rlimit")) {
		struct rlimit rl;

		getrlimit(RLIMIT_NOFILE, &rl);
		printf("%llu %llu\n", (unsigned long long)rl.rlim_cur,
		       (unsigned long long)rl.rlim_max);
	} else if (!strcmp(cmd, "vsock-connect") && argc > 4) {
		return vsock_connect(argv[2], argv[3], argv[4]);
	} else if (!strcmp(cmd, "vsock-serve") && argc > 3) {
		return vsock_serve(argv[2], argv[3]);
	} else {
		fprintf(stderr, "init: unknown command %s\n", cmd);
		return 2;
	}
	return 0;
}
