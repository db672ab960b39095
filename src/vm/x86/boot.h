/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_VM_X86_BOOT_H
#define CABIN_VM_X86_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "vm/accel.h"

struct cabin_err;
struct machine;
struct vm_mem;

/*
 * x86 boot, shared by every accelerator: the kernel (bzImage or ELF vmlinux)
 * or a raw firmware image is placed in guest RAM and the boot vCPU's initial
 * state is described here; the machine applies it once the vCPU exists.
 *
 * Guest-physical layout below 1 MiB (as Firecracker):
 *   0x0500 GDT   0x0520 IDT   0x6000 PVH start info   0x7000 zero page
 *   0x8ff0 boot stack top     0x9000-0xbfff page tables (identity map of 1 GiB)
 *   0x20000 command line      0x9fc00 MP table        0xf0000-0xfffff firmware
 */
#define X86_GDT_ADDR 0x500
#define X86_IDT_ADDR 0x520
#define X86_PVH_INFO_ADDR 0x6000
#define X86_ZERO_PAGE_ADDR 0x7000
#define X86_BOOT_STACK 0x8ff0
#define X86_PML4_ADDR 0x9000
#define X86_PDPT_ADDR 0xa000
#define X86_PD_ADDR 0xb000
#define X86_CMDLINE_ADDR 0x20000
#define X86_CMDLINE_MAX 0x10000
#define X86_EBDA_START 0x9fc00
#define X86_HIMEM_START 0x100000
#define X86_FIRMWARE_MAX (256 * 1024)

/* A parsed bzImage (Linux boot protocol, Documentation/arch/x86/boot.rst). */
struct x86_bzimage {
	uint16_t version; /* boot protocol version, e.g. 0x020f */
	uint8_t loadflags;
	uint16_t xloadflags;
	size_t setup_size;     /* (setup_sects + 1) * 512: real-mode part, skipped */
	size_t kernel_offset;  /* protected-mode kernel: file offset ... */
	size_t kernel_size;    /* ... and length */
	uint32_t init_size;    /* memory the kernel needs from its load address */
	uint64_t pref_address; /* where a relocatable kernel decompresses itself (2.10+) */
	uint32_t initrd_addr_max;
	uint32_t cmdline_size; /* longest command line, without the NUL */
	size_t header_len;     /* bytes of setup header to copy into the zero page */
};

/**
 * x86_bzimage_parse() - validate a bzImage's setup header
 * @buf, @len: the whole file
 * @path: named in errors
 *
 * Every offset and length is checked against @len; a truncated or hostile
 * header is an error naming @path and the field. Return: 0, or <0 with @err set.
 */
int x86_bzimage_parse(const uint8_t *buf, size_t len, const char *path, struct x86_bzimage *bz,
		      struct cabin_err **err);

#define X86_ELF_MAX_SEGS 16

/* A parsed ELF64 vmlinux: its PT_LOAD segments and entry points. */
struct x86_elf {
	unsigned int nr_segs;
	struct {
		uint64_t paddr, offset, filesz, memsz;
	} segs[X86_ELF_MAX_SEGS];
	uint64_t entry;	    /* physical 64-bit entry */
	uint32_t pvh_entry; /* XEN_ELFNOTE_PHYS32_ENTRY, or 0 */
};

/**
 * x86_elf_parse() - validate an ELF64 x86-64 kernel; finds the PVH entry note.
 * Return: 0; 1 when @buf is not ELF at all; <0 with @err set for a bad ELF.
 */
int x86_elf_parse(const uint8_t *buf, size_t len, const char *path, struct x86_elf *elf,
		  struct cabin_err **err);

enum x86_boot_mode {
	X86_BOOT_REAL,	    /* firmware: PC reset state at F000:FFF0 */
	X86_BOOT_PROT32,    /* PVH: flat 32-bit protected mode, EBX = start info */
	X86_BOOT_LONG64,    /* Linux 64-bit boot protocol, RSI = zero page */
	X86_BOOT_MULTIBOOT, /* flat 32-bit protected mode, EAX = 0x2BADB002, EBX = info */
};

#define X86_BOOT_MAX_MSRS 16

/* The boot vCPU's initial state, applied by x86_boot_apply(). */
struct x86_boot_state {
	enum x86_boot_mode mode;
	struct x86_regs regs;
	uint32_t msr_idx[X86_BOOT_MAX_MSRS];
	uint64_t msr_val[X86_BOOT_MAX_MSRS];
	unsigned int nr_msrs;
};

/**
 * x86_multiboot_find() - look for a Multiboot v1 header (magic, flags, checksum
 * summing to 0) at a 4-byte boundary in the first 8 KiB of @buf.
 * Return: its offset, with *@flags set, or -1.
 */
int x86_multiboot_find(const uint8_t *buf, size_t len, uint32_t *flags);

/**
 * x86_boot_load() - load the kernel (+initrd, command line) or the firmware image
 * into @m's memory, write the boot tables (zero page/e820, PVH start info or
 * Multiboot information, GDT, page tables, MP table) and fill @bs.
 * @kernel: bzImage, ELF vmlinux or Multiboot kernel; NULL to boot @firmware / @fw_data
 * @cmdline: a Linux kernel's command line
 * @mb_args: what a Multiboot kernel gets after its path (only the user's words, not
 *           the Linux defaults and device announcements of @cmdline); may be NULL
 * Return: 0, or <0 with @err set.
 */
int x86_boot_load(struct machine *m, const char *kernel, const char *initrd, const char *cmdline,
		  const char *mb_args, const char *firmware, const void *fw_data, size_t fw_len,
		  struct x86_boot_state *bs, struct cabin_err **err);

/**
 * x86_boot_apply() - give vCPU @v its initial state: @bs for the boot vCPU
 * (index 0); the others only get the boot MSRs and wait for INIT/SIPI.
 * Return: 0, or <0 with @err set.
 */
int x86_boot_apply(struct vcpu *v, const struct x86_boot_state *bs, struct cabin_err **err);

/**
 * x86_mptable_write() - an Intel MP table (spec 1.4) at X86_EBDA_START with
 * @nr_cpus processors, one ISA bus and the IOAPIC, so Linux starts the APs
 * without ACPI. Return: 0, or <0 with @err set.
 */
int x86_mptable_write(struct vm_mem *mem, unsigned int nr_cpus, struct cabin_err **err);

#define X86_IOAPIC_ADDR 0xfec00000u
#define X86_LAPIC_ADDR 0xfee00000u

#endif
