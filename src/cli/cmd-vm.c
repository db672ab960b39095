/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `cabin vm`: run a microVM and talk to running ones.
 *   vm run [options] [-- COMMAND...]   boot, connect the console, exit with the guest's status
 *   vm initrd [-o FILE] [--module M]... build cabin's initramfs
 *   vm ls | stop NAME | pause NAME | resume NAME   thin clients of the control socket
 */
#include <ctype.h>
#include <fcntl.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "hw/edu.h"
#include "hw/intel-iommu.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xalloc.h"
#include "virtio/virtio.h"
#include "vm/accel.h"
#include "vm/initrd.h"
#include "vm/ctl.h"
#include "vm/machine.h"
#include "vm/x86/builtin-guest.h"

/*
 * The software CPU may not be linked in: test for it at run time. (A weak
 * reference alone does not pull an archive member in; src/emu makes sure it is.)
 */
#pragma weak emu_accel_ops

/* Firecracker's guest command line conventions; pci=off unless a PCI device is asked for. */
#define VM_DEFAULT_CMDLINE                                                                         \
	"console=ttyS0 reboot=k panic=1 pci=off 8250.nr_uarts=1 i8042.noaux "                      \
	"i8042.nomux i8042.dumbkbd"
#define VM_DEFAULT_CMDLINE_PCI                                                                     \
	"console=ttyS0 reboot=k panic=1 8250.nr_uarts=1 i8042.noaux i8042.nomux i8042.dumbkbd"

#define VM_MAX_DISKS 8

struct vm_run_opts {
	const char *kernel, *initrd, *cmdline, *firmware, *accel, *name, *dump_regs;
	const char *net_tap, *vsock, *hvc;
	int hvc_in, hvc_out; /* --hvc: the virtio-console's fds, opened by vm_run() */
	const char *disks[VM_MAX_DISKS];
	unsigned int nr_disks;
	int rng;
	int edu;   /* --device edu */
	int iommu; /* --iommu intel */
	int debug_exit;
	uint16_t debug_exit_port;
	unsigned int cpus;
	uint64_t mem;
	int mem_given;
	char **cmd; /* after `--` */
	int nr_cmd;
};

/*
 * Where control sockets live: ROOT/vm. main.c defaults the root of an unprivileged
 * user who did not pass --root to $XDG_RUNTIME_DIR/cabin, since /run/cabin is not
 * theirs (clients compute the same path, so `vm ls` finds their VMs).
 */
static char *ctl_dir(void)
{
	return xasprintf("%s/vm", cabin_globals.root);
}

/**
 * parse_size() - "128M", "1G", "65536K", "2T"; a bare number is MiB (as QEMU's -m).
 */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned int shift = 20;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'K':
			shift = 10;
			break;
		case 'M':
			shift = 20;
			break;
		case 'G':
			shift = 30;
			break;
		case 'T':
			shift = 40;
			break;
		default:
			return -EINVAL;
		}
		end++;
		if (toupper((unsigned char)*end) == 'I')
			end++;
		if (toupper((unsigned char)*end) == 'B')
			end++;
		if (*end)
			return -EINVAL;
	}
	if (v == 0 || v > (~0ULL >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

static int pick_accel(const char *want, const struct accel_ops **out, int *hw,
		      struct cabin_err **err)
{
	char why[256] = "";
	const struct accel_ops *emu = &emu_accel_ops ? &emu_accel_ops : NULL;
	int kvm = kvm_accel_ops.probe(why, sizeof(why));

	*hw = kvm == 1;
	if (!strcmp(want, "kvm")) {
		if (kvm < 0)
			return cabin_err_make(err, ENODEV, "--accel kvm: %s", why);
		*out = &kvm_accel_ops;
		return 0;
	}
	if (!strcmp(want, "emu")) {
		if (!emu)
			return cabin_err_make(err, ENOSYS,
					      "--accel emu: the software CPU is not built into "
					      "this cabin");
		*out = emu;
		return 0;
	}
	if (strcmp(want, "auto"))
		return cabin_err_make(err, 0, "--accel must be kvm, emu or auto, not `%s`", want);
	if (kvm == 1) {
		fprintf(stderr, "cabin: accelerator kvm (%s)\n", why);
		*out = &kvm_accel_ops;
	} else if (emu) {
		fprintf(stderr, "cabin: accelerator emu (kvm: %s)\n", why);
		*out = emu;
	} else if (kvm == 0) {
		fprintf(stderr,
			"cabin: accelerator kvm, although %s; the software CPU is not built in\n",
			why);
		*out = &kvm_accel_ops;
	} else {
		return cabin_err_make(err, ENODEV, "no accelerator: kvm: %s; emu not built in",
				      why);
	}
	return 0;
}

/*
 * The guest command travels after `--` on the kernel command line: Linux hands
 * every word after it to init as arguments (cabin's init runs them). Words
 * with blanks are double-quoted, which the kernel's parser strips; a double
 * quote itself cannot be expressed there and is refused.
 */
static int cmd_fragment(char **argv, int argc, char **out, struct cabin_err **err)
{
	size_t cap = 64, n = 0;
	char *s = xmalloc(cap);

	memcpy(s, "--", 3);
	n = 2;
	for (int i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]);
		int quote = !l || strpbrk(argv[i], " \t\n\r\v\f") != NULL;

		if (strchr(argv[i], '"')) {
			free(s);
			return cabin_err_make(
				err, 0,
				"guest command argument `%s` has a double quote, which "
				"the kernel command line cannot carry",
				argv[i]);
		}
		while (n + l + 4 > cap) {
			cap *= 2;
			s = xrealloc(s, cap);
		}
		s[n++] = ' ';
		if (quote)
			s[n++] = '"';
		memcpy(s + n, argv[i], l);
		n += l;
		if (quote)
			s[n++] = '"';
		s[n] = 0;
	}
	*out = s;
	return 0;
}

/*
 * --disk PATH[,ro|,rw]: only the last comma can start an option, so a path
 * may hold commas; a last part that looks like an option word (letters only)
 * but is not ro or rw is refused rather than read as part of the path.
 */
static int check_disk_opts(const char *arg, struct cabin_err **err)
{
	const char *comma = strrchr(arg, ',');

	if (!comma || !strcmp(comma, ",ro") || !strcmp(comma, ",rw"))
		return 0;
	for (const char *p = comma + 1; *p; p++)
		if (!isalpha((unsigned char)*p))
			return 0;
	return cabin_err_make(err, 0, "--disk `%s`: unknown option `%s` (use `ro` or `rw`)", arg,
			      comma + 1);
}

/* The machine's virtio phase: disks in order (vda, vdb, ...), then net, vsock, rng. */
static int attach_devices(struct machine *m, void *opaque, struct cabin_err **err)
{
	const struct vm_run_opts *o = opaque;
	int ret;

	for (unsigned int i = 0; i < o->nr_disks; i++) {
		cleanup_free char *path = xstrdup(o->disks[i]);
		char *comma = strrchr(path, ',');
		int ro = 0;

		if (comma && !strcmp(comma, ",ro")) {
			*comma = 0;
			ro = 1;
		} else if (comma && !strcmp(comma, ",rw")) {
			*comma = 0;
		}
		ret = virtio_blk_attach(m, path, ro, err);
		if (ret < 0)
			return cabin_err_wrap(err, "--disk `%s`", o->disks[i]);
	}
	if (o->net_tap) {
		ret = virtio_net_attach(m, o->net_tap, NULL, err);
		if (ret < 0)
			return cabin_err_wrap(err, "--net tap=`%s`", o->net_tap);
	}
	if (o->vsock) {
		cleanup_free char *spec = xstrdup(o->vsock);
		char *comma = strchr(spec, ','), *end;
		unsigned long cid;

		*comma = 0;
		errno = 0;
		cid = strtoul(spec, &end, 10);
		if (errno || *end || !*spec || cid < 3 || cid > 0xfffffffful || !comma[1])
			return cabin_err_make(err, 0,
					      "--vsock `%s`: need CID (>= 3) and a socket path",
					      o->vsock);
		ret = virtio_vsock_attach(m, (uint32_t)cid, comma + 1, err);
		if (ret < 0)
			return cabin_err_wrap(err, "--vsock `%s`", o->vsock);
	}
	if (o->rng) {
		ret = virtio_rng_attach(m, err);
		if (ret < 0)
			return cabin_err_wrap(err, "--rng");
	}
	if (o->hvc) {
		ret = virtio_console_attach(m, o->hvc_in, o->hvc_out, err);
		if (ret < 0)
			return cabin_err_wrap(err, "--hvc `%s`", o->hvc);
	}
	if (o->edu) {
		ret = hw_edu_attach(m, err);
		if (ret < 0)
			return cabin_err_wrap(err, "--device edu");
	}
	return 0;
}

/*
 * --hvc PATH: what the guest's hvc0 (a virtio-console) is connected to. A unix
 * socket is connected to and carries both directions; a terminal, FIFO or
 * character device is opened read-write; anything else is a file that receives
 * the guest's output (created or truncated) and gives no input.
 */
static int open_hvc(struct vm_run_opts *o, struct cabin_err **err)
{
	struct stat st;
	int fd;

	o->hvc_in = o->hvc_out = -1;
	if (stat(o->hvc, &st) == 0 && S_ISSOCK(st.st_mode)) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		if (strlen(o->hvc) >= sizeof(sa.sun_path))
			return cabin_err_make(err, ENAMETOOLONG, "--hvc `%s`: socket path too long",
					      o->hvc);
		memcpy(sa.sun_path, o->hvc, strlen(o->hvc) + 1);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return cabin_err_make(err, errno, "--hvc `%s`: socket", o->hvc);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			int e = errno;

			close(fd);
			return cabin_err_make(err, e, "--hvc: connect to `%s`", o->hvc);
		}
		o->hvc_in = o->hvc_out = fd;
		return 0;
	}
	if (stat(o->hvc, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
		fd = open(o->hvc, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd < 0)
			return cabin_err_make(err, errno, "--hvc: open `%s`", o->hvc);
		o->hvc_in = o->hvc_out = fd;
		return 0;
	}
	fd = open(o->hvc, O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY | O_CLOEXEC, 0644);
	if (fd < 0)
		return cabin_err_make(err, errno, "--hvc: create `%s`", o->hvc);
	o->hvc_out = fd;
	return 0;
}

static void close_hvc(struct vm_run_opts *o)
{
	if (o->hvc_out >= 0)
		close(o->hvc_out);
	o->hvc_in = o->hvc_out = -1;
}

static void run_usage(FILE *f)
{
	fprintf(f,
		"usage: cabin vm run [--kernel FILE [--initrd FILE] [--cmdline STR] | --firmware "
		"FILE]\n"
		"                    [--cpus N] [--memory SIZE] [--disk PATH[,ro|,rw]]... [--net "
		"tap=NAME]\n"
		"                    [--vsock CID,SOCKET] [--rng] [--hvc PATH] [--accel "
		"kvm|emu|auto]\n"
		"                    [--name NAME]"
		" [--dump-regs FILE] [--debug-exit PORT] [--device edu]\n"
		"                    [--iommu intel] [-- COMMAND...]\n"
		"Boots a microVM with its console on this terminal and exits with the guest's "
		"status.\n"
		"--memory takes K, M, G suffixes (default 128M; a bare number is MiB). --firmware\n"
		"loads a raw image of at most 256 KiB ending at 1 MiB and starts the CPU at\n"
		"F000:FFF0 in real mode (like QEMU -bios). --kernel takes a bzImage, an ELF\n"
		"vmlinux (64-bit or PVH entry) or a Multiboot v1 kernel. --debug-exit PORT adds\n"
		"QEMU's isa-debug-exit at PORT and pc-testdev, as kvm-unit-tests expects.\n"
		"--device edu adds a PCI host bridge (ports 0xcf8/0xcfc) with QEMU's edu\n"
		"test device (1234:11e8: DMA engine, INTx on GSI %d, MSI). --iommu intel\n"
		"adds an Intel VT-d unit at 0x%llx through which PCI DMA and MSIs pass: DMA\n"
		"remapping, queued invalidation, and interrupt remapping of MSIs and IOAPIC\n"
		"entries (not with --accel kvm, whose in-kernel IOAPIC cannot remap). With\n"
		"either, a Linux guest's default command line leaves out pci=off.\n"
		"--hvc PATH adds a virtio-console, the guest's hvc0: a unix socket at PATH is\n"
		"connected to (both ways), a terminal or FIFO is opened read-write, any other\n"
		"PATH is a file that receives hvc0's output.\n"
		"With --accel emu on an x86-64 host, decoded guest code runs as generated host\n"
		"code; CABIN_EMU_JIT=off keeps to the portable interpreter, "
		"CABIN_EMU_JIT_CACHE=SIZE\n"
		"(K, M suffixes; default 16M) bounds the code cache of each vCPU.\n"
		"Exit status:\n"
		"  N         the guest wrote N to port 0x501 (255 for values above 255)\n"
		"  2V+1      the guest wrote V to the --debug-exit port (low 8 bits)\n"
		"  0         the guest powered off or asked for a reset\n"
		"  %3d       a triple fault\n"
		"  %3d       every vCPU halted with nothing left to wake it\n"
		"  %3d       stopped by `cabin vm stop`\n"
		"  128+SIG   ended by signal SIG\n"
		"  1         cabin could not run the VM (or the accelerator failed)\n"
		"All but the first three also print one line on stderr naming the cause.\n",
		MACHINE_PCI_INTX_GSI, (unsigned long long)HW_VTD_BASE, MACHINE_EXIT_TRIPLE_FAULT,
		MACHINE_EXIT_HALTED, MACHINE_EXIT_STOPPED);
}

/* Directory of the running cabin binary: the build tree or the install prefix's bin/. */
static char *exe_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	char *slash;

	if (n <= 0)
		return xstrdup(".");
	buf[n] = 0;
	slash = strrchr(buf, '/');
	if (slash)
		*slash = 0;
	return xstrdup(buf);
}

/* $ENV when set, else the first readable path relative to the binary's directory. */
static char *find_file(const char *env, const char *const *rel)
{
	cleanup_free char *dir = exe_dir();
	const char *e = getenv(env);

	if (e && *e)
		return xstrdup(e);
	for (size_t i = 0; rel[i]; i++) {
		char *p = xasprintf("%s/%s", dir, rel[i]);

		if (access(p, R_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

/* cabin's static guest init: $CABIN_GUEST_INIT, the build tree, or lib/cabin of the prefix. */
static char *find_guest_init(void)
{
	static const char *const rel[] = { "src/guest/init", "../lib/cabin/init", NULL };

	return find_file("CABIN_GUEST_INIT", rel);
}

/*
 * The default guest kernel: Debian's cloud kernel, fetched through apt by
 * fetch-kernel.sh, which prints the bzImage and its modules directory.
 */
static int default_kernel(char **kernel, char **modules, struct cabin_err **err)
{
	static const char *const rel[] = { "scripts/fetch-kernel.sh",
					   "../share/cabin/fetch-kernel.sh", NULL };
	cleanup_free char *script = find_file("CABIN_FETCH_KERNEL", rel);
	cleanup_free char *cmd = NULL;
	char line1[PATH_MAX], line2[PATH_MAX];
	FILE *f;
	int ok, status;

	if (!script)
		return cabin_err_make(err, ENOENT,
				      "no --kernel, and no `fetch-kernel.sh` next to cabin to get "
				      "the default one");
	if (strchr(script, '\''))
		return cabin_err_make(err, 0, "unusable script path `%s`", script);
	cmd = xasprintf("'%s'", script);
	f = popen(cmd, "re");
	if (!f)
		return cabin_err_make(err, errno, "run `%s`", script);
	ok = fgets(line1, sizeof(line1), f) && fgets(line2, sizeof(line2), f);
	status = pclose(f);
	if (!ok || status != 0)
		return cabin_err_make(err, 0, "`%s` could not fetch the default kernel", script);
	line1[strcspn(line1, "\n")] = 0;
	line2[strcspn(line2, "\n")] = 0;
	*kernel = xstrdup(line1);
	*modules = xstrdup(line2);
	return 0;
}

/* cabin's initramfs for @modules_dir at @out; /bin/busybox goes in when the host has it. */
static int build_initrd(const char *out, const char *init, const char *modules_dir,
			char *const *extra, struct cabin_err **err)
{
	static char busybox[] = "/bin/busybox";
	char *const with_busybox[] = { busybox, NULL };
	cleanup_free char *init_path = init ? xstrdup(init) : find_guest_init();

	if (!init_path)
		return cabin_err_make(err, ENOENT,
				      "cabin's guest init not found (build it with `make`, or set "
				      "CABIN_GUEST_INIT)");
	if (!extra && access(busybox, X_OK) == 0)
		extra = with_busybox;
	return vm_initrd_build(out, init_path, modules_dir, extra, err);
}

struct term_state {
	int saved;
	struct termios tio;
};

static void term_raw(struct term_state *t)
{
	struct termios raw;

	t->saved = 0;
	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &t->tio) < 0)
		return;
	raw = t->tio;
	cfmakeraw(&raw);
	/* Keep ISIG: ^C still stops the VM (the control thread turns it into a stop). */
	raw.c_lflag |= ISIG;
	raw.c_oflag |= OPOST | ONLCR;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
		t->saved = 1;
}

static void term_restore(struct term_state *t)
{
	if (t->saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &t->tio);
	t->saved = 0;
}

static int vm_run(struct vm_run_opts *o, struct cabin_err **err)
{
	struct machine_config cfg = { 0 };
	struct machine *m = NULL;
	struct vm_ctl *ctl = NULL;
	struct term_state term = { 0 };
	cleanup_free char *cmdline = NULL;
	cleanup_free char *tail = NULL;
	cleanup_free char *dir = NULL;
	cleanup_free char *name = NULL;
	cleanup_free char *def_kernel = NULL;
	cleanup_free char *def_mods = NULL;
	cleanup_free char *def_initrd = NULL;
	sigset_t sigs, oldsigs;
	int hw = 0, ret, status;

	ret = pick_accel(o->accel ? o->accel : "auto", &cfg.accel, &hw, err);
	if (ret < 0)
		return ret;
	if (o->kernel && o->firmware)
		return cabin_err_make(err, 0, "--kernel and --firmware exclude each other");
	if (o->firmware && (o->initrd || o->cmdline || o->nr_cmd))
		return cabin_err_make(
			err, 0, "--initrd, --cmdline and a COMMAND need a kernel, not --firmware");
	if (!o->kernel && !o->firmware &&
	    ((hw && cfg.accel->kind == ACCEL_KVM) || cfg.accel->kind == ACCEL_EMU)) {
		/*
		 * Hardware virtualization or the software CPU: boot the default Linux with
		 * cabin's initramfs (a software KVM without vmx/svm cannot run Linux).
		 */
		ret = default_kernel(&def_kernel, &def_mods, err);
		if (ret < 0)
			return cabin_err_wrap(err, "default kernel");
		if (!o->initrd) {
			def_initrd = xasprintf("%s/cabin-initrd.cpio", def_mods);
			ret = build_initrd(def_initrd, NULL, def_mods, NULL, err);
			if (ret < 0)
				return cabin_err_wrap(err, "initramfs for the default kernel");
			o->initrd = def_initrd;
		}
		fprintf(stderr, "cabin: booting the default kernel `%s`%s\n", def_kernel,
			cfg.accel->kind == ACCEL_EMU ? " on the software CPU" : "");
		o->kernel = def_kernel;
		if (!o->mem_given)
			o->mem = 256ull << 20;
	} else if (!o->kernel && !o->firmware) {
		if (o->initrd || o->cmdline || o->nr_cmd)
			return cabin_err_make(
				err, 0,
				"--initrd, --cmdline and a COMMAND need --kernel here "
				"(KVM without vmx/svm cannot boot the default kernel; "
				"--accel emu can)");
		fprintf(stderr, "cabin: KVM without hardware virtualization (vmx/svm): booting "
				"the built-in test guest; --accel emu boots Linux\n");
		cfg.firmware_data = x86_builtin_guest;
		cfg.firmware_len = (size_t)(x86_builtin_guest_end - x86_builtin_guest);
	}

	if (o->kernel) {
		/*
		 * Defaults, then the devices' virtio_mmio.device= (added by the machine),
		 * then --cmdline, so the user's words win, then `-- COMMAND`.
		 */
		cleanup_free char *cmd = NULL;

		cmdline = xstrdup(o->edu || o->iommu ? VM_DEFAULT_CMDLINE_PCI : VM_DEFAULT_CMDLINE);
		if (o->nr_cmd) {
			ret = cmd_fragment(o->cmd, o->nr_cmd, &cmd, err);
			if (ret < 0)
				return ret;
		}
		if (o->cmdline && cmd)
			tail = xasprintf("%s %s", o->cmdline, cmd);
		else if (o->cmdline || cmd)
			tail = xstrdup(o->cmdline ? o->cmdline : cmd);
	}
	cfg.mem_size = o->mem;
	cfg.nr_vcpus = o->cpus;
	cfg.kernel = o->kernel;
	cfg.initrd = o->initrd;
	cfg.cmdline = cmdline;
	cfg.cmdline_tail = tail;
	cfg.firmware = o->firmware;
	cfg.debug_exit = o->debug_exit;
	cfg.debug_exit_port = o->debug_exit_port;
	cfg.pci = o->edu || o->iommu;
	/* KVM's in-kernel IOAPIC cannot send its interrupts through the unit */
	if (o->iommu)
		cfg.iommu =
			cfg.accel->kind == ACCEL_EMU ? MACHINE_IOMMU_VTD : MACHINE_IOMMU_VTD_DMA;
	cfg.console_in = STDIN_FILENO;
	cfg.console_out = STDOUT_FILENO;
	cfg.attach_devices = attach_devices;
	cfg.attach_opaque = o;

	if (o->hvc) {
		ret = open_hvc(o, err);
		if (ret < 0)
			return ret;
	}
	ret = machine_create(&cfg, &m, err);
	if (ret < 0) {
		close_hvc(o);
		return ret;
	}

	/* A closed stdout must cost the guest its console output, not the VMM its life. */
	signal(SIGPIPE, SIG_IGN);

	/* SIGINT/SIGTERM/SIGHUP are taken by the control thread's signalfd. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, &oldsigs);
	dir = ctl_dir();
	name = o->name ? xstrdup(o->name) : xasprintf("vm-%d", (int)getpid());
	ret = vm_ctl_start(m, dir, name, &ctl, err);
	if (ret < 0) {
		pthread_sigmask(SIG_SETMASK, &oldsigs, NULL);
		machine_destroy(m);
		close_hvc(o);
		return ret;
	}

	term_raw(&term);
	status = machine_run(m, err);
	term_restore(&term);

	vm_ctl_stop(ctl);
	if (status >= 0 && o->dump_regs) {
		ret = machine_dump_regs(m, o->dump_regs, err);
		if (ret < 0)
			status = ret;
	}
	machine_destroy(m);
	close_hvc(o);
	pthread_sigmask(SIG_SETMASK, &oldsigs, NULL);
	return status;
}

static int cmd_vm_run(int argc, char **argv, struct cabin_err **err)
{
	enum {
		OPT_KERNEL = 256,
		OPT_INITRD,
		OPT_CMDLINE,
		OPT_FIRMWARE,
		OPT_CPUS,
		OPT_MEMORY,
		OPT_DISK,
		OPT_NET,
		OPT_VSOCK,
		OPT_ACCEL,
		OPT_NAME,
		OPT_DUMP_REGS,
		OPT_RNG,
		OPT_DEBUG_EXIT,
		OPT_HVC,
		OPT_DEVICE,
		OPT_IOMMU,
	};
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "cmdline", required_argument, NULL, OPT_CMDLINE },
		{ "firmware", required_argument, NULL, OPT_FIRMWARE },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "memory", required_argument, NULL, OPT_MEMORY },
		{ "disk", required_argument, NULL, OPT_DISK },
		{ "net", required_argument, NULL, OPT_NET },
		{ "vsock", required_argument, NULL, OPT_VSOCK },
		{ "accel", required_argument, NULL, OPT_ACCEL },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "dump-regs", required_argument, NULL, OPT_DUMP_REGS },
		{ "rng", no_argument, NULL, OPT_RNG },
		{ "debug-exit", required_argument, NULL, OPT_DEBUG_EXIT },
		{ "hvc", required_argument, NULL, OPT_HVC },
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "iommu", required_argument, NULL, OPT_IOMMU },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct vm_run_opts o = { .cpus = 1, .mem = 128ull << 20, .hvc_in = -1, .hvc_out = -1 };
	char *end;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_KERNEL:
			o.kernel = optarg;
			break;
		case OPT_INITRD:
			o.initrd = optarg;
			break;
		case OPT_CMDLINE:
			o.cmdline = optarg;
			break;
		case OPT_FIRMWARE:
			o.firmware = optarg;
			break;
		case OPT_ACCEL:
			o.accel = optarg;
			break;
		case OPT_NAME:
			o.name = optarg;
			break;
		case OPT_DUMP_REGS:
			o.dump_regs = optarg;
			break;
		case OPT_RNG:
			o.rng = 1;
			break;
		case OPT_DEVICE:
			if (strcmp(optarg, "edu"))
				return cabin_err_make(
					err, 0, "unknown --device `%s` (known: `edu`)", optarg);
			o.edu = 1;
			break;
		case OPT_IOMMU:
			if (strcmp(optarg, "intel"))
				return cabin_err_make(
					err, 0, "unknown --iommu `%s` (known: `intel`)", optarg);
			o.iommu = 1;
			break;
		case OPT_HVC:
			if (!optarg[0])
				return cabin_err_make(err, 0, "--hvc needs a path");
			o.hvc = optarg;
			break;
		case OPT_NET:
			if (strncmp(optarg, "tap=", 4) || !optarg[4])
				return cabin_err_make(err, 0, "--net must be `tap=NAME`, not `%s`",
						      optarg);
			o.net_tap = optarg + 4;
			break;
		case OPT_VSOCK:
			if (!strchr(optarg, ','))
				return cabin_err_make(
					err, 0, "--vsock must be `CID,SOCKET`, not `%s`", optarg);
			o.vsock = optarg;
			break;
		case OPT_DEBUG_EXIT: {
			unsigned long port;

			errno = 0;
			port = strtoul(optarg, &end, 0);
			if (errno || *end || !isdigit((unsigned char)optarg[0]) || port > 0xfffc)
				return cabin_err_make(err, 0,
						      "invalid --debug-exit `%s` (a port number, "
						      "e.g. 0xf4)",
						      optarg);
			o.debug_exit = 1;
			o.debug_exit_port = (uint16_t)port;
			break;
		}
		case OPT_DISK:
			ret = check_disk_opts(optarg, err);
			if (ret < 0)
				return ret;
			if (o.nr_disks >= VM_MAX_DISKS)
				return cabin_err_make(err, E2BIG, "more than `%d` --disk options",
						      VM_MAX_DISKS);
			o.disks[o.nr_disks++] = optarg;
			break;
		case OPT_CPUS: {
			unsigned long n;

			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || *end || !isdigit((unsigned char)optarg[0]) || n < 1 ||
			    n > MACHINE_MAX_VCPUS)
				return cabin_err_make(err, 0, "invalid --cpus `%s` (1-%d)", optarg,
						      MACHINE_MAX_VCPUS);
			o.cpus = (unsigned int)n;
			break;
		}
		case OPT_MEMORY:
			if (parse_size(optarg, &o.mem) < 0 || o.mem < (2ull << 20) ||
			    o.mem > (1ull << 40))
				return cabin_err_make(
					err, 0, "invalid --memory `%s` (e.g. 128M, 1G; 2M-1T)",
					optarg);
			o.mem_given = 1;
			break;
		case 'h':
			run_usage(stdout);
			return 0;
		default:
			run_usage(stderr);
			return cabin_err_make(err, 0, "bad `vm run` option");
		}
	}
	if (optind < argc && strcmp(argv[optind - 1], "--")) {
		/* getopt stops at the first non-option; only `--` may introduce the command. */
		return cabin_err_make(err, 0, "unexpected argument `%s` (use `-- COMMAND`)",
				      argv[optind]);
	}
	o.cmd = argv + optind;
	o.nr_cmd = argc - optind;
	return vm_run(&o, err);
}

static int cmd_vm_initrd(int argc, char **argv, struct cabin_err **err)
{
	enum { OPT_MODULES_DIR = 256, OPT_INIT, OPT_FILE, OPT_DEBIAN };
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "modules-dir", required_argument, NULL, OPT_MODULES_DIR },
		{ "init", required_argument, NULL, OPT_INIT },
		{ "file", required_argument, NULL, OPT_FILE },
		{ "debian", no_argument, NULL, OPT_DEBIAN },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *out = "cabin-initrd.cpio", *init = NULL, *mods = NULL;
	cleanup_free char *def_kernel = NULL;
	cleanup_free char *def_mods = NULL;
	char *files[33] = { 0 };
	unsigned int nr_files = 0;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case OPT_MODULES_DIR:
			mods = optarg;
			break;
		case OPT_INIT:
			init = optarg;
			break;
		case OPT_FILE:
			if (nr_files >= ARRAY_SIZE(files) - 1)
				return cabin_err_make(err, E2BIG, "too many --file options");
			files[nr_files++] = optarg;
			break;
		case OPT_DEBIAN:
			ret = default_kernel(&def_kernel, &def_mods, err);
			if (ret < 0)
				return ret;
			mods = def_mods;
			break;
		case 'h':
			printf("usage: cabin vm initrd [-o FILE] [--modules-dir DIR | --debian] "
			       "[--init PATH] [--file HOST[:GUEST]]...\n"
			       "Writes cabin's initramfs: the guest init as /init, the virtio "
			       "modules of DIR\n(--debian: those of Debian's cloud kernel, fetched "
			       "through apt) and the given\nfiles (default: /bin/busybox when "
			       "present).\n");
			return 0;
		default:
			return cabin_err_make(err, 0, "bad `vm initrd` option");
		}
	}
	if (optind < argc)
		return cabin_err_make(err, 0, "unexpected argument `%s`", argv[optind]);
	ret = build_initrd(out, init, mods, nr_files ? files : NULL, err);
	if (ret < 0)
		return ret;
	fprintf(stderr, "cabin: wrote `%s`\n", out);
	return 0;
}

static const char *state_name(uint32_t s)
{
	switch (s) {
	case VM_CTL_RUNNING:
		return "running";
	case VM_CTL_PAUSED:
		return "paused";
	case VM_CTL_STOPPING:
		return "stopping";
	default:
		return "unknown";
	}
}

static int cmd_vm_ls(int argc, char **argv, struct cabin_err **err)
{
	cleanup_free char *dir = ctl_dir();
	cleanup_closedir DIR *d = opendir(dir);
	struct dirent *de;

	if (argc > 1) {
		if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
			puts("usage: cabin vm ls\nList the running microVMs of this --root.");
			return 0;
		}
		return cabin_err_make(err, 0, "vm ls: unexpected argument `%s`", argv[1]);
	}
	printf("%-24s %-8s %-9s %-5s %-10s %s\n", "NAME", "PID", "STATE", "CPUS", "MEMORY",
	       "ACCEL");
	if (!d)
		return errno == ENOENT ? 0 : cabin_err_make(err, errno, "open `%s`", dir);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		struct vm_ctl_info info;
		struct cabin_err *tmp = NULL;
		char mem[32];
		cleanup_free char *path = NULL;

		if (l < 6 || strcmp(de->d_name + l - 5, ".sock"))
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (vm_ctl_request(path, VM_CTL_INFO, &info, &tmp) < 0) {
			/* A VM killed without cleanup leaves a socket nobody answers. */
			cabin_err_release(&tmp);
			continue;
		}
		snprintf(mem, sizeof(mem), "%lluM", (unsigned long long)(info.mem_bytes >> 20));
		printf("%-24s %-8d %-9s %-5u %-10s %s\n", info.name, info.pid,
		       state_name(info.state), info.cpus, mem, info.accel);
	}
	return 0;
}

static int ctl_simple(int argc, char **argv, enum vm_ctl_req req, struct cabin_err **err)
{
	cleanup_free char *dir = ctl_dir();
	cleanup_free char *path = NULL;
	struct vm_ctl_info info;
	int ret;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: cabin vm %s NAME\n", argv[0]);
		if (req == VM_CTL_STOP)
			printf("Stop the running microVM NAME; its `vm run` exits with status "
			       "%d.\n",
			       MACHINE_EXIT_STOPPED);
		else if (req == VM_CTL_PAUSE)
			printf("Park every vCPU of the microVM NAME until `vm resume`.\n");
		else
			printf("Let the paused microVM NAME run again.\n");
		return 0;
	}
	if (argc != 2)
		return cabin_err_make(err, 0, "usage: cabin vm %s NAME", argv[0]);
	if (argv[1][0] == '-')
		return cabin_err_make(err, 0,
				      "vm %s: unknown option `%s` (usage: cabin vm %s NAME)",
				      argv[0], argv[1], argv[0]);
	if (!argv[1][0] || strchr(argv[1], '/'))
		return cabin_err_make(err, 0, "invalid VM name `%s`", argv[1]);
	path = xasprintf("%s/%s.sock", dir, argv[1]);
	ret = vm_ctl_request(path, req, &info, err);
	if (ret < 0) {
		if (err && *err)
			return cabin_err_wrap(err, "vm `%s`", argv[1]);
		return cabin_err_make(err, -ret, "%s vm `%s`", argv[0], argv[1]);
	}
	return 0;
}

static int cmd_vm_stop(int argc, char **argv, struct cabin_err **err)
{
	return ctl_simple(argc, argv, VM_CTL_STOP, err);
}

static int cmd_vm_pause(int argc, char **argv, struct cabin_err **err)
{
	return ctl_simple(argc, argv, VM_CTL_PAUSE, err);
}

static int cmd_vm_resume(int argc, char **argv, struct cabin_err **err)
{
	return ctl_simple(argc, argv, VM_CTL_RESUME, err);
}

static const struct cmd vm_commands[] = {
	{ "run", cmd_vm_run, "boot a microVM and exit with the guest's status", 0 },
	{ "initrd", cmd_vm_initrd, "build cabin's initramfs for a Linux guest", 0 },
	{ "ls", cmd_vm_ls, "list running microVMs", 0 },
	{ "stop", cmd_vm_stop, "stop a running microVM", 0 },
	{ "pause", cmd_vm_pause, "park every vCPU of a microVM", 0 },
	{ "resume", cmd_vm_resume, "let a paused microVM run again", 0 },
};

static void vm_usage(FILE *f)
{
	fprintf(f, "usage: cabin vm COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(vm_commands); i++)
		fprintf(f, "  %-8s %s\n", vm_commands[i].name, vm_commands[i].summary);
}

int cmd_vm(int argc, char **argv, struct cabin_err **err)
{
	if (argc < 2) {
		vm_usage(stderr);
		return cabin_err_make(err, 0, "`vm` needs a command");
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		vm_usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(vm_commands); i++)
		if (!strcmp(vm_commands[i].name, argv[1]))
			return vm_commands[i].fn(argc - 1, argv + 1, err);
	vm_usage(stderr);
	return cabin_err_make(err, 0, "unknown `vm` command `%s`", argv[1]);
}
