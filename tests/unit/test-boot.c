/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * x86 boot without a CPU: bzImage and ELF header parsing with hostile input,
 * then a full load into guest memory, checked byte by byte (zero page, e820,
 * command line, initrd, MP table, PVH start info, firmware placement).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/error.h"
#include "unit/tap.h"
#include "vm/machine.h"
#include "vm/x86/boot.h"

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* A well-formed bzImage: 4 setup sectors + 1, then @ksize bytes of "kernel". */
static uint8_t *make_bzimage(size_t ksize, size_t *len)
{
	size_t setup = 5 * 512;
	uint8_t *b = calloc(1, setup + ksize);

	b[0x1f1] = 4;
	put16(b + 0x1fe, 0xaa55);
	b[0x200] = 0xeb;
	b[0x201] = 0x6a; /* header runs to 0x26c */
	memcpy(b + 0x202, "HdrS", 4);
	put16(b + 0x206, 0x020f);
	b[0x211] = 0x01;
	put32(b + 0x22c, 0x37ffffff);
	put16(b + 0x236, 0x1);
	put32(b + 0x238, 2047);
	put32(b + 0x260, 0x20000);
	for (size_t i = 0; i < ksize; i++)
		b[setup + i] = (uint8_t)(i * 7);
	*len = setup + ksize;
	return b;
}

static int parse_fails(const uint8_t *b, size_t len, const char *needle)
{
	struct x86_bzimage bz;
	struct cabin_err *err = NULL;
	int ret = x86_bzimage_parse(b, len, "img", &bz, &err);
	int ok = ret < 0 && err && strstr(err->msg, needle) && strstr(err->msg, "`img`");

	if (!ok)
		tap_diag("got %d: %s", ret, err ? err->msg : "(no error)");
	cabin_err_release(&err);
	return ok;
}

static void test_bzimage_parse(void)
{
	struct x86_bzimage bz;
	struct cabin_err *err = NULL;
	size_t len;
	uint8_t *b = make_bzimage(0x1000, &len);
	uint8_t *c = malloc(len);

	tap_ok(x86_bzimage_parse(b, len, "img", &bz, &err) == 0, "valid bzImage parses");
	tap_ok(bz.setup_size == 5 * 512 && bz.kernel_size == 0x1000 && bz.version == 0x020f,
	       "setup and kernel sizes");
	tap_ok(bz.cmdline_size == 2047 && bz.init_size == 0x20000, "cmdline_size and init_size");

	tap_ok(parse_fails(b, 0x100, "too short"), "file shorter than the header");
	memcpy(c, b, len);
	c[0x203] = 'x';
	tap_ok(parse_fails(c, len, "HdrS"), "bad magic");
	memcpy(c, b, len);
	put16(c + 0x206, 0x0204);
	tap_ok(parse_fails(c, len, "too old"), "boot protocol 2.04");
	memcpy(c, b, len);
	c[0x201] = 0xff; /* header claims to run to 0x301 */
	tap_ok(parse_fails(c, 0x280, "runs past the end"),
	       "header length past the end of the file");
	memcpy(c, b, len);
	c[0x201] = 0x00; /* header too short to hold cmdline_size */
	tap_ok(parse_fails(c, len, "cmdline_size"), "header too short for cmdline_size");
	memcpy(c, b, len);
	c[0x1f1] = 0xff; /* 256 sectors of setup: past the end */
	tap_ok(parse_fails(c, len, "setup_sects"), "setup_sects past the end of the file");
	memcpy(c, b, len);
	c[0x211] = 0;
	tap_ok(parse_fails(c, len, "LOADED_HIGH"), "no LOADED_HIGH");
	memcpy(c, b, len);
	put16(c + 0x236, 0);
	tap_ok(parse_fails(c, len, "64-bit"), "no 64-bit entry point");
	memcpy(c, b, len);
	put16(c + 0x1fe, 0);
	tap_ok(parse_fails(c, len, "boot_flag"), "bad boot_flag");
	tap_ok(parse_fails(b, 5 * 512 + 0x100, "too short for the 64-bit entry"),
	       "kernel part too short for startup_64");
	memcpy(c, b, len);
	put32(c + 0x1f4, 0x1000 / 16); /* syssize: exactly the kernel part */
	tap_ok(x86_bzimage_parse(c, len, "img", &bz, &err) == 0,
	       "syssize equal to the kernel part is accepted");
	tap_ok(parse_fails(c, len - 16, "truncated"),
	       "a file shorter than syssize says is refused");
	free(b);
	free(c);
}

/* ELF64 with one PT_LOAD at paddr 0x200000 and, optionally, a Xen PVH note. */
static uint8_t *make_elf(int pvh, size_t *len)
{
	size_t sz = 0x1000 + 0x100;
	uint8_t *b = calloc(1, sz);
	uint8_t *ph;

	memcpy(b, "\177ELF", 4);
	b[4] = 2;
	b[5] = 1;
	put16(b + 18, 62);
	put64(b + 24, 0xffffffff81000010ull); /* e_entry (virtual) */
	put64(b + 32, 64);
	put16(b + 54, 56);
	put16(b + 56, pvh ? 2 : 1);
	ph = b + 64;
	put32(ph, 1);
	put64(ph + 8, 0x1000);
	put64(ph + 16, 0xffffffff81000000ull);
	put64(ph + 24, 0x200000);
	put64(ph + 32, 0x100);
	put64(ph + 40, 0x2000);
	memset(b + 0x1000, 0x90, 0x100);
	if (pvh) {
		uint8_t *n = b + 0x200;

		ph += 56;
		put32(ph, 4);
		put64(ph + 8, 0x200);
		put64(ph + 32, 20);
		put32(n, 4);
		put32(n + 4, 4);
		put32(n + 8, 18);
		memcpy(n + 12, "Xen", 4);
		put32(n + 16, 0x200040);
	}
	*len = sz;
	return b;
}

static void test_elf_parse(void)
{
	struct x86_elf elf;
	struct cabin_err *err = NULL;
	size_t len;
	uint8_t *b = make_elf(1, &len);
	uint8_t *c = malloc(len);

	tap_ok(x86_elf_parse((const uint8_t *)"MZ\0\0", 4, "x", &elf, &err) == 1,
	       "non-ELF input is told apart (returns 1)");
	tap_ok(x86_elf_parse(b, len, "vmlinux", &elf, &err) == 0, "ELF with PVH note parses");
	tap_ok(elf.nr_segs == 1 && elf.segs[0].paddr == 0x200000 && elf.segs[0].memsz == 0x2000,
	       "PT_LOAD segment");
	tap_ok(elf.entry == 0x200010, "64-bit entry translated to a physical address");
	tap_ok(elf.pvh_entry == 0x200040, "XEN_ELFNOTE_PHYS32_ENTRY found");

	memcpy(c, b, len);
	put64(c + 24, 0x200020); /* e_entry physical, as Linux's phys_startup_64 */
	tap_ok(x86_elf_parse(c, len, "vmlinux", &elf, &err) == 0 && elf.entry == 0x200020,
	       "a physical e_entry is used as it is");
	memcpy(c, b, len);
	put64(c + 64 + 32, 0x100000); /* filesz past the end */
	tap_ok(x86_elf_parse(c, len, "vmlinux", &elf, &err) < 0 && strstr(err->msg, "past the end"),
	       "segment past the end of the file is refused");
	cabin_err_release(&err);
	memcpy(c, b, len);
	put16(c + 56, 0xffff); /* e_phnum */
	tap_ok(x86_elf_parse(c, len, "vmlinux", &elf, &err) < 0 &&
		       strstr(err->msg, "program headers"),
	       "program headers past the end are refused");
	cabin_err_release(&err);
	memcpy(c, b, len);
	put64(c + 64 + 40, 0x10); /* memsz < filesz */
	tap_ok(x86_elf_parse(c, len, "vmlinux", &elf, &err) < 0, "memsz below filesz is refused");
	cabin_err_release(&err);
	memcpy(c, b, len);
	put32(c + 0x200 + 4, 0xfffffff0); /* note descsz huge */
	tap_ok(x86_elf_parse(c, len, "vmlinux", &elf, &err) == 0 && elf.pvh_entry == 0,
	       "a note with a huge size is ignored, not followed");
	memcpy(c, b, len);
	put16(c + 18, 3);
	tap_ok(x86_elf_parse(c, len, "vmlinux", &elf, &err) < 0 && strstr(err->msg, "x86-64"),
	       "i386 ELF is refused");
	cabin_err_release(&err);
	free(b);
	free(c);
}

static char *write_tmp(const void *data, size_t len)
{
	char *path = strdup("/tmp/cabin-test-boot.XXXXXX");
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		abort();
	close(fd);
	return path;
}

static int mp_checksum_ok(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s == 0;
}

static void test_load(void)
{
	static struct machine m;
	struct x86_boot_state bs;
	struct cabin_err *err = NULL;
	size_t len;
	uint8_t *b = make_bzimage(0x3000, &len);
	uint8_t rd[5000];
	char *kpath = write_tmp(b, len), *rpath;
	uint8_t *zp, *mp;
	int ret;

	memset(rd, 0x5a, sizeof(rd));
	rpath = write_tmp(rd, sizeof(rd));
	m.nr_vcpus = 2;
	tap_ok(vm_mem_init(&m.mem, 64ull << 20, 0, &err) == 0, "64 MiB for the load tests");
	ret = x86_boot_load(&m, kpath, rpath, "console=ttyS0 quiet", NULL, NULL, NULL, 0, &bs,
			    &err);
	tap_ok(ret == 0, "bzImage + initrd load (%s)", err ? err->msg : "ok");
	tap_ok(!memcmp(m.mem.base + 0x100000, b + 5 * 512, 0x3000),
	       "protected-mode kernel copied to 1 MiB");
	tap_ok(bs.mode == X86_BOOT_LONG64 && bs.regs.rip == 0x100200 && bs.regs.rsi == 0x7000,
	       "64-bit entry at load address + 0x200 with RSI = zero page");
	zp = m.mem.base + X86_ZERO_PAGE_ADDR;
	tap_ok(zp[0x210] == 0xff && (zp[0x211] & 0x81) == 0x81, "type_of_loader and loadflags");
	tap_ok(get32(zp + 0x228) == X86_CMDLINE_ADDR &&
		       !strcmp((char *)m.mem.base + X86_CMDLINE_ADDR, "console=ttyS0 quiet"),
	       "command line");
	uint32_t rd_at = get32(zp + 0x218);

	tap_ok(get32(zp + 0x21c) == sizeof(rd) && rd_at % 4096 == 0 &&
		       rd_at + sizeof(rd) <= (64u << 20) && rd_at >= 0x100000 + 0x20000 &&
		       !memcmp(m.mem.base + rd_at, rd, sizeof(rd)),
	       "initrd page-aligned at the top of RAM, above the kernel's init_size");
	tap_ok(zp[0x1e8] == 2, "two e820 entries");
	tap_ok(get64(zp + 0x2d0) == 0 && get64(zp + 0x2d8) == X86_EBDA_START &&
		       get32(zp + 0x2e0) == 1,
	       "e820: RAM below the EBDA");
	tap_ok(get64(zp + 0x2e4) == 0x100000 && get64(zp + 0x2ec) == (64u << 20) - 0x100000,
	       "e820: RAM from 1 MiB to the end");
	tap_ok(get64(m.mem.base + X86_PML4_ADDR) == (X86_PDPT_ADDR | 3) &&
		       get64(m.mem.base + X86_PD_ADDR + 8) == ((2u << 20) | 0x83),
	       "identity page tables");
	mp = m.mem.base + X86_EBDA_START;
	tap_ok(!memcmp(mp, "_MP_", 4) && mp_checksum_ok(mp, 16), "MP floating pointer + checksum");
	tap_ok(!memcmp(mp + 16, "PCMP", 4) && mp_checksum_ok(mp + 16, mp[20] | mp[21] << 8),
	       "MP config table + checksum");
	tap_ok(mp[16 + 44] == 0 && mp[16 + 44 + 3] == 3 && mp[16 + 64] == 0 &&
		       mp[16 + 64 + 1] == 1 && mp[16 + 64 + 3] == 1,
	       "two processors, the first the BSP");
	/* After 2 processors, the bus and the IOAPIC: 24 interrupt entries, pin n for IRQ n. */
	const uint8_t *ioint = mp + 16 + 44 + 2 * 20 + 8 + 8;
	int routes_ok = 1;

	for (int i = 0; i < 24; i++)
		if (ioint[i * 8] != 3 || ioint[i * 8 + 5] != i || ioint[i * 8 + 7] != i)
			routes_ok = 0;
	tap_ok(routes_ok && ioint[24 * 8] == 4, "IRQ n routed to IOAPIC pin n for all 24 pins");

	char longcmd[3000];

	memset(longcmd, 'a', sizeof(longcmd) - 1);
	longcmd[sizeof(longcmd) - 1] = 0;
	ret = x86_boot_load(&m, kpath, NULL, longcmd, NULL, NULL, NULL, 0, &bs, &err);
	tap_ok(ret < 0 && strstr(err->msg, "at most `2047`"),
	       "command line longer than cmdline_size is refused");
	cabin_err_release(&err);

	/* A relocatable kernel that decompresses at 16 MiB keeps the initrd above 16 MiB +
	 * init_size. */
	put64(b + 0x258, 0x1000000);
	unlink(kpath);
	free(kpath);
	kpath = write_tmp(b, len);
	memset(zp, 0, 4096);
	ret = x86_boot_load(&m, kpath, rpath, "", NULL, NULL, NULL, 0, &bs, &err);
	rd_at = get32(zp + 0x218);
	tap_ok(ret == 0 && rd_at >= 0x1000000 + 0x20000, "initrd above pref_address + init_size");
	vm_mem_fini(&m.mem);
	tap_ok(vm_mem_init(&m.mem, 16ull << 20, 0, &err) == 0, "16 MiB");
	ret = x86_boot_load(&m, kpath, NULL, "", NULL, NULL, NULL, 0, &bs, &err);
	tap_ok(ret < 0 && strstr(err->msg, "raise --memory"),
	       "a kernel decompressing at 16 MiB does not fit in 16 MiB");
	cabin_err_release(&err);
	put64(b + 0x258, 0);
	unlink(kpath);
	free(kpath);
	kpath = write_tmp(b, len);
	vm_mem_fini(&m.mem);
	tap_ok(vm_mem_init(&m.mem, 4ull << 20, 0, &err) == 0, "4 MiB");
	ret = x86_boot_load(&m, kpath, rpath, "", NULL, NULL, NULL, 0, &bs, &err);
	tap_ok(ret == 0, "small kernel and initrd fit in 4 MiB");
	put32(b + 0x260, 0x400000); /* init_size: 4 MiB */
	unlink(kpath);
	free(kpath);
	kpath = write_tmp(b, len);
	ret = x86_boot_load(&m, kpath, NULL, "", NULL, NULL, NULL, 0, &bs, &err);
	tap_ok(ret < 0 && strstr(err->msg, "raise --memory"),
	       "a kernel whose init_size does not fit is refused");
	cabin_err_release(&err);
	vm_mem_fini(&m.mem);

	/* PVH ELF */
	size_t elen;
	uint8_t *e = make_elf(1, &elen);
	char *epath = write_tmp(e, elen);

	tap_ok(vm_mem_init(&m.mem, 32ull << 20, 0, &err) == 0, "32 MiB");
	ret = x86_boot_load(&m, epath, rpath, "root=/dev/vda", NULL, NULL, NULL, 0, &bs, &err);
	tap_ok(ret == 0 && bs.mode == X86_BOOT_PROT32 && bs.regs.rip == 0x200040 &&
		       bs.regs.rbx == X86_PVH_INFO_ADDR,
	       "PVH entry in 32-bit mode with EBX = start info");
	uint8_t *si = m.mem.base + X86_PVH_INFO_ADDR;

	tap_ok(get32(si) == 0x336ec578 && get32(si + 12) == 1 &&
		       get64(si + 24) == X86_CMDLINE_ADDR && get32(si + 48) == 2,
	       "hvm_start_info: magic, one module, cmdline, two memory map entries");
	tap_ok(m.mem.base[0x200000] == 0x90 && m.mem.base[0x200100] == 0 &&
		       m.mem.base[0x201fff] == 0,
	       "segment loaded at its paddr, bss zeroed");

	/* Firmware: 64 KiB ends at 1 MiB. */
	uint8_t fw[65536];

	memset(fw, 0xf4, sizeof(fw));
	fw[0] = 0x12;
	fw[0xfff0] = 0xea;
	ret = x86_boot_load(&m, NULL, NULL, NULL, NULL, NULL, fw, sizeof(fw), &bs, &err);
	tap_ok(ret == 0 && bs.mode == X86_BOOT_REAL && bs.regs.rip == 0xfff0 &&
		       m.mem.base[0xf0000] == 0x12 && m.mem.base[0xffff0] == 0xea,
	       "64 KiB firmware occupies 0xF0000-0xFFFFF, entry F000:FFF0");
	ret = x86_boot_load(&m, NULL, NULL, NULL, NULL, NULL, fw, 8, &bs, &err);
	tap_ok(ret < 0, "firmware shorter than a reset vector is refused");
	cabin_err_release(&err);
	vm_mem_fini(&m.mem);

	unlink(kpath);
	unlink(rpath);
	unlink(epath);
	free(kpath);
	free(rpath);
	free(epath);
	free(b);
	free(e);
}

/*
 * A Multiboot v1 kernel: ELF32 with one PT_LOAD at 0x300000 (0x100 bytes of file,
 * 0x1000 in memory), the header at file offset 0x1000 (inside the segment).
 */
static uint8_t *make_multiboot(uint32_t hflags, size_t *len)
{
	size_t sz = 0x1100;
	uint8_t *b = calloc(1, sz), *ph = b + 52;

	memcpy(b, "\177ELF", 4);
	b[4] = 1;
	b[5] = 1;
	put16(b + 18, 3);
	put32(b + 24, 0x300010); /* e_entry */
	put32(b + 28, 52);	 /* e_phoff */
	put16(b + 42, 32);
	put16(b + 44, 1);
	put32(ph, 1);
	put32(ph + 4, 0x1000);	  /* p_offset */
	put32(ph + 8, 0x300000);  /* p_vaddr */
	put32(ph + 12, 0x300000); /* p_paddr */
	put32(ph + 16, 0x100);
	put32(ph + 20, 0x1000);
	memset(b + 0x1000, 0xcc, 0x100);
	put32(b + 0x1000, 0x1badb002);
	put32(b + 0x1004, hflags);
	put32(b + 0x1008, 0u - (0x1badb002u + hflags));
	if (hflags & (1u << 16)) {
		/* a.out kludge: the same bytes, loaded at 0x400000 by the header's addresses */
		put32(b + 0x100c, 0x400000); /* header_addr */
		put32(b + 0x1010, 0x400000); /* load_addr */
		put32(b + 0x1014, 0x400100); /* load_end_addr */
		put32(b + 0x1018, 0x402000); /* bss_end_addr */
		put32(b + 0x101c, 0x400020); /* entry_addr */
		memset(b, 0, 4);	     /* and not ELF */
	}
	*len = sz;
	return b;
}

static void test_multiboot(void)
{
	static struct machine m;
	struct x86_boot_state bs;
	struct cabin_err *err = NULL;
	size_t len, klen;
	uint8_t rd[100], *k = make_multiboot(0x3, &klen), *mbi, *mmap;
	char *kpath = write_tmp(k, klen), *rpath, *apath, *bpath;
	uint32_t flags = 0;
	int ret;

	memset(rd, 0x77, sizeof(rd));
	rpath = write_tmp(rd, sizeof(rd));
	tap_ok(x86_multiboot_find(k, klen, &flags) == 0x1000 && flags == 3,
	       "the Multiboot header is found with its flags");
	put32(k + 0x1008, 0);
	tap_ok(x86_multiboot_find(k, klen, &flags) < 0, "a bad checksum is no header");
	put32(k + 0x1008, 0u - (0x1badb002u + 3));
	tap_ok(x86_multiboot_find(k, 0x1000, &flags) < 0, "the header must be in the file");

	m.nr_vcpus = 1;
	tap_ok(vm_mem_init(&m.mem, 32ull << 20, 0, &err) == 0, "32 MiB for Multiboot");
	ret = x86_boot_load(&m, kpath, rpath, "console=ttyS0 virtio_mmio.device=x", "-t 1", NULL,
			    NULL, 0, &bs, &err);
	tap_ok(ret == 0, "Multiboot ELF32 + module loads (%s)", err ? err->msg : "ok");
	tap_ok(bs.mode == X86_BOOT_MULTIBOOT && bs.regs.rip == 0x300010 &&
		       bs.regs.rax == 0x2badb002 && bs.regs.rbx == X86_ZERO_PAGE_ADDR,
	       "entry in 32-bit mode with EAX = 0x2BADB002, EBX = information");
	tap_ok(m.mem.base[0x300000] == 0x02 && m.mem.base[0x300010] == 0xcc &&
		       m.mem.base[0x300100] == 0 && m.mem.base[0x300fff] == 0,
	       "segment at its paddr, bss zeroed");
	mbi = m.mem.base + bs.regs.rbx;
	tap_ok((get32(mbi) & 0x24d) == 0x24d,
	       "flags: mem, cmdline, mods, mmap, boot loader name (0x%x)", get32(mbi));
	tap_ok(get32(mbi + 4) == 639 && get32(mbi + 8) == (32u << 10) - 1024,
	       "mem_lower 639 KiB, mem_upper up to the end of RAM (%u %u)", get32(mbi + 4),
	       get32(mbi + 8));
	char want[600];

	snprintf(want, sizeof(want), "%s -t 1", kpath);
	tap_ok(!strcmp((char *)m.mem.base + get32(mbi + 16), want),
	       "cmdline: the kernel's path, then only the user's words (`%s`)",
	       (char *)m.mem.base + get32(mbi + 16));
	uint8_t *mod = m.mem.base + get32(mbi + 24);

	tap_ok(get32(mbi + 20) == 1 && get32(mod + 4) - get32(mod) == sizeof(rd) &&
		       (get32(mod) & 0xfff) == 0 && get32(mod) >= 0x301000 &&
		       m.mem.base[get32(mod)] == 0x77,
	       "one page-aligned module above the kernel: the initrd");
	tap_ok(!strcmp((char *)m.mem.base + get32(mod + 8), rpath), "module string: its path");
	mmap = m.mem.base + get32(mbi + 48);
	tap_ok(get32(mbi + 44) == 48 && get32(mmap) == 20 && get64(mmap + 4) == 0 &&
		       get32(mmap + 20) == 1 && get64(mmap + 28) == 0x100000 &&
		       get64(mmap + 36) == (31ull << 20),
	       "memory map: two RAM ranges, size-prefixed");
	tap_ok(!strcmp((char *)m.mem.base + get32(mbi + 64), "cabin"), "boot loader name");

	/* a.out kludge */
	uint8_t *a = make_multiboot(0x10003, &len);

	apath = write_tmp(a, len);
	ret = x86_boot_load(&m, apath, NULL, "", NULL, NULL, NULL, 0, &bs, &err);
	tap_ok(ret == 0 && bs.regs.rip == 0x400020 && m.mem.base[0x400000] == 0x02 &&
		       m.mem.base[0x400020] == 0xcc && m.mem.base[0x400100] == 0 &&
		       get32(m.mem.base + bs.regs.rbx + 20) == 0,
	       "the header's load addresses (flag 16): image, bss, entry, no module");
	put32(a + 0x101c, 0x500000);
	free(apath);
	apath = write_tmp(a, len);
	ret = x86_boot_load(&m, apath, NULL, "", NULL, NULL, NULL, 0, &bs, &err);
	tap_ok(ret < 0 && strstr(err->msg, "entry_addr"), "an entry outside the image is refused");
	cabin_err_release(&err);

	/* refusals */
	uint8_t *bad = make_multiboot(0x3 | 0x100, &len);

	bpath = write_tmp(bad, len);
	ret = x86_boot_load(&m, bpath, NULL, "", NULL, NULL, NULL, 0, &bs, &err);
	tap_ok(ret < 0 && strstr(err->msg, "flags"), "unknown required header flags are refused");
	cabin_err_release(&err);
	free(bad);
	bad = make_multiboot(0x3, &len);
	put32(bad + 52 + 12, 0x80000); /* p_paddr below 1 MiB */
	free(bpath);
	bpath = write_tmp(bad, len);
	ret = x86_boot_load(&m, bpath, NULL, "", NULL, NULL, NULL, 0, &bs, &err);
	tap_ok(ret < 0 && strstr(err->msg, "below 1 MiB") && !strstr(err->msg, "--memory"),
	       "a segment below 1 MiB is refused, without advice to raise --memory");
	cabin_err_release(&err);
	put32(bad + 52 + 12, 0x3000000); /* past 32 MiB */
	free(bpath);
	bpath = write_tmp(bad, len);
	ret = x86_boot_load(&m, bpath, NULL, "", NULL, NULL, NULL, 0, &bs, &err);
	tap_ok(ret < 0 && strstr(err->msg, "raise --memory"), "a segment past RAM is refused");
	cabin_err_release(&err);
	vm_mem_fini(&m.mem);
	unlink(kpath);
	unlink(rpath);
	unlink(apath);
	unlink(bpath);
	free(kpath);
	free(rpath);
	free(apath);
	free(bpath);
	free(k);
	free(a);
	free(bad);
}

/* ELF vmlinux refusals: a segment below 1 MiB, a PVH entry outside the segments. */
static void test_elf_refusals(void)
{
	static struct machine m;
	struct x86_boot_state bs;
	struct cabin_err *err = NULL;
	size_t len;
	uint8_t *e = make_elf(1, &len);
	char *path;
	int ret;

	m.nr_vcpus = 1;
	tap_ok(vm_mem_init(&m.mem, 32ull << 20, 0, &err) == 0, "32 MiB for ELF refusals");
	put64(e + 64 + 24, 0x80000); /* p_paddr */
	put64(e + 24, 0x80010);
	path = write_tmp(e, len);
	ret = x86_boot_load(&m, path, NULL, "", NULL, NULL, NULL, 0, &bs, &err);
	tap_ok(ret < 0 && strstr(err->msg, "below 1 MiB") && !strstr(err->msg, "--memory"),
	       "ELF segment below 1 MiB: no advice to raise --memory (%s)",
	       err ? err->msg : "accepted");
	cabin_err_release(&err);
	unlink(path);
	free(path);
	free(e);
	e = make_elf(1, &len);
	put32(e + 0x200 + 16, 0x1f00000); /* PVH entry in RAM, outside the kernel */
	path = write_tmp(e, len);
	ret = x86_boot_load(&m, path, NULL, "", NULL, NULL, NULL, 0, &bs, &err);
	tap_ok(ret < 0 && strstr(err->msg, "PVH entry"),
	       "a PVH entry outside the kernel is refused");
	cabin_err_release(&err);
	vm_mem_fini(&m.mem);
	unlink(path);
	free(path);
	free(e);
}

int main(void)
{
	tap_plan(76);
	test_bzimage_parse();
	test_elf_parse();
	test_load();
	test_multiboot();
	test_elf_refusals();
	return tap_done();
}
