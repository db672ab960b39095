/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: x86_boot_load() on hostile kernel files, the path `vm run --kernel`
 * takes: Multiboot v1 (a.out kludge and ELF), ELF vmlinux (PT_LOAD, PVH note) and bzImage
 * (setup header), each placed into 64 MiB of guest RAM with the zero page, command line,
 * initrd, Multiboot information, MP and ACPI tables. Every offset and size in the file
 * is the guest's: ASan/UBSan catch a read past the file or a write past guest RAM.
 *
 * Input: byte 0: bit 0 an initrd is given, bit 1 a command line near the kernel's
 * limit; the rest is the kernel file (passed by /proc/self/fd path, as a user's file).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "vm/machine.h"
#include "vm/mem.h"
#include "vm/x86/boot.h"

#define RAM (64ULL << 20)

static struct machine M;
static int initrd_fd = -1;
static char initrd_path[64];
static char *long_cmdline;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char rd[] = "070701initrd-bytes";
	struct cabin_err *err = NULL;

	log_set_quiet(1);
	M.nr_vcpus = 2;
	M.next_mmio_slot = 3;
	if (vm_mem_init(&M.mem, RAM, 0, &err) < 0) {
		fprintf(stderr, "fuzz-boot: %s\n", cabin_err_msg(err));
		exit(1);
	}
	initrd_fd = memfd_create("initrd", MFD_CLOEXEC);
	if (initrd_fd < 0 || fs_write_all(initrd_fd, rd, sizeof(rd)) < 0)
		abort();
	snprintf(initrd_path, sizeof(initrd_path), "/proc/self/fd/%d", initrd_fd);
	long_cmdline = malloc(X86_CMDLINE_MAX + 16);
	if (!long_cmdline)
		abort();
	memset(long_cmdline, 'c', X86_CMDLINE_MAX + 15);
	long_cmdline[X86_CMDLINE_MAX + 15] = '\0';
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct x86_boot_state bs;
	struct cabin_err *err = NULL;
	char kpath[64];
	unsigned int fl;
	int fd, ret;

	if (size < 1)
		return 0;
	fl = data[0];
	fd = memfd_create("kernel", MFD_CLOEXEC);
	if (fd < 0 || fs_write_all(fd, data + 1, size - 1) < 0)
		abort();
	snprintf(kpath, sizeof(kpath), "/proc/self/fd/%d", fd);
	/* a command line of (fl >> 2) * 64 bytes, around any kernel's limit, or a short one */
	ret = x86_boot_load(&M, kpath, (fl & 1) ? initrd_path : NULL,
			    (fl & 2) ? long_cmdline + X86_CMDLINE_MAX + 15 - (fl >> 2) * 64
				     : "console=ttyS0",
			    "mb args", NULL, NULL, 0, &bs, &err);
	if (ret < 0 && !err) {
		fprintf(stderr, "fuzz-boot: FINDING: refused without an error\n");
		abort();
	}
	if (getenv("CABIN_FUZZ_DEBUG"))
		fprintf(stderr, "load: %s\n", ret < 0 ? cabin_err_msg(err) : "ok");
	cabin_err_release(&err);
	close(fd);
	return 0;
}
