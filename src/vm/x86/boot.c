/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Loading a guest into RAM, for every accelerator:
 *  - bzImage, Linux x86 boot protocol >= 2.06 with the 64-bit entry point
 *    (startup_64 at load address + 0x200): zero page with e820, command line
 *    and initrd, identity-mapped page tables, long mode already on;
 *  - ELF vmlinux: PT_LOAD segments at their physical addresses, entered via
 *    the PVH note (32-bit protected mode, hvm_start_info) when present, else
 *    at the 64-bit ELF entry with a zero page;
 *  - Multiboot v1 kernels (a header in the first 8 KiB): ELF32/ELF64 segments or
 *    the header's load addresses, entered in 32-bit protected mode with
 *    EAX = 0x2BADB002 and EBX = the Multiboot information (memory, map, command
 *    line, the initrd as the one module), as GRUB and QEMU -kernel do;
 *  - raw firmware (QEMU -bios semantics): the image ends at 1 MiB and the CPU
 *    starts at F000:FFF0 in real mode, like a PC coming out of reset.
 * Kernel images are untrusted input: every offset and size is checked before use.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/endian.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xalloc.h"
#include "vm/machine.h"
#include "vm/x86/acpi.h"
#include "vm/x86/boot.h"

/* Setup header offsets (boot.rst, "The Real-Mode Kernel Header"). */
#define HDR_SETUP_SECTS 0x1f1
#define HDR_SYSSIZE 0x1f4
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x200
#define HDR_HEADER 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_HEAP_END_PTR 0x224
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260
/* struct boot_params */
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_ACPI_RSDP_ADDR 0x070

#define LOADFLAG_LOADED_HIGH 0x01
#define LOADFLAG_CAN_USE_HEAP 0x80
#define XLF_KERNEL_64 0x01

#define E820_RAM 1
#define E820_RESERVED 2

/* PVH (xen/include/public/arch-x86/hvm/start_info.h, Linux Documentation/arch/x86/pvh.rst) */
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define PVH_START_MAGIC 0x336ec578u
#define PVH_MODLIST_ADDR (X86_PVH_INFO_ADDR + 0x40)
#define PVH_MEMMAP_ADDR (X86_PVH_INFO_ADDR + 0x80)
#define PVH_RSDP_PADDR 32 /* offset in hvm_start_info */

/* x86 control bits */
#define CR0_PE 0x1ull
#define CR0_ET 0x10ull
#define CR0_PG 0x80000000ull
#define CR4_PAE 0x20ull
#define EFER_LME 0x100ull
#define EFER_LMA 0x400ull

int x86_bzimage_parse(const uint8_t *buf, size_t len, const char *path, struct x86_bzimage *bz,
		      struct cabin_err **err)
{
	unsigned int sects;

	memset(bz, 0, sizeof(*bz));
	if (len < HDR_HEADER + 4)
		return cabin_err_make(err, 0,
				      "bzImage `%s`: `%zu` bytes is too short for a setup header",
				      path, len);
	if (memcmp(buf + HDR_HEADER, "HdrS", 4))
		return cabin_err_make(err, 0, "bzImage `%s`: no `HdrS` magic at offset `0x202`",
				      path);
	if (len < HDR_VERSION + 2)
		return cabin_err_make(err, 0, "bzImage `%s`: truncated at `version`", path);
	bz->version = get_le16(buf + HDR_VERSION);
	if (bz->version < 0x0206)
		return cabin_err_make(
			err, 0, "bzImage `%s`: boot protocol `%u.%02u` is too old (need 2.06)",
			path, bz->version >> 8, bz->version & 0xff);
	/* The header ends where the byte at 0x201 (the jump's displacement) says. */
	bz->header_len = (size_t)0x202 + buf[HDR_JUMP + 1] - HDR_SETUP_SECTS;
	if (HDR_SETUP_SECTS + bz->header_len > len)
		return cabin_err_make(err, 0,
				      "bzImage `%s`: setup header of `%zu` bytes runs past the end",
				      path, bz->header_len);
	if (HDR_CMDLINE_SIZE + 4 > HDR_SETUP_SECTS + bz->header_len)
		return cabin_err_make(
			err, 0, "bzImage `%s`: setup header too short for `cmdline_size`", path);
	if (get_le16(buf + HDR_BOOT_FLAG) != 0xaa55)
		return cabin_err_make(err, 0, "bzImage `%s`: `boot_flag` is not `0xaa55`", path);
	bz->loadflags = buf[HDR_LOADFLAGS];
	if (!(bz->loadflags & LOADFLAG_LOADED_HIGH))
		return cabin_err_make(
			err, 0, "bzImage `%s`: `loadflags` lacks LOADED_HIGH (a zImage?)", path);
	if (bz->version >= 0x020c) {
		bz->xloadflags = get_le16(buf + HDR_XLOADFLAGS);
		if (!(bz->xloadflags & XLF_KERNEL_64))
			return cabin_err_make(
				err, 0, "bzImage `%s`: `xloadflags` has no 64-bit entry point",
				path);
	}
	sects = buf[HDR_SETUP_SECTS] ? buf[HDR_SETUP_SECTS] : 4;
	bz->setup_size = (size_t)(sects + 1) * 512;
	if (bz->setup_size >= len)
		return cabin_err_make(err, 0,
				      "bzImage `%s`: `setup_sects` `%u` puts the kernel past the "
				      "end of the `%zu`-byte file",
				      path, sects, len);
	bz->kernel_offset = bz->setup_size;
	bz->kernel_size = len - bz->setup_size;
	/* syssize (2.04+): the protected-mode part in 16-byte units; less means truncated. */
	if ((uint64_t)get_le32(buf + HDR_SYSSIZE) * 16 > bz->kernel_size)
		return cabin_err_make(err, 0,
				      "bzImage `%s` is truncated: `syssize` says `%llu` bytes of "
				      "kernel after the setup, the file has `%zu`",
				      path, (unsigned long long)get_le32(buf + HDR_SYSSIZE) * 16,
				      bz->kernel_size);
	bz->initrd_addr_max = get_le32(buf + HDR_INITRD_ADDR_MAX);
	bz->cmdline_size = get_le32(buf + HDR_CMDLINE_SIZE);
	if (HDR_INIT_SIZE + 4 <= HDR_SETUP_SECTS + bz->header_len)
		bz->init_size = get_le32(buf + HDR_INIT_SIZE);
	if (bz->version >= 0x020a && HDR_PREF_ADDRESS + 8 <= HDR_SETUP_SECTS + bz->header_len)
		bz->pref_address = get_le64(buf + HDR_PREF_ADDRESS);
	if (bz->kernel_size < 0x200 + 16)
		return cabin_err_make(err, 0,
				      "bzImage `%s`: protected-mode kernel of `%zu` bytes is too "
				      "short for the 64-bit entry at `0x200`",
				      path, bz->kernel_size);
	return 0;
}

int x86_elf_parse(const uint8_t *buf, size_t len, const char *path, struct x86_elf *elf,
		  struct cabin_err **err)
{
	uint64_t phoff;
	uint16_t phentsize, phnum;

	memset(elf, 0, sizeof(*elf));
	if (len < 4 || memcmp(buf, "\177ELF", 4))
		return 1;
	if (len < 64)
		return cabin_err_make(err, 0, "ELF `%s`: truncated header", path);
	if (buf[4] != 2 || buf[5] != 1)
		return cabin_err_make(err, 0, "ELF `%s`: not a little-endian ELF64 file", path);
	if (get_le16(buf + 18) != 62)
		return cabin_err_make(err, 0, "ELF `%s`: `e_machine` `%u` is not x86-64", path,
				      get_le16(buf + 18));
	phoff = get_le64(buf + 32);
	phentsize = get_le16(buf + 54);
	phnum = get_le16(buf + 56);
	if (phentsize < 56)
		return cabin_err_make(err, 0, "ELF `%s`: `e_phentsize` `%u` too small", path,
				      phentsize);
	if (phoff > len || (uint64_t)phnum * phentsize > len - phoff)
		return cabin_err_make(err, 0, "ELF `%s`: program headers run past the end", path);
	uint64_t entry = get_le64(buf + 24);

	for (unsigned int i = 0; i < phnum; i++) {
		const uint8_t *ph = buf + phoff + (uint64_t)i * phentsize;
		uint32_t type = get_le32(ph);
		uint64_t off = get_le64(ph + 8), vaddr = get_le64(ph + 16),
			 paddr = get_le64(ph + 24);
		uint64_t filesz = get_le64(ph + 32), memsz = get_le64(ph + 40);

		if (off > len || filesz > len - off)
			return cabin_err_make(
				err, 0, "ELF `%s`: segment `%u` runs past the end of the file",
				path, i);
		if (type == 1) { /* PT_LOAD */
			if (elf->nr_segs >= X86_ELF_MAX_SEGS)
				return cabin_err_make(err, E2BIG,
						      "ELF `%s`: more than `%d` PT_LOAD segments",
						      path, X86_ELF_MAX_SEGS);
			if (memsz < filesz || paddr + memsz < paddr)
				return cabin_err_make(
					err, 0, "ELF `%s`: segment `%u` has bad sizes", path, i);
			elf->segs[elf->nr_segs].paddr = paddr;
			elf->segs[elf->nr_segs].offset = off;
			elf->segs[elf->nr_segs].filesz = filesz;
			elf->segs[elf->nr_segs].memsz = memsz;
			elf->nr_segs++;
			/*
			 * Linux's vmlinux has e_entry = phys_startup_64, a physical address;
			 * other kernels give a virtual one: accept either.
			 */
			if (entry >= paddr && entry - paddr < memsz)
				elf->entry = entry;
			else if (!elf->entry && entry >= vaddr && entry - vaddr < memsz)
				elf->entry = paddr + (entry - vaddr);
		} else if (type == 4) { /* PT_NOTE: look for Xen's PHYS32_ENTRY */
			uint64_t p = 0;

			while (p + 12 <= filesz) {
				const uint8_t *n = buf + off + p;
				uint32_t namesz = get_le32(n), descsz = get_le32(n + 4),
					 ntype = get_le32(n + 8);
				uint64_t name_al = ALIGN_UP((uint64_t)namesz, 4);
				uint64_t desc_al = ALIGN_UP((uint64_t)descsz, 4);

				if (name_al + desc_al > filesz - p - 12)
					break;
				if (ntype == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 &&
				    !memcmp(n + 12, "Xen", 4) && descsz >= 4)
					elf->pvh_entry = get_le32(n + 12 + name_al);
				p += 12 + name_al + desc_al;
			}
		}
	}
	if (!elf->nr_segs)
		return cabin_err_make(err, 0, "ELF `%s`: no PT_LOAD segment", path);
	if (!elf->entry && !elf->pvh_entry)
		return cabin_err_make(err, 0, "ELF `%s`: entry `0x%llx` is in no loadable segment",
				      path, (unsigned long long)entry);
	return 0;
}

/* Read a whole file of at most @max bytes. */
static int read_file(const char *path, const char *what, size_t max, uint8_t **out, size_t *len,
		     struct cabin_err **err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	cleanup_free uint8_t *buf = NULL;
	struct stat st;
	size_t done = 0;

	if (fd < 0)
		return cabin_err_make(err, errno, "open %s `%s`", what, path);
	if (fstat(fd, &st) < 0)
		return cabin_err_make(err, errno, "stat %s `%s`", what, path);
	if (!S_ISREG(st.st_mode))
		return cabin_err_make(err, 0, "%s `%s` is not a regular file", what, path);
	if ((uint64_t)st.st_size > max)
		return cabin_err_make(err, EFBIG, "%s `%s` is `%lld` bytes, more than `%zu`", what,
				      path, (long long)st.st_size, max);
	if (st.st_size == 0)
		return cabin_err_make(err, 0, "%s `%s` is empty", what, path);
	buf = malloc((size_t)st.st_size);
	if (!buf)
		return cabin_err_make(err, ENOMEM, "read %s `%s`", what, path);
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cabin_err_make(err, errno, "read %s `%s`", what, path);
		if (n == 0)
			break;
		done += (size_t)n;
	}
	*len = done;
	*out = steal_ptr(&buf);
	return 0;
}

/* End of the RAM below the 3 GiB hole. */
static uint64_t low_ram_end(const struct vm_mem *mem)
{
	return mem->regions[0].gpa + mem->regions[0].size;
}

static int write_e820(struct machine *m, uint8_t *zp)
{
	const struct vm_mem *mem = &m->mem;
	uint64_t ent[4][3];
	unsigned int n = 0;

	ent[n][0] = 0, ent[n][1] = X86_EBDA_START, ent[n][2] = E820_RAM, n++;
	if (low_ram_end(mem) > X86_HIMEM_START)
		ent[n][0] = X86_HIMEM_START, ent[n][1] = low_ram_end(mem) - X86_HIMEM_START,
		ent[n][2] = E820_RAM, n++;
	if (mem->nr_regions > 1)
		ent[n][0] = mem->regions[1].gpa, ent[n][1] = mem->regions[1].size,
		ent[n][2] = E820_RAM, n++;
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *e = zp + BP_E820_TABLE + i * 20;

		put_le64(e, ent[i][0]);
		put_le64(e + 8, ent[i][1]);
		put_le32(e + 16, (uint32_t)ent[i][2]);
	}
	zp[BP_E820_ENTRIES] = (uint8_t)n;
	return (int)n;
}

/* Flat GDT: 0x10 code64, 0x18 data, 0x20 TSS, 0x28 code32 (PVH). */
static void write_gdt(struct vm_mem *mem)
{
	static const uint64_t gdt[] = {
		0,
		0,
		0x00af9b000000ffffull, /* 0x10: 64-bit code, DPL 0 */
		0x00cf93000000ffffull, /* 0x18: data, 4 GiB */
		0x008f8b000000ffffull, /* 0x20: 32-bit TSS (busy) */
		0x00cf9b000000ffffull, /* 0x28: 32-bit code, 4 GiB */
	};
	uint8_t *p = vm_mem_ptr(mem, X86_GDT_ADDR, sizeof(gdt));

	for (size_t i = 0; i < ARRAY_SIZE(gdt); i++)
		put_le64(p + i * 8, gdt[i]);
	memset(vm_mem_ptr(mem, X86_IDT_ADDR, 8), 0, 8);
}

/* Identity map of the first GiB with 2 MiB pages: enough for the decompressor. */
static void write_page_tables(struct vm_mem *mem)
{
	uint8_t *pml4 = vm_mem_ptr(mem, X86_PML4_ADDR, 4096);
	uint8_t *pdpt = vm_mem_ptr(mem, X86_PDPT_ADDR, 4096);
	uint8_t *pd = vm_mem_ptr(mem, X86_PD_ADDR, 4096);

	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	put_le64(pml4, X86_PDPT_ADDR | 0x3);
	put_le64(pdpt, X86_PD_ADDR | 0x3);
	for (uint64_t i = 0; i < 512; i++)
		put_le64(pd + i * 8, (i << 21) | 0x83);
}

static int put_cmdline(struct machine *m, const char *cmdline, size_t max, const char *path,
		       struct cabin_err **err)
{
	size_t n = cmdline ? strlen(cmdline) : 0;

	if (n > max)
		return cabin_err_make(
			err, E2BIG,
			"kernel command line is `%zu` bytes; `%s` accepts at most `%zu`", n, path,
			max);
	if (vm_mem_write(&m->mem, X86_CMDLINE_ADDR, cmdline ? cmdline : "", n) < 0 ||
	    vm_mem_write(&m->mem, X86_CMDLINE_ADDR + n, "", 1) < 0)
		return cabin_err_make(err, EFAULT, "command line outside guest memory");
	return 0;
}

/* Place the initrd as high as allowed below @limit, above @floor. */
static int load_initrd(struct machine *m, const char *initrd, uint64_t floor, uint64_t limit,
		       uint64_t *addr, uint64_t *size, struct cabin_err **err)
{
	cleanup_free uint8_t *buf = NULL;
	size_t len = 0;
	uint64_t top = MIN(limit, low_ram_end(&m->mem)), at;
	int ret;

	ret = read_file(initrd, "initrd", (size_t)1 << 31, &buf, &len, err);
	if (ret < 0)
		return ret;
	if (len > top || ((top - len) & ~0xfffull) < floor)
		return cabin_err_make(err, ENOMEM,
				      "initrd `%s` (`%zu` bytes) does not fit in guest memory "
				      "below `0x%llx`; raise --memory",
				      initrd, len, (unsigned long long)top);
	at = (top - len) & ~0xfffull;
	if (vm_mem_write(&m->mem, at, buf, len) < 0)
		return cabin_err_make(err, EFAULT, "initrd outside guest memory");
	*addr = at;
	*size = len;
	return 0;
}

static void boot_msrs(struct x86_boot_state *bs)
{
	static const struct {
		uint32_t idx;
		uint64_t val;
	} msrs[] = {
		{ 0x174, 0 },		   /* IA32_SYSENTER_CS */
		{ 0x175, 0 },		   /* IA32_SYSENTER_ESP */
		{ 0x176, 0 },		   /* IA32_SYSENTER_EIP */
		{ 0xc0000081, 0 },	   /* STAR */
		{ 0xc0000082, 0 },	   /* LSTAR */
		{ 0xc0000083, 0 },	   /* CSTAR */
		{ 0xc0000084, 0 },	   /* SYSCALL_MASK */
		{ 0xc0000102, 0 },	   /* KERNEL_GS_BASE */
		{ 0x10, 0 },		   /* TSC */
		{ 0x1a0, 1 },		   /* MISC_ENABLE: fast strings */
		{ 0x2ff, (1u << 11) | 6 }, /* MTRRdefType: enabled, write-back */
	};

	for (size_t i = 0; i < ARRAY_SIZE(msrs); i++) {
		bs->msr_idx[i] = msrs[i].idx;
		bs->msr_val[i] = msrs[i].val;
	}
	bs->nr_msrs = ARRAY_SIZE(msrs);
}

static int load_bzimage(struct machine *m, const char *path, const uint8_t *buf, size_t len,
			const char *initrd, const char *cmdline, struct x86_boot_state *bs,
			struct cabin_err **err)
{
	struct x86_bzimage bz;
	uint8_t *zp;
	uint64_t need, rd_addr = 0, rd_size = 0;
	int ret;

	ret = x86_bzimage_parse(buf, len, path, &bz, err);
	if (ret < 0)
		return ret;
	/*
	 * A relocatable kernel decompresses itself at pref_address (LOAD_PHYSICAL_ADDR,
	 * usually 16 MiB) and needs init_size bytes from there: the initrd must stay
	 * above that. pref_address is capped so a hostile value cannot wrap the sum.
	 */
	need = MAX(X86_HIMEM_START + (uint64_t)bz.kernel_size,
		   MAX((uint64_t)X86_HIMEM_START, MIN(bz.pref_address, 1ull << 40)) +
			   (uint64_t)bz.init_size);
	if (need > low_ram_end(&m->mem))
		return cabin_err_make(
			err, ENOMEM,
			"kernel `%s` needs guest memory up to `0x%llx`; raise --memory", path,
			(unsigned long long)need);
	if (vm_mem_write(&m->mem, X86_HIMEM_START, buf + bz.kernel_offset, bz.kernel_size) < 0)
		return cabin_err_make(err, EFAULT, "kernel `%s` outside guest memory", path);

	zp = vm_mem_ptr(&m->mem, X86_ZERO_PAGE_ADDR, 4096);
	memset(zp, 0, 4096);
	memcpy(zp + HDR_SETUP_SECTS, buf + HDR_SETUP_SECTS, bz.header_len);
	zp[HDR_TYPE_OF_LOADER] = 0xff;
	zp[HDR_LOADFLAGS] |= LOADFLAG_CAN_USE_HEAP;
	put_le16(zp + HDR_HEAP_END_PTR, 0xfe00);
	put_le32(zp + HDR_CMD_LINE_PTR, X86_CMDLINE_ADDR);
	ret = put_cmdline(m, cmdline, MIN((size_t)bz.cmdline_size, (size_t)X86_CMDLINE_MAX - 1),
			  path, err);
	if (ret < 0)
		return ret;
	if (initrd) {
		ret = load_initrd(m, initrd, need, (uint64_t)bz.initrd_addr_max + 1, &rd_addr,
				  &rd_size, err);
		if (ret < 0)
			return ret;
		put_le32(zp + HDR_RAMDISK_IMAGE, (uint32_t)rd_addr);
		put_le32(zp + HDR_RAMDISK_SIZE, (uint32_t)rd_size);
	}
	write_e820(m, zp);
	bs->mode = X86_BOOT_LONG64;
	bs->regs.rip = X86_HIMEM_START + 0x200;
	bs->regs.rsi = X86_ZERO_PAGE_ADDR;
	m->boot_entry = bs->regs.rip;
	return 0;
}

/* Does guest-physical @addr fall inside one of @elf's loaded segments? */
static int in_segment(const struct x86_elf *elf, uint64_t addr)
{
	for (unsigned int i = 0; i < elf->nr_segs; i++)
		if (addr >= elf->segs[i].paddr && addr - elf->segs[i].paddr < elf->segs[i].memsz)
			return 1;
	return 0;
}

static int load_elf(struct machine *m, const char *path, const uint8_t *buf,
		    const struct x86_elf *elf, const char *initrd, const char *cmdline,
		    struct x86_boot_state *bs, struct cabin_err **err)
{
	uint64_t end = 0, rd_addr = 0, rd_size = 0;
	int ret;

	for (unsigned int i = 0; i < elf->nr_segs; i++) {
		uint8_t *dst = vm_mem_ptr(&m->mem, elf->segs[i].paddr, elf->segs[i].memsz);

		if (elf->segs[i].paddr < X86_HIMEM_START)
			return cabin_err_make(
				err, 0,
				"ELF `%s`: segment at `0x%llx` is below 1 MiB, where "
				"the boot tables live; link the kernel at 1 MiB or above",
				path, (unsigned long long)elf->segs[i].paddr);
		if (!dst)
			return cabin_err_make(err, ENOMEM,
					      "ELF `%s`: segment at `0x%llx` (`%llu` bytes) is "
					      "outside guest RAM above 1 MiB; raise --memory",
					      path, (unsigned long long)elf->segs[i].paddr,
					      (unsigned long long)elf->segs[i].memsz);
		memcpy(dst, buf + elf->segs[i].offset, elf->segs[i].filesz);
		memset(dst + elf->segs[i].filesz, 0, elf->segs[i].memsz - elf->segs[i].filesz);
		end = MAX(end, elf->segs[i].paddr + elf->segs[i].memsz);
	}
	ret = put_cmdline(m, cmdline, X86_CMDLINE_MAX - 1, path, err);
	if (ret < 0)
		return ret;
	if (initrd) {
		ret = load_initrd(m, initrd, ALIGN_UP(end, 4096), VM_MEM_HOLE_START, &rd_addr,
				  &rd_size, err);
		if (ret < 0)
			return ret;
	}
	if (elf->pvh_entry && !in_segment(elf, elf->pvh_entry))
		return cabin_err_make(err, 0,
				      "ELF `%s`: PVH entry `0x%x` is outside the kernel's segments "
				      "in guest RAM",
				      path, elf->pvh_entry);
	if (elf->pvh_entry) {
		uint8_t *si = vm_mem_ptr(&m->mem, X86_PVH_INFO_ADDR, 0x100);
		uint8_t *mm = vm_mem_ptr(&m->mem, PVH_MEMMAP_ADDR, 4 * 24);
		uint8_t zp[4096] = { 0 };
		int n = write_e820(m, zp);

		memset(si, 0, 0x80);
		put_le32(si, PVH_START_MAGIC);
		put_le32(si + 4, 1); /* version 1: has the memory map */
		if (initrd) {
			uint8_t *mod = vm_mem_ptr(&m->mem, PVH_MODLIST_ADDR, 32);

			memset(mod, 0, 32);
			put_le64(mod, rd_addr);
			put_le64(mod + 8, rd_size);
			put_le32(si + 12, 1);
			put_le64(si + 16, PVH_MODLIST_ADDR);
		}
		put_le64(si + 24, X86_CMDLINE_ADDR);
		put_le64(si + 40, PVH_MEMMAP_ADDR);
		put_le32(si + 48, (uint32_t)n);
		for (int i = 0; i < n; i++) {
			const uint8_t *e = zp + BP_E820_TABLE + i * 20;

			put_le64(mm + i * 24, get_le64(e));
			put_le64(mm + i * 24 + 8, get_le64(e + 8));
			put_le32(mm + i * 24 + 16, get_le32(e + 16));
			put_le32(mm + i * 24 + 20, 0);
		}
		bs->mode = X86_BOOT_PROT32;
		bs->regs.rip = elf->pvh_entry;
		bs->regs.rbx = X86_PVH_INFO_ADDR;
	} else {
		uint8_t *zp = vm_mem_ptr(&m->mem, X86_ZERO_PAGE_ADDR, 4096);

		memset(zp, 0, 4096);
		put_le16(zp + HDR_BOOT_FLAG, 0xaa55);
		memcpy(zp + HDR_HEADER, "HdrS", 4);
		put_le16(zp + HDR_VERSION, 0x020f);
		zp[HDR_TYPE_OF_LOADER] = 0xff;
		zp[HDR_LOADFLAGS] = LOADFLAG_LOADED_HIGH | LOADFLAG_CAN_USE_HEAP;
		put_le16(zp + HDR_HEAP_END_PTR, 0xfe00);
		put_le32(zp + HDR_CMD_LINE_PTR, X86_CMDLINE_ADDR);
		put_le32(zp + HDR_RAMDISK_IMAGE, (uint32_t)rd_addr);
		put_le32(zp + HDR_RAMDISK_SIZE, (uint32_t)rd_size);
		write_e820(m, zp);
		bs->mode = X86_BOOT_LONG64;
		bs->regs.rip = elf->entry;
		bs->regs.rsi = X86_ZERO_PAGE_ADDR;
	}
	m->boot_entry = bs->regs.rip;
	return 0;
}

/* --- Multiboot v1 (https://www.gnu.org/software/grub/manual/multiboot/multiboot.html) --- */

#define MB_HEADER_MAGIC 0x1badb002u
#define MB_BOOT_MAGIC 0x2badb002u
#define MB_SEARCH 8192
#define MB_HF_PAGE_ALIGN (1u << 0) /* modules page aligned: placed so */
#define MB_HF_MEMINFO (1u << 1)	   /* mem_* and mmap_* wanted: always given */
#define MB_HF_VIDEO (1u << 2)	   /* video mode: a wish a serial console ignores */
#define MB_HF_AOUT_KLUDGE (1u << 16)
#define MB_HF_KNOWN (MB_HF_PAGE_ALIGN | MB_HF_MEMINFO | MB_HF_VIDEO)
/* struct multiboot_info fields and flags */
#define MBI_MEM_LOWER 4
#define MBI_MEM_UPPER 8
#define MBI_CMDLINE 16
#define MBI_MODS_COUNT 20
#define MBI_MODS_ADDR 24
#define MBI_MMAP_LENGTH 44
#define MBI_MMAP_ADDR 48
#define MBI_BOOT_LOADER_NAME 64
#define MBI_F_MEM (1u << 0)
#define MBI_F_CMDLINE (1u << 2)
#define MBI_F_MODS (1u << 3)
#define MBI_F_MMAP (1u << 6)
#define MBI_F_LOADER_NAME (1u << 9)
/* Where the information goes: the zero page's place, unused by a Multiboot kernel. */
#define MB_INFO_ADDR X86_ZERO_PAGE_ADDR
#define MB_MMAP_ADDR (MB_INFO_ADDR + 0x100)
#define MB_MODS_ADDR (MB_INFO_ADDR + 0x200)
#define MB_NAME_ADDR (MB_INFO_ADDR + 0x300)
#define MB_MOD_CMDLINE_ADDR (MB_INFO_ADDR + 0x400) /* to MB_INFO_ADDR + 4 KiB */

int x86_multiboot_find(const uint8_t *buf, size_t len, uint32_t *flags)
{
	size_t end = MIN(len, (size_t)MB_SEARCH);

	for (size_t off = 0; off + 12 <= end; off += 4) {
		uint32_t magic = get_le32(buf + off), fl = get_le32(buf + off + 4);

		if (magic == MB_HEADER_MAGIC && magic + fl + get_le32(buf + off + 8) == 0) {
			*flags = fl;
			return (int)off;
		}
	}
	return -1;
}

/* Copy @filesz bytes of @src to guest-physical @paddr and zero up to @memsz. */
static int mb_place(struct machine *m, const char *path, uint64_t paddr, const uint8_t *src,
		    uint64_t filesz, uint64_t memsz, struct cabin_err **err)
{
	uint8_t *dst;

	if (paddr < X86_HIMEM_START)
		return cabin_err_make(
			err, 0,
			"Multiboot kernel `%s`: load address `0x%llx` is below 1 MiB, "
			"where the boot tables live",
			path, (unsigned long long)paddr);
	dst = vm_mem_ptr(&m->mem, paddr, memsz);
	if (!dst || paddr + memsz > low_ram_end(&m->mem))
		return cabin_err_make(
			err, ENOMEM,
			"Multiboot kernel `%s`: `%llu` bytes at `0x%llx` do not fit in "
			"guest RAM; raise --memory",
			path, (unsigned long long)memsz, (unsigned long long)paddr);
	memcpy(dst, src, filesz);
	memset(dst + filesz, 0, memsz - filesz);
	return 0;
}

/* The header's own addresses (flag 16, the "a.out kludge"): a flat image. */
static int mb_load_aout(struct machine *m, const char *path, const uint8_t *buf, size_t len,
			size_t hoff, uint64_t *entry, uint64_t *end, struct cabin_err **err)
{
	uint32_t header_addr, load_addr, load_end, bss_end;
	uint64_t off, filesz, memsz;

	if (hoff + 32 > len)
		return cabin_err_make(err, 0,
				      "Multiboot kernel `%s`: header address fields run "
				      "past the end",
				      path);
	header_addr = get_le32(buf + hoff + 12);
	load_addr = get_le32(buf + hoff + 16);
	load_end = get_le32(buf + hoff + 20);
	bss_end = get_le32(buf + hoff + 24);
	*entry = get_le32(buf + hoff + 28);
	if (load_addr > header_addr || header_addr - load_addr > hoff)
		return cabin_err_make(err, 0,
				      "Multiboot kernel `%s`: `load_addr` `0x%x` does not precede "
				      "`header_addr` `0x%x` within the file",
				      path, load_addr, header_addr);
	off = hoff - (header_addr - load_addr);
	filesz = load_end ? (uint64_t)load_end - load_addr : len - off;
	if (load_end && load_end < load_addr)
		return cabin_err_make(err, 0,
				      "Multiboot kernel `%s`: `load_end_addr` below "
				      "`load_addr`",
				      path);
	if (filesz > len - off)
		return cabin_err_make(err, 0,
				      "Multiboot kernel `%s`: `load_end_addr` `0x%x` is past the "
				      "end of the file",
				      path, load_end);
	memsz = bss_end && bss_end > load_addr + filesz ? bss_end - load_addr : filesz;
	*end = load_addr + memsz;
	if (*entry < load_addr || *entry >= *end)
		return cabin_err_make(err, 0,
				      "Multiboot kernel `%s`: `entry_addr` `0x%llx` is outside the "
				      "loaded image",
				      path, (unsigned long long)*entry);
	return mb_place(m, path, load_addr, buf + off, filesz, memsz, err);
}

/* An ELF32 or ELF64 x86 image: every PT_LOAD at its physical address. */
static int mb_load_elf(struct machine *m, const char *path, const uint8_t *buf, size_t len,
		       uint64_t *entry, uint64_t *end, struct cabin_err **err)
{
	int is64;
	uint64_t phoff, e_entry;
	unsigned int phentsize, phnum, nload = 0;

	if (len < 52 || memcmp(buf, "\177ELF", 4))
		return cabin_err_make(err, 0,
				      "Multiboot kernel `%s`: not ELF, and the header has no "
				      "load addresses (flag 16)",
				      path);
	is64 = buf[4] == 2;
	if ((buf[4] != 1 && buf[4] != 2) || buf[5] != 1 || (is64 && len < 64))
		return cabin_err_make(err, 0,
				      "Multiboot kernel `%s`: not a little-endian ELF32 "
				      "or ELF64 file",
				      path);
	if (get_le16(buf + 18) != (is64 ? 62 : 3))
		return cabin_err_make(err, 0, "Multiboot kernel `%s`: `e_machine` `%u` is not x86",
				      path, get_le16(buf + 18));
	e_entry = is64 ? get_le64(buf + 24) : get_le32(buf + 24);
	phoff = is64 ? get_le64(buf + 32) : get_le32(buf + 28);
	phentsize = get_le16(buf + (is64 ? 54 : 42));
	phnum = get_le16(buf + (is64 ? 56 : 44));
	if (phentsize < (is64 ? 56u : 32u))
		return cabin_err_make(err, 0, "Multiboot kernel `%s`: `e_phentsize` `%u` too small",
				      path, phentsize);
	if (phoff > len || (uint64_t)phnum * phentsize > len - phoff)
		return cabin_err_make(err, 0,
				      "Multiboot kernel `%s`: program headers run past "
				      "the end",
				      path);
	*entry = 0;
	*end = 0;
	for (unsigned int i = 0; i < phnum; i++) {
		const uint8_t *ph = buf + phoff + (uint64_t)i * phentsize;
		uint64_t off, vaddr, paddr, filesz, memsz;
		int ret;

		if (get_le32(ph) != 1) /* PT_LOAD */
			continue;
		off = is64 ? get_le64(ph + 8) : get_le32(ph + 4);
		vaddr = is64 ? get_le64(ph + 16) : get_le32(ph + 8);
		paddr = is64 ? get_le64(ph + 24) : get_le32(ph + 12);
		filesz = is64 ? get_le64(ph + 32) : get_le32(ph + 16);
		memsz = is64 ? get_le64(ph + 40) : get_le32(ph + 20);
		if (off > len || filesz > len - off || memsz < filesz || paddr + memsz < paddr)
			return cabin_err_make(err, 0,
					      "Multiboot kernel `%s`: segment `%u` has bad sizes "
					      "or runs past the end of the file",
					      path, i);
		ret = mb_place(m, path, paddr, buf + off, filesz, memsz, err);
		if (ret < 0)
			return ret;
		/* As QEMU: the entry is physical, or virtual within a segment. */
		if (e_entry >= paddr && e_entry - paddr < memsz)
			*entry = e_entry;
		else if (!*entry && e_entry >= vaddr && e_entry - vaddr < memsz)
			*entry = paddr + (e_entry - vaddr);
		*end = MAX(*end, paddr + memsz);
		nload++;
	}
	if (!nload)
		return cabin_err_make(err, 0, "Multiboot kernel `%s`: no PT_LOAD segment", path);
	if (!*entry)
		return cabin_err_make(err, 0,
				      "Multiboot kernel `%s`: entry `0x%llx` is in no loadable "
				      "segment",
				      path, (unsigned long long)e_entry);
	return 0;
}

static int load_multiboot(struct machine *m, const char *path, const uint8_t *buf, size_t len,
			  int hoff, uint32_t hflags, const char *initrd, const char *args,
			  struct x86_boot_state *bs, struct cabin_err **err)
{
	uint64_t entry = 0, end = 0, rd_addr = 0, rd_size = 0;
	uint8_t *mbi, *mmap, zp[4096] = { 0 };
	uint32_t flags = MBI_F_MEM | MBI_F_CMDLINE | MBI_F_MODS | MBI_F_MMAP | MBI_F_LOADER_NAME;
	cleanup_free char *cmdline = NULL;
	int n, ret;

	if (hflags & 0xffff & ~MB_HF_KNOWN)
		return cabin_err_make(err, 0,
				      "Multiboot kernel `%s`: header flags `0x%x` ask for features "
				      "cabin does not provide",
				      path, hflags & 0xffff & ~MB_HF_KNOWN);
	if (hflags & MB_HF_AOUT_KLUDGE)
		ret = mb_load_aout(m, path, buf, len, (size_t)hoff, &entry, &end, err);
	else
		ret = mb_load_elf(m, path, buf, len, &entry, &end, err);
	if (ret < 0)
		return ret;
	/* As GRUB and QEMU: the first word of the command line is the kernel's path. */
	cmdline = args && *args ? xasprintf("%s %s", path, args) : xstrdup(path);
	ret = put_cmdline(m, cmdline, X86_CMDLINE_MAX - 1, path, err);
	if (ret < 0)
		return ret;
	mbi = vm_mem_ptr(&m->mem, MB_INFO_ADDR, 4096);
	memset(mbi, 0, 4096);
	if (initrd) {
		uint8_t *mod = mbi + (MB_MODS_ADDR - MB_INFO_ADDR);
		size_t l = MIN(strlen(initrd),
			       (size_t)4096 - (MB_MOD_CMDLINE_ADDR - MB_INFO_ADDR) - 1);

		ret = load_initrd(m, initrd, ALIGN_UP(end, 4096), VM_MEM_HOLE_START, &rd_addr,
				  &rd_size, err);
		if (ret < 0)
			return ret;
		put_le32(mod, (uint32_t)rd_addr);
		put_le32(mod + 4, (uint32_t)(rd_addr + rd_size));
		put_le32(mod + 8, MB_MOD_CMDLINE_ADDR);
		memcpy(mbi + (MB_MOD_CMDLINE_ADDR - MB_INFO_ADDR), initrd, l);
		put_le32(mbi + MBI_MODS_COUNT, 1);
	}
	put_le32(mbi + MBI_MODS_ADDR, MB_MODS_ADDR);
	put_le32(mbi + MBI_MEM_LOWER, X86_EBDA_START / 1024);
	put_le32(mbi + MBI_MEM_UPPER, (uint32_t)((low_ram_end(&m->mem) - X86_HIMEM_START) / 1024));
	put_le32(mbi + MBI_CMDLINE, X86_CMDLINE_ADDR);
	/* The memory map: e820 entries, each prefixed by its size (20). */
	n = write_e820(m, zp);
	mmap = mbi + (MB_MMAP_ADDR - MB_INFO_ADDR);
	for (int i = 0; i < n; i++) {
		put_le32(mmap + i * 24, 20);
		memcpy(mmap + i * 24 + 4, zp + BP_E820_TABLE + i * 20, 20);
	}
	put_le32(mbi + MBI_MMAP_LENGTH, (uint32_t)n * 24);
	put_le32(mbi + MBI_MMAP_ADDR, MB_MMAP_ADDR);
	memcpy(mbi + (MB_NAME_ADDR - MB_INFO_ADDR), "cabin", 6);
	put_le32(mbi + MBI_BOOT_LOADER_NAME, MB_NAME_ADDR);
	put_le32(mbi, flags);

	bs->mode = X86_BOOT_MULTIBOOT;
	bs->regs.rip = entry;
	bs->regs.rax = MB_BOOT_MAGIC;
	bs->regs.rbx = MB_INFO_ADDR;
	m->boot_entry = entry;
	return 0;
}

static int load_firmware(struct machine *m, const char *path, const void *data, size_t len,
			 struct x86_boot_state *bs, struct cabin_err **err)
{
	cleanup_free uint8_t *buf = NULL;
	int ret;

	if (path) {
		ret = read_file(path, "firmware", X86_FIRMWARE_MAX, &buf, &len, err);
		if (ret < 0)
			return ret;
		data = buf;
	}
	if (len < 16 || len > X86_FIRMWARE_MAX)
		return cabin_err_make(err, 0,
				      "firmware `%s` is `%zu` bytes; need 16 bytes to 256 KiB",
				      path ? path : "(built-in)", len);
	if (vm_mem_write(&m->mem, X86_HIMEM_START - len, data, len) < 0)
		return cabin_err_make(err, EFAULT, "firmware does not fit in guest memory");
	/* PC reset state, except CS.base: F0000 rather than FFFF0000, so no high alias is needed.
	 */
	memset(&bs->regs, 0, sizeof(bs->regs));
	bs->mode = X86_BOOT_REAL;
	bs->regs.rip = 0xfff0;
	bs->regs.rflags = 0x2;
	bs->nr_msrs = 0;
	m->boot_entry = 0xffff0;
	return 0;
}

/*
 * ACPI tables (acpi.c) for a booted kernel. Linux finds the RSDP by scanning
 * 0xe0000-0xfffff anyway; the boot protocol's pointer (boot_params.acpi_rsdp_addr,
 * protocol 2.14+, or hvm_start_info.rsdp_paddr for PVH) saves it the scan.
 */
static int put_acpi(struct machine *m, const struct x86_boot_state *bs, struct cabin_err **err)
{
	uint64_t rsdp = 0;
	int ret;

	ret = x86_acpi_write(m, &rsdp, err);
	if (ret < 0)
		return ret;
	if (bs->mode == X86_BOOT_PROT32)
		put_le64(vm_mem_ptr(&m->mem, X86_PVH_INFO_ADDR, 0x80) + PVH_RSDP_PADDR, rsdp);
	else if (bs->mode == X86_BOOT_LONG64)
		put_le64(vm_mem_ptr(&m->mem, X86_ZERO_PAGE_ADDR, 4096) + BP_ACPI_RSDP_ADDR, rsdp);
	return 0;
}

int x86_boot_load(struct machine *m, const char *kernel, const char *initrd, const char *cmdline,
		  const char *mb_args, const char *firmware, const void *fw_data, size_t fw_len,
		  struct x86_boot_state *bs, struct cabin_err **err)
{
	cleanup_free uint8_t *buf = NULL;
	struct x86_elf elf;
	size_t len = 0;
	uint32_t mb_flags = 0;
	int ret, mb;

	memset(bs, 0, sizeof(*bs));
	if (low_ram_end(&m->mem) < X86_HIMEM_START)
		return cabin_err_make(err, 0, "guest memory below 1 MiB");
	ret = x86_mptable_write(&m->mem, m->nr_vcpus, err);
	if (ret < 0)
		return ret;
	if (!kernel)
		return load_firmware(m, firmware, fw_data, fw_len, bs, err);

	ret = read_file(kernel, "kernel", (size_t)1 << 30, &buf, &len, err);
	if (ret < 0)
		return ret;
	write_gdt(&m->mem);
	write_page_tables(&m->mem);
	boot_msrs(bs);
	bs->regs.rflags = 0x2;
	bs->regs.rsp = X86_BOOT_STACK;
	bs->regs.rbp = X86_BOOT_STACK;
	mb = x86_multiboot_find(buf, len, &mb_flags);
	if (mb >= 0) {
		ret = load_multiboot(m, kernel, buf, len, mb, mb_flags, initrd, mb_args, bs, err);
		if (ret < 0)
			return ret;
		return put_acpi(m, bs, err);
	}
	ret = x86_elf_parse(buf, len, kernel, &elf, err);
	if (ret < 0)
		return ret;
	if (ret == 0)
		ret = load_elf(m, kernel, buf, &elf, initrd, cmdline, bs, err);
	else
		ret = load_bzimage(m, kernel, buf, len, initrd, cmdline, bs, err);
	if (ret < 0)
		return ret;
	return put_acpi(m, bs, err);
}

static struct x86_segment flat_seg(uint16_t sel, uint8_t type, int code64, int db)
{
	return (struct x86_segment){ .base = 0,
				     .limit = 0xffffffff,
				     .selector = sel,
				     .type = type,
				     .present = 1,
				     .dpl = 0,
				     .db = (uint8_t)db,
				     .s = 1,
				     .l = (uint8_t)code64,
				     .g = 1 };
}

int x86_boot_apply(struct vcpu *v, const struct x86_boot_state *bs, struct cabin_err **err)
{
	const struct accel_ops *a = v->m->accel;
	struct x86_sregs s;
	struct x86_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	int ret;

	/*
	 * x87/SSE state spelled out too: FNINIT's control word and the MXCSR of a
	 * RESET. Some KVM implementations hand out a vCPU with MXCSR 0.
	 */
	ret = a->set_fpu ? a->set_fpu(v, &fpu) : 0;
	if (ret < 0)
		return cabin_err_make(err, -ret, "set the x87/SSE state of vcpu %u", v->index);
	if (bs->nr_msrs) {
		ret = a->set_msrs(v, bs->msr_idx, bs->msr_val, bs->nr_msrs);
		if (ret < 0)
			log_warn("vcpu %u: boot MSRs not all accepted: %s", v->index,
				 strerror(-ret));
	}
	if (v->index != 0)
		return 0;
	ret = a->get_sregs(v, &s);
	if (ret < 0)
		return cabin_err_make(err, -ret, "get special registers of vcpu 0");
	switch (bs->mode) {
	case X86_BOOT_REAL:
		/* Spelled out so that every accelerator starts from the same reset state. */
		s.cs.selector = 0xf000;
		s.cs.base = 0xf0000;
		s.cr0 = 0x60000010; /* CD | NW | ET */
		s.cr3 = 0;
		s.cr4 = 0;
		s.efer = 0;
		break;
	case X86_BOOT_PROT32:
	case X86_BOOT_MULTIBOOT:
		s.cs = flat_seg(0x28, 0xb, 0, 1);
		s.ds = s.es = s.fs = s.gs = s.ss = flat_seg(0x18, 0x3, 0, 1);
		s.tr = (struct x86_segment){
			.selector = 0x20, .limit = 0xffff, .type = 0xb, .present = 1
		};
		s.gdt = (struct x86_dtable){ X86_GDT_ADDR, 6 * 8 - 1 };
		s.idt = (struct x86_dtable){ X86_IDT_ADDR, 0 };
		s.cr0 = CR0_PE | CR0_ET;
		s.cr4 = 0;
		s.efer = 0;
		break;
	case X86_BOOT_LONG64:
		s.cs = flat_seg(0x10, 0xb, 1, 0);
		s.ds = s.es = s.fs = s.gs = s.ss = flat_seg(0x18, 0x3, 0, 1);
		s.tr = (struct x86_segment){
			.selector = 0x20, .limit = 0xffff, .type = 0xb, .present = 1
		};
		s.gdt = (struct x86_dtable){ X86_GDT_ADDR, 6 * 8 - 1 };
		s.idt = (struct x86_dtable){ X86_IDT_ADDR, 0 };
		s.cr0 = CR0_PE | CR0_ET | CR0_PG;
		s.cr3 = X86_PML4_ADDR;
		s.cr4 = CR4_PAE;
		s.efer = EFER_LME | EFER_LMA;
		break;
	}
	ret = a->set_sregs(v, &s);
	if (ret < 0)
		return cabin_err_make(err, -ret, "set special registers of vcpu 0");
	ret = a->set_regs(v, &bs->regs);
	if (ret < 0)
		return cabin_err_make(err, -ret, "set registers of vcpu 0");
	return 0;
}
