/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-emu-cpu: the software CPU without KVM: the decoder (prefixes, REX,
 * ModRM/SIB, RIP-relative, lengths and invalid encodings), instruction
 * sequences run by the interpreter on guest memory of a struct machine,
 * paging (4-level, PAE, 2-level with 4 MiB pages; accessed/dirty bits, fault
 * error codes and CR2, TLB invalidation by INVLPG and MOV CR3) and exception
 * delivery (long-mode IDT frames and error codes, #DF, triple fault, real-mode
 * IVT, port I/O exits).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "emu/emu.h"
#include "emu/optab.h"
#include "lib/error.h"
#include "unit/tap.h"
#include "vm/machine.h"
#include "unit/emu-machine.h"

static struct machine m;
static struct vcpu vcpu0;
static struct emu_vm *vm;
static struct emu_cpu *c;
static struct accel_exit ex;
static uint8_t *ram;

#define CODE 0x10000ULL
#define STACK 0x80000ULL
#define GDT 0x5000ULL
#define IDT 0x6000ULL
#define PML4 0x1000ULL

#define w32(pa, v) emu_test_w32(ram, pa, v)
#define w64(pa, v) emu_test_w64(ram, pa, v)
#define r64(pa) emu_test_r64(ram, pa)
#define r32(pa) emu_test_r32(ram, pa)

static void put(uint64_t pa, const uint8_t *code, size_t n)
{
	memcpy(ram + pa, code, n);
	emu_code_write(vm, pa, (unsigned int)n); /* as a guest write would */
}

static void fresh_cpu(void)
{
	if (c)
		emu_cpu_free(c);
	c = emu_cpu_new(&m, vm, 0);
	c->exit = &ex;
	vcpu0.accel = c;
	memset(ram, 0, 1 << 20);
	for (uint64_t p = 0; p < vm->nr_pages; p++)
		vm->page_gen[p]++;
}

/* run until HLT, an exit or @n instructions */
#define run(n) emu_test_run(c, n)

#define seg(s, sel, code, l, db) emu_test_seg(s, sel, code, l, db)

/* 64-bit mode, identity map of the first 16 MiB with 2 MiB pages, GDT and IDT */
static void long_mode(void)
{
	fresh_cpu();
	emu_test_map_2m(ram, PML4, 3);
	w64(GDT + 8, 0x00af9b000000ffffULL);  /* 0x08: 64-bit code */
	w64(GDT + 16, 0x00cf93000000ffffULL); /* 0x10: data */
	c->gdt.base = GDT;
	c->gdt.limit = 0x17;
	c->idt.base = IDT;
	c->idt.limit = 0xfff;
	c->cr3 = PML4;
	c->cr4 = CR4_PAE;
	c->efer = EFER_LME | EFER_LMA | EFER_NXE | EFER_SCE;
	c->cr0 = CR0_PE | CR0_PG | CR0_WP | CR0_ET;
	seg(&c->seg[SEG_CS], 0x08, 1, 1, 0);
	seg(&c->seg[SEG_SS], 0x10, 0, 0, 1);
	seg(&c->seg[SEG_DS], 0x10, 0, 0, 1);
	seg(&c->seg[SEG_ES], 0x10, 0, 0, 1);
	c->seg[SEG_TR].base = 0x7000;
	c->seg[SEG_TR].limit = 0x67;
	c->seg[SEG_TR].type = 0xb;
	c->seg[SEG_TR].present = 1;
	c->cpl = 0;
	c->r[4] = STACK;
	c->rip = CODE;
	emu_flags_set(c, 2);
	emu_tlb_flush(c, 0);
	emu_update_mode(c);
}

static void gate64(int vec, uint64_t handler, int ist)
{
	emu_test_gate64(ram, IDT, (unsigned int)vec, handler, (unsigned int)ist);
}

/* ---- decoder ---- */

static int dec(struct emu_insn *in, int mode, const char *hex)
{
	uint8_t b[32];
	unsigned int n = 0;

	while (hex[0] && hex[1] && n < sizeof(b)) {
		unsigned int v;

		if (hex[0] == ' ') {
			hex++;
			continue;
		}
		sscanf(hex, "%2x", &v);
		b[n++] = (uint8_t)v;
		hex += 2;
	}
	return emu_decode(in, b, n, mode);
}

static void test_decoder(void)
{
	struct emu_insn in;
	int r;

	r = dec(&in, 2, "48 8b 84 8b 78 56 34 12");
	tap_ok(r == 8 && in.op == 0x8b && in.osz == 8 && in.base == 3 && in.index == 1 &&
		       in.scale == 2 && in.disp == 0x12345678 && in.reg == 0,
	       "mov rax,[rbx+rcx*4+disp32]: ModRM+SIB, REX.W, length 8");
	r = dec(&in, 2, "f0 48 0f b1 0d 00 10 00 00");
	tap_ok(r == 9 && in.op == 0x1b1 && in.lock && in.riprel && in.reg == 1 &&
		       in.disp == 0x1000 && in.base == 0xff,
	       "lock cmpxchg [rip+0x1000],rcx: RIP-relative");
	r = dec(&in, 1, "66 f3 a5");
	tap_ok(r == 3 && in.op == 0xa5 && in.osz == 2 && in.rep == 0xf3,
	       "rep movsw in 32-bit mode");
	r = dec(&in, 0, "8b 46 fe");
	tap_ok(r == 3 && in.base == 5 && in.index == 0xff && in.disp == -2 && in.seg == SEG_SS &&
		       in.asz == 2,
	       "16-bit [bp-2] defaults to SS");
	r = dec(&in, 0, "8b 00");
	tap_ok(r == 2 && in.base == 3 && in.index == 6 && in.seg == SEG_DS, "16-bit [bx+si]");
	r = dec(&in, 0, "66 67 8b 04 24");
	tap_ok(r == 5 && in.osz == 4 && in.asz == 4 && in.base == 4 && in.seg == SEG_SS,
	       "16-bit code with 66/67: 32-bit operand and [esp] addressing");
	r = dec(&in, 2, "67 8b 04 24");
	tap_ok(r == 4 && in.asz == 4 && in.osz == 4, "67 in 64-bit mode: 32-bit addresses");
	r = dec(&in, 2, "48 66 89 c0");
	tap_ok(r == 4 && in.rex == 0 && in.osz == 2, "REX before a legacy prefix is ignored");
	r = dec(&in, 2, "64 48 8b 04 25 28 00 00 00");
	tap_ok(r == 9 && in.seg == SEG_FS && in.base == 0xff && in.index == 0xff && in.disp == 0x28,
	       "fs:[disp32] through SIB without base or index");
	r = dec(&in, 2, "41 8b 44 24 08");
	tap_ok(r == 5 && in.base == 12 && in.seg == SEG_DS && in.disp == 8,
	       "REX.B base r12 (not SS-relative)");
	r = dec(&in, 2, "48 b8 88 77 66 55 44 33 22 11");
	tap_ok(r == 10 && in.imm == 0x1122334455667788ULL, "mov rax, imm64");
	r = dec(&in, 2, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 90");
	tap_ok(r == -EXC_GP, "16-byte instruction is rejected (#GP)");
	r = dec(&in, 2, "48 8b 84");
	tap_ok(r == DEC_NEED_MORE, "truncated instruction asks for more bytes");
	r = dec(&in, 2, "06");
	tap_ok(r == -EXC_UD, "push es is invalid in 64-bit mode");
	r = dec(&in, 1, "0f 38 00 c1");
	tap_ok((r == 4 || r == -EXC_UD) && in.op == 0x200, "0f 38 map");
	r = dec(&in, 1, "0f 3a ff c1 00");
	tap_ok(r == -EXC_UD && in.op == 0x3ff, "0f 3a map: a form without a table entry is #UD");
	tap_ok(emu_optab_conflicts() == 0, "opcode table: no slot claimed twice");
	r = dec(&in, 2, "f0 01 00");
	tap_ok(r == 3 && in.lock, "lock add [rax], eax");
	r = dec(&in, 2, "f0 01 c0");
	tap_ok(r == -EXC_UD, "lock with a register destination is #UD");
	r = dec(&in, 2, "f0 39 00");
	tap_ok(r == -EXC_UD, "lock cmp is #UD");
	r = dec(&in, 2, "f0 ff 10");
	tap_ok(r == -EXC_UD, "lock call [rax] is #UD (group 5 /2)");
	r = dec(&in, 2, "f0 0f c7 08");
	tap_ok(r == 4, "lock cmpxchg8b (0f c7 /1)");
	r = dec(&in, 2, "f3 a4");
	tap_ok(r == 2 && in.pfx == PFX_F3 && in.rep == 0xf3, "rep movsb: F3 keys the slot");
	r = dec(&in, 2, "f3 66 f2 a5");
	tap_ok(r == 4 && in.pfx == PFX_F2 && in.osz == 2,
	       "the last of F2/F3 is the mandatory prefix");
	r = dec(&in, 2, "66 0f 40 c1");
	tap_ok(r == 4 && in.pfx == PFX_66 && in.osz == 2, "66 keys the slot and sets the size");
	r = dec(&in, 2, "ff d0");
	tap_ok(r == 2 && in.end, "call rax ends a block");
	r = dec(&in, 2, "ff c0");
	tap_ok(r == 2 && !in.end, "inc eax does not end a block");
	r = dec(&in, 2, "0f 05");
	tap_ok(r == 2 && in.end, "syscall ends a block");
	r = dec(&in, 2, "e8 fb ff ff ff");
	tap_ok(r == 5 && in.imm == (uint64_t)-5, "call rel32 sign-extended");
	r = dec(&in, 2, "66 e8 fb ff ff ff");
	tap_ok(r == 6, "66 call in 64-bit mode still takes rel32");
	r = dec(&in, 1, "c8 10 00 02");
	tap_ok(r == 4 && in.imm == 0x10 && in.imm2 == 2, "enter imm16, imm8");
	r = dec(&in, 1, "ea 78 56 34 12 08 00");
	tap_ok(r == 7 && in.imm == 0x12345678 && in.imm2 == 8, "jmp far ptr16:32");
	r = dec(&in, 2, "f6 c3 01");
	tap_ok(r == 3 && in.imm == 1, "test r/m8, imm8 (group 3 immediate)");
}

/* ---- interpreter ---- */

static void test_exec(void)
{
	/* rip-relative load/store, push/pop, call/ret, lea, imul3, string ops */
	static const uint8_t code[] = {
		0x48, 0x8b, 0x05, 0xf9, 0x0f, 0x00, 0x00, /* mov rax,[rip+0xff9] -> 0x11000 */
		0x48, 0x89, 0x05, 0xfa, 0x0f, 0x00, 0x00, /* mov [rip+0xffa],rax -> 0x11008 */
		0x6a, 0xfe,				  /* push -2 */
		0x5b,					  /* pop rbx */
		0xe8, 0x01, 0x00, 0x00, 0x00,		  /* call +1 */
		0xf4,					  /* hlt (skipped) */
		0x48, 0x8d, 0x4c, 0x18, 0x05,		  /* lea rcx,[rax+rbx+5] */
		0x48, 0x6b, 0xd1, 0xfd,			  /* imul rdx,rcx,-3 */
		0x48, 0x8d, 0x35, 0xd9, 0x0f, 0x00, 0x00, /* lea rsi,[rip+0xfd9] -> 0x11000 */
		0x48, 0x8d, 0x3d, 0xe2, 0x0f, 0x00, 0x00, /* lea rdi,[rip+0xfe2] -> 0x11010 */
		0xb9, 0x02, 0x00, 0x00, 0x00,		  /* mov ecx,2 */
		0xf3, 0x48, 0xa5,			  /* rep movsq */
		0xf4,					  /* hlt */
	};

	long_mode();
	put(CODE, code, sizeof(code));
	w64(0x11000, 0x1234);
	w64(0x11008, 0);
	run(100);
	tap_ok(c->state == EMU_HALTED, "64-bit sequence ran to HLT (rip %#llx)",
	       (unsigned long long)c->rip);
	tap_ok(r64(0x11008) == 0x1234 && c->r[0] == 0x1234, "RIP-relative load and store");
	tap_ok(c->r[3] == (uint64_t)-2, "push imm8 sign-extends to 64 bits");
	tap_ok(c->r[4] == STACK - 8, "call pushed the return address (rsp %#llx)",
	       (unsigned long long)c->r[4]);
	tap_ok(c->r[2] == (uint64_t)(-3 * (int64_t)(0x1234 - 2 + 5)), "imul r64, r/m64, imm8");
	tap_ok(r64(0x11010) == 0x1234 && r64(0x11018) == 0x1234 && c->r[1] == 0 &&
		       c->r[6] == 0x11010,
	       "rep movsq copied two quadwords and counted rcx down");

	/*
	 * A device (virtio-blk read, DMA) overwrites code that already ran: after
	 * machine_mem_written() the CPU must run the new bytes, not its decoded copy.
	 */
	{
		static const uint8_t v1[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0xf4 }; /* mov eax,1 */
		static const uint8_t v2[] = { 0xb8, 0x02, 0x00, 0x00, 0x00, 0xf4 }; /* mov eax,2 */

		long_mode();
		put(CODE, v1, sizeof(v1));
		run(10);
		c->rip = CODE;
		c->state = EMU_RUNNING;
		run(10);
		tap_ok(c->r[0] == 1, "code run twice from its decoded copy");
		memcpy(ram + CODE, v2, sizeof(v2)); /* the device's write, not the CPU's */
		machine_mem_written(&m, ram + CODE, sizeof(v2));
		c->rip = CODE;
		c->state = EMU_RUNNING;
		run(10);
		tap_ok(c->r[0] == 2,
		       "after a device write is reported, the new code runs (eax %llu)",
		       (unsigned long long)c->r[0]);
	}

	/* 32-bit results zero the upper half, 16/8-bit keep it; AH addressing */
	{
		static const uint8_t c2[] = {
			0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, /* mov rax,-1 */
			0x48, 0x89, 0xc3,			  /* mov rbx,rax */
			0x48, 0x89, 0xc1,			  /* mov rcx,rax */
			0xb8, 0x01, 0x00, 0x00, 0x00,		  /* mov eax,1 */
			0x66, 0xbb, 0x02, 0x00,			  /* mov bx,2 */
			0xb5, 0x03,				  /* mov ch,3 */
			0xf4,
		};

		long_mode();
		put(CODE, c2, sizeof(c2));
		run(20);
		tap_ok(c->r[0] == 1 && c->r[3] == 0xffffffffffff0002ULL &&
			       c->r[1] == 0xffffffffffff03ffULL,
		       "partial register writes (32/16/8-bit, CH)");
	}
}

/* ---- paging ---- */

static void map4k(uint64_t va, uint64_t pa, uint64_t flags)
{
	/* VA in the second GiB: PDPT[1] -> PD 0x20000 -> PT 0x21000 */
	w64(PML4, 0x2000 | 7);
	w64(0x2000 + 8, 0x20000 | 7);
	w64(0x20000 + 8 * ((va >> 21) & 511), 0x21000 | 7);
	w64(0x21000 + 8 * ((va >> 12) & 511), pa | flags);
}

static void test_paging(void)
{
	uint64_t pte;
	/* mov rax,[rbx]; hlt */
	static const uint8_t ld[] = { 0x48, 0x8b, 0x03, 0xf4 };
	/* mov [rbx],rax; hlt */
	static const uint8_t st[] = { 0x48, 0x89, 0x03, 0xf4 };
	static const uint8_t invlpg[] = {
		0x48, 0x8b, 0x03, 0x0f, 0x01, 0x3b, 0x48, 0x8b, 0x0b, 0xf4
	};
	static const uint8_t pfh[] = { 0xf4 };

	long_mode();
	gate64(EXC_PF, 0x30000, 0);
	put(0x30000, pfh, 1);
	map4k(0x40000000, 0x200000, 0x3); /* present, writable, supervisor */
	w64(0x200000, 0xabcdef);
	put(CODE, ld, sizeof(ld));
	c->r[3] = 0x40000000;
	run(10);
	pte = r64(0x21000);
	tap_ok(c->r[0] == 0xabcdef && c->rip == CODE + 4, "4-level walk with a 4 KiB page");
	tap_ok((pte & 0x20) && !(pte & 0x40), "read sets accessed, not dirty");
	tap_ok((r64(0x2000 + 8) & 0x20) && (r64(0x20000) & 0x20), "upper levels accessed too");

	long_mode();
	gate64(EXC_PF, 0x30000, 0);
	put(0x30000, pfh, 1);
	map4k(0x40000000, 0x200000, 0x3);
	put(CODE, st, sizeof(st));
	c->r[3] = 0x40000000;
	c->r[0] = 77;
	run(10);
	tap_ok(r64(0x200000) == 77 && (r64(0x21000) & 0x40), "write sets dirty");

	/* faults: not present read, write to read-only with WP, user to supervisor, NX, RSVD */
	struct {
		uint64_t flags;
		const uint8_t *code;
		int user;
		uint32_t err;
		const char *what;
	} f[] = {
		{ 0x0, ld, 0, 0x0, "not present read: error code 0" },
		{ 0x1, st, 0, 0x3, "write to read-only page with CR0.WP: error code 3" },
		{ 0x0, st, 0, 0x2, "not present write: error code 2" },
		{ 0x1 | (1ULL << 51), ld, 0, 0x9, "reserved bit set: error code 9 (RSVD|P)" },
	};
	for (unsigned int i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		long_mode();
		gate64(EXC_PF, 0x30000, 0);
		put(0x30000, pfh, 1);
		map4k(0x40000000, 0x200000, f[i].flags);
		put(CODE, f[i].code, 4);
		c->r[3] = 0x40000123;
		run(10);
		tap_ok(c->rip == 0x30001 && c->cr2 == 0x40000123 && r64(STACK - 40) == CODE &&
			       r64(STACK - 48) == f[i].err,
		       "%s (got %#llx, cr2 %#llx)", f[i].what, (unsigned long long)r64(STACK - 48),
		       (unsigned long long)c->cr2);
	}

	/* instruction fetch from an NX page: I/D and P set */
	long_mode();
	gate64(EXC_PF, 0x30000, 0);
	put(0x30000, pfh, 1);
	map4k(0x40000000, 0x200000, 0x3 | (1ULL << 63));
	c->rip = 0x40000000;
	run(10);
	tap_ok(c->rip == 0x30001 && r64(STACK - 48) == 0x11 && c->cr2 == 0x40000000,
	       "fetch from an NX page: error code 0x11");

	/* user-mode read of a supervisor page: U/S and P set (CPL 3 via a user code segment) */
	{
		struct emu_tlb_entry *e;
		int64_t r;
		uint64_t pa;

		long_mode();
		map4k(0x40000000, 0x200000, 0x3);
		r = emu_mmu_translate(c, 0x40000010, ACC_READ, 1, &pa, 0);
		tap_ok(r == (int64_t)(0x80000000u | 0x5),
		       "user read of a supervisor page: error code 5");
		map4k(0x40000000, 0x200000, 0x7);
		r = emu_mmu_translate(c, 0x40000010, ACC_WRITE, 1, &pa, 0);
		tap_ok(r == 0 && pa == 0x200010, "user write to a user writable page translates");
		map4k(0x40000000, 0x200000, 0x5);
		r = emu_mmu_translate(c, 0x40000010, ACC_WRITE, 1, &pa, 0);
		tap_ok(r == (int64_t)(0x80000000u | 0x7),
		       "user write to a read-only page: error code 7");
		c->cr0 &= ~(uint64_t)CR0_WP;
		r = emu_mmu_translate(c, 0x40000010, ACC_WRITE, 0, &pa, 0);
		tap_ok(r == 0, "supervisor write to a read-only page without CR0.WP is allowed");
		e = emu_tlb_fill(c, 0x40000010, ACC_READ, 0);
		tap_ok(e->ppage == 0x200000 && (e->perm & TLB_R_USR),
		       "TLB entry caches the mapping");
	}

	/* TLB: a changed PTE is not seen until INVLPG */
	long_mode();
	map4k(0x40000000, 0x200000, 0x3);
	w64(0x200000, 1);
	w64(0x201000, 2);
	put(CODE, ld, 3);
	put(CODE + 3, invlpg + 3, 7);
	c->r[3] = 0x40000000;
	c->budget = 1;
	emu_exec(c); /* mov rax,[rbx]: fills the TLB */
	w64(0x21000, 0x201000 | 3);
	{
		/* mov rcx,[rbx] before INVLPG would still see the old page */
		uint64_t v = 0;

		emu_lin_read(c, 0x40000000, &v, 8, ACC_READ, 0);
		tap_ok(v == 1, "stale TLB entry used until invalidated");
	}
	run(10); /* invlpg [rbx]; mov rcx,[rbx]; hlt */
	tap_ok(c->r[0] == 1 && c->r[1] == 2, "INVLPG drops the entry: the new PTE is used");

	/* INVLPG is precise: other pages keep their entries; a large page's entries go */
	{
		struct emu_tlb_entry *a, *b, *l;

		long_mode();
		map4k(0x40000000, 0x200000, 0x3);
		map4k(0x40001000, 0x201000, 0x3);
		a = emu_tlb_fill(c, 0x40000000, ACC_READ, 0);
		b = emu_tlb_fill(c, 0x40001000, ACC_READ, 0);
		l = emu_tlb_fill(c, 0x205000, ACC_READ, 0); /* inside a 2 MiB page */
		emu_tlb_flush_page(c, 0x40000000);
		tap_ok(a->vpage == 1 && b->vpage == 0x40001000 && l->vpage == 0x205000,
		       "INVLPG drops only the page it names");
		emu_tlb_flush_page(c, 0x3ff000);
		tap_ok(l->vpage == 1 && b->vpage == 0x40001000,
		       "INVLPG in a 2 MiB page drops the entries filled from it");
	}

	/* MOV CR3 flushes non-global entries */
	long_mode();
	map4k(0x40000000, 0x200000, 0x3);
	w64(0x200000, 5);
	w64(0x201000, 6);
	{
		uint64_t v = 0;

		emu_lin_read(c, 0x40000000, &v, 8, ACC_READ, 0);
		w64(0x21000, 0x201000 | 3);
		emu_write_cr(c, 3, c->cr3);
		emu_lin_read(c, 0x40000000, &v, 8, ACC_READ, 0);
		tap_ok(v == 6, "MOV CR3 flushes the TLB");
		/* a global entry survives MOV CR3 (CR4.PGE) */
		c->cr4 |= CR4_PGE;
		w64(0x21000, 0x200000 | 3 | 0x100);
		emu_tlb_flush(c, 0);
		emu_lin_read(c, 0x40000000, &v, 8, ACC_READ, 0);
		w64(0x21000, 0x201000 | 3 | 0x100);
		emu_write_cr(c, 3, c->cr3);
		emu_lin_read(c, 0x40000000, &v, 8, ACC_READ, 0);
		tap_ok(v == 5, "global page survives MOV CR3");
	}

	/* 32-bit paging with a 4 MiB page, and PAE with 2 MiB pages */
	{
		uint64_t pa;

		fresh_cpu();
		c->cr0 = CR0_PE | CR0_PG | CR0_ET;
		c->cr4 = CR4_PSE;
		c->cr3 = 0x4000;
		w32(0x4000 + 4 * 0x100,
		    0x00800000 | 0x83 | 0x4); /* 0x40000000 -> 8 MiB, 4 MiB page */
		tap_ok(emu_mmu_translate(c, 0x40012345, ACC_WRITE, 1, &pa, 1) == 0 &&
			       pa == 0x812345 && (r32(0x4400) & 0x60) == 0x60,
		       "2-level paging, 4 MiB page, A and D set");
		w32(0x4000 + 4 * 0x101, 0x9000 | 0x1);
		w32(0x9000 + 4 * 5, 0x00123000 | 0x1);
		tap_ok(emu_mmu_translate(c, 0x40405678, ACC_READ, 0, &pa, 1) == 0 && pa == 0x123678,
		       "2-level paging, 4 KiB page");
		tap_ok(emu_mmu_translate(c, 0x40405678, ACC_WRITE, 0, &pa, 1) == 0,
		       "supervisor write to read-only without WP");

		fresh_cpu();
		c->cr0 = CR0_PE | CR0_PG | CR0_ET | CR0_WP;
		c->cr4 = CR4_PAE;
		c->cr3 = 0x4000;
		w64(0x4000 + 8 * 1, 0x5000 | 1);	/* PDPTE for 1-2 GiB */
		w64(0x5000 + 8 * 3, 0x00600000 | 0x83); /* 2 MiB page */
		tap_ok(emu_mmu_translate(c, 0x40654321, ACC_READ, 0, &pa, 1) == 0 && pa == 0x654321,
		       "PAE walk with a 2 MiB page");
		w64(0x5000 + 8 * 3, 0x00600000 | 0x83 | (1ULL << 63));
		tap_ok(emu_mmu_translate(c, 0x40654321, ACC_READ, 0, &pa, 1) ==
			       (int64_t)(0x80000000u | 0x9),
		       "PAE: XD bit without EFER.NXE is reserved");
	}
}

/* ---- exceptions ---- */

static void test_exceptions(void)
{
	static const uint8_t h[] = { 0xf4 };

	/* #DE: no error code; the frame holds the faulting RIP, CS, RFLAGS, RSP, SS */
	{
		static const uint8_t code[] = { 0x31, 0xc9, 0xf7, 0xf1,
						0xf4 }; /* xor ecx,ecx; div ecx */

		long_mode();
		gate64(EXC_DE, 0x30000, 0);
		put(0x30000, h, 1);
		c->r[4] = STACK - 8; /* misaligned: the frame is 16-byte aligned */
		put(CODE, code, sizeof(code));
		run(10);
		tap_ok(c->rip == 0x30001 && c->r[4] == STACK - 16 - 40 &&
			       r64(STACK - 16 - 40) == CODE + 2 && r64(STACK - 16 - 32) == 0x08 &&
			       r64(STACK - 16 - 16) == STACK - 8 && r64(STACK - 16 - 8) == 0x10,
		       "#DE: 64-bit frame (RIP of DIV, CS, RSP, SS) on a 16-byte aligned stack");
		tap_ok(!(c->flags & FL_IF), "interrupt gate clears IF");
	}
	/* #UD from UD2 */
	{
		static const uint8_t code[] = { 0x0f, 0x0b };

		long_mode();
		gate64(EXC_UD, 0x30000, 0);
		put(0x30000, h, 1);
		put(CODE, code, 2);
		run(10);
		tap_ok(c->rip == 0x30001 && r64(STACK - 40) == CODE, "#UD from UD2");
	}
	/* #GP(0) from a non-canonical address */
	{
		static const uint8_t code[] = { 0x48, 0x8b, 0x03 };

		long_mode();
		gate64(EXC_GP, 0x30000, 0);
		put(0x30000, h, 1);
		put(CODE, code, 3);
		c->r[3] = 0x0000800000000000ULL;
		run(10);
		tap_ok(c->rip == 0x30001 && r64(STACK - 48) == 0 && r64(STACK - 40) == CODE,
		       "#GP(0) for a non-canonical address, error code pushed");
	}
	/* VERW/VERR (Linux runs VERW on each return to user): ZF, no fault */
	{
		static const uint8_t code[] = {
			0x0f, 0x00, 0x2b, /* verw [rbx] (0x10: writable data) */
			0x0f, 0x94, 0xc1, /* sete cl */
			0x0f, 0x00, 0xe8, /* verw ax (0x08: code) */
			0x0f, 0x94, 0xc2, /* sete dl */
			0x0f, 0x00, 0xe0, /* verr ax (0x08: readable code) */
			0x0f, 0x94, 0xc5, /* sete ch */
			0xf4,
		};

		long_mode();
		put(CODE, code, sizeof(code));
		c->r[3] = 0x11000;
		w64(0x11000, 0x10);
		c->r[0] = 0x08;
		run(10);
		tap_ok(c->state == EMU_HALTED && (c->r[1] & 0xffff) == 0x0101 &&
			       (c->r[2] & 0xff) == 0,
		       "VERW sets ZF for writable data, clears it for code; VERR for readable code "
		       "(cx %#llx dx %#llx)",
		       (unsigned long long)c->r[1], (unsigned long long)c->r[2]);
	}
	/* an NMI latched while NMIs are blocked is taken right after the IRET that unblocks */
	{
		static const uint8_t code[] = { 0x48, 0xcf }; /* iretq */
		static const uint8_t after[] = { 0x90, 0xf4 };

		long_mode();
		gate64(EXC_NMI, 0x30000, 0);
		put(0x30000, h, 1);
		put(CODE, code, 2);
		put(0x21000, after, 2);
		c->r[4] = STACK - 40;
		w64(STACK - 40, 0x21000);
		w64(STACK - 32, 0x08);
		w64(STACK - 24, 2);
		w64(STACK - 16, STACK);
		w64(STACK - 8, 0x10);
		c->nmi_blocked = 1;
		c->nmi_pending = 1;
		c->intr_hint = 0;
		run(10);
		tap_ok(c->rip == 0x30001 && r64(STACK - 40) == 0x21000 && !c->nmi_pending,
		       "the pending NMI is delivered after IRET (rip %#llx)",
		       (unsigned long long)c->rip);
	}
	/* LGDT with a non-canonical base: #GP(0), GDTR unchanged */
	{
		static const uint8_t code[] = { 0x0f, 0x01, 0x13 }; /* lgdt [rbx] */

		long_mode();
		gate64(EXC_GP, 0x30000, 0);
		put(0x30000, h, 1);
		put(CODE, code, 3);
		c->r[3] = 0x11000;
		w64(0x11000, 0xaaaaULL | (0x00aaaaaaaaaaaaaaULL << 16));
		w64(0x11008, 0xaaaaULL);
		run(10);
		tap_ok(c->rip == 0x30001 && r64(STACK - 40) == CODE && c->gdt.base == GDT,
		       "LGDT of a non-canonical base raises #GP and leaves GDTR alone");
	}
	/* SYSCALL with TF masked: no single-step trap; SYSRET setting TF traps after it */
	{
		static const uint8_t code[] = { 0x0f, 0x05 };	    /* syscall */
		static const uint8_t ksys[] = { 0x48, 0x0f, 0x07 }; /* sysretq */
		static const uint8_t user[] = { 0x90, 0x90, 0xf4 }; /* nop; nop */

		long_mode();
		w64(GDT + 24, 0x00cff3000000ffffULL); /* 0x18: user data */
		w64(GDT + 32, 0x00affb000000ffffULL); /* 0x20: user code 64 */
		c->gdt.limit = 0x27;
		gate64(EXC_DB, 0x30000, 0);
		put(0x30000, h, 1);
		put(CODE, code, 2);
		put(0x20000, ksys, 3);
		put(0x21000, user, 3);
		c->star = (0x08ULL << 32) | (0x10ULL << 48);
		c->lstar = 0x20000;
		c->fmask = FL_TF;
		emu_flags_set(c, 2 | FL_TF);
		c->r[1] = 0;
		run(1);
		tap_ok(c->rip == 0x20000 && !(c->flags & FL_TF),
		       "SYSCALL clearing TF through FMASK does not trap (rip %#llx)",
		       (unsigned long long)c->rip);
		c->r[1] = 0x21000;
		c->r[11] = 2 | FL_TF;
		w64(0x7004, STACK); /* TSS RSP0 for the ring-3 to ring-0 #DB */
		run(4);
		tap_ok(c->rip == 0x30001 && r64(STACK - 40) == 0x21000 && (c->dr[6] & 0x4000),
		       "SYSRET loading TF traps before the next user instruction (rip %#llx)",
		       (unsigned long long)c->rip);
	}
	/* #BP from INT3 is a trap: the saved RIP follows the instruction */
	{
		static const uint8_t code[] = { 0x90, 0xcc, 0xf4 };

		long_mode();
		gate64(EXC_BP, 0x30000, 0);
		put(0x30000, h, 1);
		put(CODE, code, 3);
		run(10);
		tap_ok(c->rip == 0x30001 && r64(STACK - 40) == CODE + 2, "#BP saves the next RIP");
	}
	/* IST: the handler's stack comes from the TSS */
	{
		static const uint8_t code[] = { 0x0f, 0x0b };

		long_mode();
		gate64(EXC_UD, 0x30000, 2);
		w64(0x7000 + 0x24 + 8, 0x90000);
		put(0x30000, h, 1);
		put(CODE, code, 2);
		run(10);
		tap_ok(c->r[4] == 0x90000 - 40 && r64(0x90000 - 40) == CODE, "IST stack switch");
	}
	/* #PF whose IDT gate is not present: #NP during delivery becomes #DF (error 0) */
	{
		static const uint8_t code[] = { 0x48, 0x8b, 0x03 };

		long_mode();
		gate64(EXC_DF, 0x30000, 0);
		put(0x30000, h, 1);
		put(CODE, code, 3);
		c->r[3] = 0x40000000; /* not mapped */
		run(10);
		tap_ok(c->rip == 0x30001 && r64(STACK - 48) == 0 && c->cr2 == 0x40000000,
		       "fault while delivering #PF becomes #DF");
	}
	/* no IDT at all: #UD -> #GP -> #DF -> triple fault */
	{
		static const uint8_t code[] = { 0x0f, 0x0b };

		long_mode();
		c->idt.limit = 0;
		put(CODE, code, 2);
		run(10);
		tap_ok(c->exit_ready && ex.reason == ACCEL_EXIT_SHUTDOWN,
		       "triple fault: shutdown exit");
	}
	/* real mode: INT n through the IVT pushes FLAGS, CS, IP */
	{
		static const uint8_t code[] = { 0xcd, 0x21, 0xf4 };

		fresh_cpu();
		c->seg[SEG_CS].base = 0x10000;
		c->seg[SEG_CS].selector = 0x1000;
		c->rip = 0;
		c->r[4] = 0x8000;
		c->seg[SEG_SS].base = 0;
		c->idt.base = 0;
		c->idt.limit = 0x3ff;
		emu_update_mode(c);
		w32(0x21 * 4, 0x20000000 | 0x0010); /* 2000:0010 */
		put(0x20010, h, 1);
		put(0x10000, code, 3);
		run(10);
		tap_ok(c->seg[SEG_CS].selector == 0x2000 && c->rip == 0x11 &&
			       r32(0x8000 - 6) == (0x1000u << 16 | 2),
		       "real-mode INT 21h through the IVT");
	}
	/* port I/O leaves the CPU as an exit; IN completes on the next run */
	{
		static const uint8_t code[] = { 0xb0, 0x41, 0xe6, 0x80, 0xe4, 0x71, 0xf4 };

		long_mode();
		put(CODE, code, sizeof(code));
		run(10);
		tap_ok(c->exit_ready && ex.reason == ACCEL_EXIT_IO && ex.io.port == 0x80 &&
			       ex.io.is_write && ex.io.data[0] == 0x41,
		       "OUT exits with port and data");
		run(10);
		tap_ok(c->exit_ready && ex.reason == ACCEL_EXIT_IO && ex.io.port == 0x71 &&
			       !ex.io.is_write,
		       "IN exits for data");
		ex.io.data[0] = 0x5a;
		c->io.have_data = 1;
		run(10);
		tap_ok((c->r[0] & 0xff) == 0x5a && c->state == EMU_HALTED,
		       "IN replays with the data");
	}
	/* NMI by self-IPI through the LAPIC ICR is taken with IF=0, and blocks until IRET */
	{
		static const uint8_t code[] = {
			0xfa,				    /* cli */
			0xb8, 0x00, 0x03, 0xe0, 0xfe,	    /* mov eax,0xfee00300 */
			0xc7, 0x00, 0x00, 0x04, 0x04, 0x00, /* mov dword [rax],0x40400: NMI, self */
			0x90,				    /* nop */
			0xf4,
		};

		long_mode();
		w64(0x2000 + 24, 0x22000 | 3); /* 3-4 GiB: the LAPIC page */
		w64(0x22000 + 8 * 503, 0xfee00000ULL | 0x83);
		gate64(EXC_NMI, 0x30000, 0);
		put(0x30000, h, 1);
		put(CODE, code, sizeof(code));
		run(20);
		tap_ok(c->rip == 0x30001 && r64(STACK - 40) == CODE + 12 && c->nmi_blocked,
		       "NMI self-IPI delivered with IF=0 after the ICR write");
	}
	/* TF: a #DB trap after each instruction, starting after the POPF that set it */
	{
		static const uint8_t code[] = {
			0x9c,						/* pushfq */
			0x48, 0x81, 0x0c, 0x24, 0x00, 0x01, 0x00, 0x00, /* or qword [rsp],0x100 */
			0x9d,						/* popfq */
			0x90,						/* nop: traps after it */
			0x90, 0xf4,
		};

		long_mode();
		gate64(EXC_DB, 0x30000, 0);
		put(0x30000, h, 1);
		put(CODE, code, sizeof(code));
		run(20);
		tap_ok(c->rip == 0x30001 && r64(STACK - 40) == CODE + 11 && (c->dr[6] & 0x4000) &&
			       (r64(STACK - 24) & FL_TF) && !(c->flags & FL_TF),
		       "single-step #DB trap after the instruction following POPF (TF set)");
	}
	/* self-modifying code: a store into the next instruction is seen */
	{
		static const uint8_t code[] = {
			0xc6, 0x05, 0x00, 0x00,
			0x00, 0x00, 0x42, /* mov byte [rip+0],0x42 -> imm below */
			0xb0, 0x00,	  /* mov al,0 (patched to mov al,0x42) */
			0xf4,
		};

		long_mode();
		put(CODE, code, sizeof(code));
		ram[CODE + 2] = 1; /* disp32 = 1: the immediate of "mov al,0" */
		run(10);
		tap_ok((c->r[0] & 0xff) == 0x42, "write to decoded code invalidates the block");
	}
}

/* random bytes as code, in every mode: the emulator must survive whatever a guest runs */
/* x87/SSE system behaviour: #NM, #MF, FXSAVE/XSAVE, XGETBV/XSETBV, CPUID */
static void test_fpu(void)
{
	static const uint8_t h[] = { 0xf4 };
	uint32_t out[4];

	/* CR0.TS: an x87 instruction raises #NM; WAIT only with MP */
	{
		static const uint8_t code[] = { 0xd9, 0xe8, 0xf4 }; /* fld1 */

		long_mode();
		gate64(EXC_NM, 0x30000, 0);
		put(0x30000, h, 1);
		put(CODE, code, sizeof(code));
		c->cr0 |= CR0_TS;
		run(10);
		tap_ok(c->rip == 0x30001 && r64(STACK - 40) == CODE, "fld1 with CR0.TS: #NM");
	}
	{
		static const uint8_t code[] = { 0x9b, 0xf4 }; /* wait */

		long_mode();
		gate64(EXC_NM, 0x30000, 0);
		put(0x30000, h, 1);
		put(CODE, code, sizeof(code));
		c->cr0 |= CR0_TS;
		run(10);
		tap_ok(c->rip == CODE + 2, "wait with CR0.TS but not MP runs");
	}
	/* an unmasked zero divide: the destination stays, #MF at the next waiting instruction */
	{
		static const uint8_t code[] = {
			0xd9, 0xe8, /* fld1 */
			0xd9, 0xee, /* fldz */
			0xd8, 0xf9, /* fdivr st, st(1): 1 / 0 */
			0xdf, 0xe0, /* fnstsw ax */
			0x9b,	    /* wait: #MF */
			0xf4,
		};
		static const uint8_t cw[] = { 0x7b, 0x03 }; /* FCW 0x37b: ZE unmasked */

		long_mode();
		gate64(EXC_MF, 0x30000, 0);
		put(0x30000, h, 1);
		put(CODE, code, sizeof(code));
		c->cr0 |= CR0_NE;
		c->fpu_cw = 0x37b;
		(void)cw;
		run(20);
		tap_ok(c->rip == 0x30001 && r64(STACK - 40) == CODE + 8 &&
			       (c->r[0] & 0xffff) == 0xb084 && c->fpr[6].sexp == 0,
		       "unmasked #Z: ST(0) kept, ES/B set, #MF on the WAIT that follows (sw %#llx)",
		       (unsigned long long)(c->r[0] & 0xffff));
	}
	/* FXSAVE: #GP when not 16-byte aligned; the image holds FCW and MXCSR */
	{
		static const uint8_t code[] = { 0x0f, 0xae, 0x03, 0xf4 }; /* fxsave [rbx] */

		long_mode();
		gate64(EXC_GP, 0x30000, 0);
		put(0x30000, h, 1);
		put(CODE, code, sizeof(code));
		c->r[3] = 0x40008;
		run(10);
		tap_ok(c->rip == 0x30001, "fxsave to a misaligned address: #GP");
		long_mode();
		put(CODE, code, sizeof(code));
		c->r[3] = 0x40000;
		c->fpu_cw = 0x27f;
		c->mxcsr = 0x1f80 | 0x6000;
		c->xmm[3].q[0] = 0x1122334455667788ULL;
		run(10);
		tap_ok(c->rip == CODE + 4 && r32(0x40000) == 0x27f && r32(0x40018) == 0x7f80 &&
			       r64(0x400d0) == 0x1122334455667788ULL,
		       "fxsave stores FCW, MXCSR and XMM3");
	}
	/* XGETBV needs CR4.OSXSAVE; XSETBV takes x87|SSE and refuses SSE alone */
	{
		static const uint8_t code[] = {
			0x31, 0xc9,		/* xor ecx, ecx */
			0xb8, 3,    0,	  0, 0, /* mov eax, 3 */
			0x31, 0xd2,		/* xor edx, edx */
			0x0f, 0x01, 0xd1,	/* xsetbv */
			0x31, 0xc0,		/* xor eax, eax */
			0x0f, 0x01, 0xd0,	/* xgetbv */
			0xf4,
		};

		long_mode();
		gate64(EXC_UD, 0x30000, 0);
		put(0x30000, h, 1);
		put(CODE, code, sizeof(code));
		run(20);
		tap_ok(c->rip == 0x30001 && r64(STACK - 40) == CODE + 9,
		       "xsetbv without OSXSAVE: #UD");
		long_mode();
		put(CODE, code, sizeof(code));
		c->cr4 |= CR4_OSXSAVE | CR4_OSFXSR;
		run(20);
		tap_ok(c->rip == CODE + sizeof(code) && c->xcr0 == 3 && (c->r[0] & 0xffffffff) == 3,
		       "xsetbv 3 / xgetbv (rip %#llx xcr0 %#llx eax %#llx)",
		       (unsigned long long)c->rip, (unsigned long long)c->xcr0,
		       (unsigned long long)c->r[0]);
		long_mode();
		gate64(EXC_GP, 0x30000, 0);
		put(0x30000, h, 1);
		put(CODE, code, sizeof(code));
		ram[CODE + 3] = 2; /* mov eax, 2: SSE without x87 */
		c->cr4 |= CR4_OSXSAVE;
		run(20);
		tap_ok(c->rip == 0x30001 && c->xcr0 == 1, "xsetbv 2: #GP");
	}
	/* XSAVE sets XSTATE_BV for the requested components; XRSTOR of an init x87 is FNINIT */
	{
		static const uint8_t code[] = {
			0xb8, 3,    0,	  0, 0, /* mov eax, 3 */
			0x31, 0xd2,		/* xor edx, edx */
			0x0f, 0xae, 0x23,	/* xsave [rbx] */
			0xd9, 0xe8,		/* fld1 */
			0x0f, 0xae, 0x2b,	/* xrstor [rbx] */
			0xf4,
		};

		long_mode();
		put(CODE, code, sizeof(code));
		c->cr4 |= CR4_OSXSAVE | CR4_OSFXSR;
		c->xcr0 = 3;
		c->r[3] = 0x40000;
		run(20);
		tap_ok(c->rip == CODE + sizeof(code) && r64(0x40200) == 3 && c->fpu_tag == 0xffff &&
			       ((c->fpu_sw >> 11) & 7) == 0,
		       "xsave sets XSTATE_BV; xrstor brings the empty stack back");
	}
	/* CPUID: FPU, FXSR, XSAVE; OSXSAVE follows CR4; leaf 0xD sizes the x87+SSE area */
	long_mode();
	emu_cpuid(c, 1, 0, out);
	tap_ok((out[3] & 1) && (out[3] & (1u << 24)) && (out[2] & (1u << 26)) &&
		       !(out[2] & (1u << 27)),
	       "CPUID.1: FPU FXSR XSAVE, no OSXSAVE before CR4 says so");
	c->cr4 |= CR4_OSXSAVE;
	emu_cpuid(c, 1, 0, out);
	tap_ok((out[2] & (1u << 27)) != 0, "CPUID.1: OSXSAVE with CR4.OSXSAVE");
	emu_cpuid(c, 0xd, 0, out);
	tap_ok(out[0] == 0x203 && out[1] == 576 && out[2] == 2696,
	       "CPUID.D: x87|SSE|PKRU, 576 bytes for XCR0=1, 2696 for all");
}

static void test_random_code(void)
{
	uint64_t x = 0x1234567887654321ULL;
	unsigned long insns = 0, exits = 0;

	for (int round = 0; round < 3000; round++) {
		int mode = round % 3;

		if (mode == 2) {
			long_mode();
			for (int v = 0; v < 32; v++)
				gate64(v, 0x30000 + 64 * (uint64_t)v, (int)(v & 1));
			w64(0x7000 + 0x24, 0x90000);
		} else {
			fresh_cpu();
			c->seg[SEG_CS].base = 0x10000;
			c->rip = 0;
			c->r[4] = 0x8000;
			if (mode == 1) { /* flat 32-bit protected mode */
				w64(GDT + 8, 0x00cf9b000000ffffULL);
				w64(GDT + 16, 0x00cf93000000ffffULL);
				c->gdt.base = GDT;
				c->gdt.limit = 0x17;
				c->cr0 = CR0_PE | CR0_ET;
				seg(&c->seg[SEG_CS], 0x08, 1, 0, 1);
				seg(&c->seg[SEG_SS], 0x10, 0, 0, 1);
				seg(&c->seg[SEG_DS], 0x10, 0, 0, 1);
				c->rip = CODE;
				c->idt.base = IDT;
				c->idt.limit = 0x7ff;
				for (int v = 0; v < 32; v++)
					w64(IDT + 8 * (uint64_t)v, (0x30000 + 64 * (uint64_t)v) |
									   (0x08ULL << 16) |
									   (0x8eULL << 40));
			}
			emu_update_mode(c);
		}
		for (unsigned int i = 0; i < 4096; i += 8) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			w64(CODE + i, x);
			w64(0x30000 + i, x * 0x9e3779b97f4a7c15ULL);
		}
		emu_code_write(vm, CODE, 4096);
		emu_code_write(vm, 0x30000, 4096);
		for (int k = 0; k < 50 && c->state == EMU_RUNNING; k++) {
			run(20);
			insns += 20;
			if (c->exit_ready) {
				exits++;
				if (ex.reason == ACCEL_EXIT_SHUTDOWN)
					break;
				if (c->io.pending)
					c->io.have_data = 1;
			}
		}
	}
	tap_ok(1, "3000 pages of random code in 16-, 32- and 64-bit mode ran (%lu exits)", exits);
	(void)insns;
}

int main(void)
{
	struct cabin_err *err = NULL;

	if (vm_mem_init(&m.mem, 16 << 20, 0, &err) < 0) {
		printf("1..0 # SKIP cannot allocate guest memory\n");
		return 77;
	}
	ram = vm_mem_ptr(&m.mem, 0, 16 << 20);
	pthread_mutex_init(&m.lock, NULL);
	vm = emu_vm_new(&m);
	m.accel_priv = vm;
	m.accel = &emu_accel_ops;
	m.nr_vcpus = 1;
	m.vcpus[0] = &vcpu0;
	vcpu0.m = &m;
	tap_plan(100);
	test_decoder();
	test_exec();
	test_paging();
	test_exceptions();
	test_fpu();
	test_random_code();
	emu_cpu_free(c);
	emu_vm_free(vm);
	vm_mem_fini(&m.mem);
	return tap_done();
}
