/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * init - PID 1 of a cabin microVM, built static and placed at /init of the
 * initramfs by vm_initrd_build().
 *
 *   1. mounts /proc, /sys, /dev (devtmpfs), /dev/pts, /tmp and /run;
 *   2. loads the kernel modules listed in /lib/modules/<release>/cabin.load
 *      (dependency order, written by vm_initrd_build()) with finit_module(2),
 *      or, without that list, every .ko below /lib/modules/<release> in
 *      repeated passes until no more load; modules already present (built in
 *      or loaded) are skipped;
 *   3. runs the command it was given: `cabin.cmd=BASE64` on the kernel command
 *      line, the base64 of the arguments each followed by a NUL byte (what
 *      `cabin vm run -- CMD...` passes: any bytes survive, and the kernel never
 *      hands a dotted parameter to init), else the words after `--`, which the
 *      kernel passes to init as its last arguments (a double-quoted word may
 *      hold spaces); without either it runs /bin/sh when present;
 *   4. reaps every child (it is the reaper of orphans) until the command ends;
 *   5. reports the command's status (exit code, or 128 + signal number) to the
 *      VMM by writing it to I/O port 0x501, which ends the VM with that status;
 *   6. powers off (or, where the kernel cannot, reboots: run with reboot=k or
 *      reboot=t and the VMM treats the reset as the end).
 *
 * `cabin.debug` on the kernel command line makes init say what it does.
 * Standalone: libc only, no cabin library, since it runs inside the guest.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_PORT 0x501
#define LOAD_LIST "cabin.load"
#define MAX_MODULE_PASSES 8

static bool debug;

__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
	va_list ap;

	fputs("cabin-init: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

#define dbg(...)                                                                                   \
	do {                                                                                       \
		if (debug)                                                                         \
			say(__VA_ARGS__);                                                          \
	} while (0)

static void mount_one(const char *src, const char *dst, const char *type, unsigned long flags,
		      const char *data)
{
	if (mkdir(dst, 0755) < 0 && errno != EEXIST)
		say("mkdir `%s`: %s", dst, strerror(errno));
	if (mount(src, dst, type, flags, data) < 0 && errno != EBUSY)
		say("mount `%s` on `%s`: %s", type, dst, strerror(errno));
}

static void mount_all(void)
{
	mount_one("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_one("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_one("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	mount_one("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "ptmxmode=0666");
	mount_one("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	mount_one("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
}

/*
 * The kernel opens /dev/console for init only if the initramfs has that node;
 * after mounting devtmpfs it exists, so make sure fds 0-2 are usable.
 */
static void setup_console(void)
{
	int fd;

	if (fcntl(1, F_GETFD) >= 0 && fcntl(2, F_GETFD) >= 0)
		return;
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return;
	for (int i = 0; i < 3; i++)
		if (fcntl(i, F_GETFD) < 0)
			dup2(fd, i);
	if (fd > 2)
		close(fd);
}

static char **cabin_cmd; /* argv decoded from cabin.cmd=, or NULL */

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Decode cabin.cmd's value into a NULL-terminated argv; NULL if malformed or empty. */
static char **decode_cmd(const char *b64)
{
	size_t len = strlen(b64), n = 0, argc = 0;
	unsigned char *buf = malloc(len / 4 * 3 + 4);
	uint32_t acc = 0;
	int bits = 0;
	char **argv;

	if (!buf)
		return NULL;
	for (const char *p = b64; *p && *p != '='; p++) {
		int v = b64_value(*p);

		if (v < 0) {
			free(buf);
			return NULL;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[n++] = (unsigned char)(acc >> bits);
		}
	}
	/* Every argument ends with a NUL: a missing last NUL means a truncated value. */
	if (n == 0 || buf[n - 1] != '\0') {
		free(buf);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		argc += buf[i] == '\0';
	argv = calloc(argc + 1, sizeof(*argv));
	if (!argv) {
		free(buf);
		return NULL;
	}
	for (size_t i = 0, a = 0; i < n; a++) {
		argv[a] = (char *)buf + i;
		i += strlen((char *)buf + i) + 1;
	}
	if (!argv[0][0]) {
		free(argv);
		free(buf);
		return NULL;
	}
	return argv; /* buf lives as long as the argv: init never frees it */
}

/*
 * Read the kernel command line: notes `cabin.debug` and `cabin.cmd=`, and returns
 * how many words follow `--` (-1 when there is no `--`). Words split on spaces
 * outside double quotes, as the kernel's own parser does.
 */
static int read_cmdline(void)
{
	static char buf[65536];
	ssize_t n;
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	int after = -1;
	char *p;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = buf;
	for (;;) {
		bool quoted = false;
		char *start;

		while (*p == ' ' || *p == '\n' || *p == '\t')
			p++;
		if (!*p)
			break;
		start = p;
		for (; *p; p++) {
			if (*p == '"')
				quoted = !quoted;
			else if (!quoted && (*p == ' ' || *p == '\n' || *p == '\t'))
				break;
		}
		if (*p)
			*p++ = '\0';
		if (after >= 0) {
			after++;
		} else if (!strcmp(start, "--")) {
			after = 0;
		} else if (!strcmp(start, "cabin.debug")) {
			debug = true;
		} else if (!strncmp(start, "cabin.cmd=", 10)) {
			cabin_cmd = decode_cmd(start + 10);
			if (!cabin_cmd)
				say("ignoring malformed `cabin.cmd=`");
		}
	}
	return after;
}

/* Return: 1 loaded, 0 already there, -errno on failure. */
static int load_module(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = (int)syscall(SYS_finit_module, fd, "", 0);
	if (ret < 0)
		ret = errno == EEXIST ? 0 : -errno;
	else
		ret = 1;
	close(fd);
	return ret;
}

/* Find /lib/modules/<release>: the running kernel's, else the only one there. */
static int modules_dir(char *out, size_t len)
{
	struct utsname u;
	struct stat st;
	DIR *d;
	struct dirent *e;
	int found = 0;

	if (uname(&u) == 0) {
		snprintf(out, len, "/lib/modules/%s", u.release);
		if (stat(out, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
	}
	d = opendir("/lib/modules");
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(out, len, "/lib/modules/%s", e->d_name);
		found++;
	}
	closedir(d);
	return found == 1 ? 0 : -1;
}

static unsigned int load_listed(const char *dir, FILE *list)
{
	char line[512], path[1024];
	unsigned int loaded = 0;

	while (fgets(line, sizeof(line), list)) {
		int ret;

		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, line);
		ret = load_module(path);
		if (ret > 0) {
			loaded++;
			dbg("loaded %s", line);
		} else if (ret < 0) {
			say("load module `%s`: %s", line, strerror(-ret));
		}
	}
	return loaded;
}

/* Without a list: try every .ko; a module whose dependencies are missing fails with
 * ENOENT (unknown symbol) and is retried after the others. */
struct ko_list {
	char **paths;
	size_t n, cap;
};

static void collect_ko(const char *dir, struct ko_list *l, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d || depth > 8) {
		if (d)
			closedir(d);
		return;
	}
	while ((e = readdir(d))) {
		char path[1024];
		size_t nl = strlen(e->d_name);
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			collect_ko(path, l, depth + 1);
		} else if (nl > 3 && !strcmp(e->d_name + nl - 3, ".ko")) {
			if (l->n == l->cap) {
				size_t cap = l->cap ? l->cap * 2 : 64;
				char **p = realloc(l->paths, cap * sizeof(*p));
				if (!p)
					break;
				l->paths = p;
				l->cap = cap;
			}
			l->paths[l->n] = strdup(path);
			if (l->paths[l->n])
				l->n++;
		}
	}
	closedir(d);
}

static unsigned int load_all(const char *dir)
{
	struct ko_list l = { 0 };
	unsigned int loaded = 0;
	bool progress = true;

	collect_ko(dir, &l, 0);
	for (int pass = 0; pass < MAX_MODULE_PASSES && progress; pass++) {
		progress = false;
		for (size_t i = 0; i < l.n; i++) {
			int ret;

			if (!l.paths[i])
				continue;
			ret = load_module(l.paths[i]);
			if (ret == -ENOENT || ret == -EAGAIN)
				continue; /* unresolved symbols: retry next pass */
			if (ret > 0) {
				loaded++;
				dbg("loaded %s", l.paths[i]);
			} else if (ret < 0) {
				say("load module `%s`: %s", l.paths[i], strerror(-ret));
			}
			free(l.paths[i]);
			l.paths[i] = NULL;
			progress = true;
		}
	}
	for (size_t i = 0; i < l.n; i++) {
		if (l.paths[i])
			say("load module `%s`: unresolved dependencies", l.paths[i]);
		free(l.paths[i]);
	}
	free(l.paths);
	return loaded;
}

/* `nomodule` on the kernel command line sets kernel.modules_disabled. */
static bool modules_disabled(void)
{
	char c = '0';
	int fd = open("/proc/sys/kernel/modules_disabled", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (read(fd, &c, 1) != 1)
		c = '0';
	close(fd);
	return c == '1';
}

static void load_modules(void)
{
	char dir[512], list[600];
	FILE *f;
	unsigned int n;

	if (modules_dir(dir, sizeof(dir)) < 0) {
		dbg("no /lib/modules for this kernel");
		return;
	}
	if (modules_disabled()) {
		say("not loading modules: the kernel command line has `nomodule`");
		return;
	}
	snprintf(list, sizeof(list), "%s/%s", dir, LOAD_LIST);
	f = fopen(list, "re");
	if (f) {
		n = load_listed(dir, f);
		fclose(f);
	} else {
		n = load_all(dir);
	}
	dbg("%u modules loaded from %s", n, dir);
}

/* Report @status to the VMM through the exit port; needs CAP_SYS_RAWIO (PID 1 has it). */
static void report_status(int status)
{
	if (ioperm(EXIT_PORT, 1, 1) < 0) {
		say("ioperm: %s", strerror(errno));
		return;
	}
	outb((unsigned char)status, EXIT_PORT);
}

static void power_off(void)
{
	sync();
	/*
	 * Without ACPI the kernel cannot power off: RB_POWER_OFF would just halt
	 * every CPU with interrupts off and the VM would never end. A reset does
	 * end it (reboot=k through the i8042, reboot=t by triple fault).
	 */
	if (access("/sys/firmware/acpi", F_OK) == 0)
		reboot(RB_POWER_OFF);
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}

/*
 * /dev/console cannot be a controlling terminal: give the command the tty the
 * console really is (the last of /sys/class/tty/console/active, e.g. ttyS0), so
 * a shell gets job control and ^C reaches it.
 */
static void attach_console_tty(void)
{
	char buf[256], path[300];
	char *name;
	ssize_t n;
	int fd = open("/sys/class/tty/console/active", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	name = strrchr(buf, ' ');
	name = name ? name + 1 : buf;
	if (!name[0] || strchr(name, '/'))
		return;
	snprintf(path, sizeof(path), "/dev/%s", name);
	fd = open(path, O_RDWR);
	if (fd < 0)
		return;
	for (int i = 0; i < 3; i++)
		dup2(fd, i);
	if (fd > 2)
		close(fd);
	ioctl(0, TIOCSCTTY, 0);
}

/* Bring up the loopback interface: programs expect 127.0.0.1 to work. */
static void loopback_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, "lo", 3);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			dbg("loopback: %s", strerror(errno));
	}
	close(fd);
}

static pid_t spawn(char **argv)
{
	pid_t pid = fork();

	if (pid < 0) {
		say("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sigset_t all;

		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		/* A session with the console's tty as controlling terminal, for shells and ^C. */
		setsid();
		attach_console_tty();
		execvp(argv[0], argv);
		say("exec `%s`: %s", argv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	return pid;
}

/* Wait for @pid while reaping every other child; return its shell-style status. */
static int wait_main(pid_t pid)
{
	for (;;) {
		int st;
		pid_t w = waitpid(-1, &st, 0);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			say("waitpid: %s", strerror(errno));
			return 255;
		}
		if (w != pid)
			continue;
		if (WIFEXITED(st))
			return WEXITSTATUS(st);
		if (WIFSIGNALED(st))
			return 128 + WTERMSIG(st);
	}
}

/* Ask the remaining processes to stop, then reap them, so file systems are quiet. */
static void stop_everything(void)
{
	kill(-1, SIGTERM);
	for (int i = 0; i < 20; i++) {
		if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
			return;
		usleep(10000);
	}
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		;
}

int main(int argc, char **argv)
{
	static char sh[] = "/bin/sh";
	static char *shell[] = { sh, NULL };
	char **cmd;
	pid_t pid;
	int status, words;

	if (getpid() != 1) {
		fprintf(stderr, "cabin-init: must run as PID 1 of a microVM\n");
		return 2;
	}
	setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
	if (!getenv("HOME"))
		setenv("HOME", "/root", 1);
	if (!getenv("TERM"))
		setenv("TERM", "linux", 1);
	mount_all();
	setup_console();
	words = read_cmdline();
	load_modules();
	sethostname("cabin", 5);
	loopback_up();

	/*
	 * The kernel passes init the words after `--`, but before them any word it
	 * does not know that has no `=` and no `.` (e.g. `single`): take the last
	 * @words arguments only.
	 */
	if (words > argc - 1)
		words = argc - 1;
	cmd = argv + argc - (words > 0 ? words : 0);
	if (cabin_cmd) {
		cmd = cabin_cmd;
	} else if (words <= 0) {
		if (access(shell[0], X_OK) < 0) {
			say("no command given (put it after `--` on the kernel command line) "
			    "and no /bin/sh");
			report_status(0);
			power_off();
		}
		cmd = shell;
	}
	dbg("running `%s`", cmd[0]);
	pid = spawn(cmd);
	status = pid < 0 ? 126 : wait_main(pid);
	dbg("`%s` exited with status %d", cmd[0], status);
	stop_everything();
	sync();
	report_status(status);
	power_off();
	return 0;
}
