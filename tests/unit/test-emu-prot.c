/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-emu-prot: the software CPU's page-level protections beyond U/S, R/W and
 * NX (SDM vol. 3 4.6): SMEP, SMAP with EFLAGS.AC and STAC/CLAC, protection keys
 * for user pages (CR4.PKE, PKRU, RDPKRU/WRPKRU, XSAVE component 9) and for
 * supervisor pages (CR4.PKS, IA32_PKRS), the page-fault error codes they give,
 * the software TLB's cached rights when AC, PKRU or PKRS change, and the CPUID
 * bits that announce them; and INVLPG of a non-canonical address.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "emu/emu.h"
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
#define PF_HANDLER 0x30000ULL
#define UD_HANDLER 0x31000ULL
#define GP_HANDLER 0x32000ULL
#define VA 0x40000000ULL /* the page under test */
#define PA 0x200000ULL
#define KEY(k) ((uint64_t)(k) << 59)

#define w64(pa, v) emu_test_w64(ram, pa, v)

#define r64(pa) emu_test_r64(ram, pa)

static void put(uint64_t pa, const uint8_t *code, size_t n)
{
	memcpy(ram + pa, code, n);
	emu_code_write(vm, pa, (unsigned int)n);
}

#define run(n) emu_test_run(c, n)

#define seg(s, sel, code, l, db) emu_test_seg(s, sel, code, l, db)

static void gate64(int vec, uint64_t handler)
{
	emu_test_gate64(ram, IDT, (unsigned int)vec, handler, 0);
}

/* 64-bit mode at CPL 0, first 16 MiB identity-mapped (supervisor), HLT handlers */
static void long_mode(void)
{
	static const uint8_t hlt = 0xf4;

	if (c)
		emu_cpu_free(c);
	c = emu_cpu_new(&m, vm, 0);
	c->exit = &ex;
	vcpu0.accel = c;
	memset(ram, 0, 1 << 22);
	for (uint64_t p = 0; p < vm->nr_pages; p++)
		vm->page_gen[p]++;
	w64(PML4, 0x2000 | 7);
	w64(0x2000, 0x3000 | 3);
	for (int i = 0; i < 8; i++)
		w64(0x3000 + 8 * (uint64_t)i, ((uint64_t)i << 21) | 0x83);
	w64(GDT + 8, 0x00af9b000000ffffULL);
	w64(GDT + 16, 0x00cf93000000ffffULL);
	c->gdt.base = GDT;
	c->gdt.limit = 0x17;
	c->idt.base = IDT;
	c->idt.limit = 0xfff;
	c->cr3 = PML4;
	c->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXSAVE;
	c->efer = EFER_LME | EFER_LMA | EFER_NXE;
	c->cr0 = CR0_PE | CR0_PG | CR0_WP | CR0_ET | CR0_MP | CR0_NE;
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
	gate64(EXC_PF, PF_HANDLER);
	gate64(EXC_UD, UD_HANDLER);
	gate64(EXC_GP, GP_HANDLER);
	put(PF_HANDLER, &hlt, 1);
	put(UD_HANDLER, &hlt, 1);
	put(GP_HANDLER, &hlt, 1);
}

/* map VA (second GiB) with a 4 KiB page to PA; upper levels user and writable */
static void map(uint64_t flags)
{
	w64(PML4, 0x2000 | 7);
	w64(0x2000 + 8, 0x20000 | 7);
	w64(0x20000, 0x21000 | 7);
	w64(0x21000, PA | flags);
}

/* the page-fault error code of translating VA, or 0 when it is allowed */
static uint32_t probe(int acc, int user)
{
	uint64_t pa;
	int64_t r = emu_mmu_translate(c, VA + 0x10, acc, user, &pa, 0);

	return r ? (uint32_t)r & 0x7fffffffu : 0;
}

/* the instructions end in HLT at @stop: did they, or which handler ran */
static int ended_at(uint64_t stop)
{
	return c->state == EMU_HALTED && c->rip == stop + 1;
}

static void test_cpuid(void)
{
	uint32_t o[4];

	long_mode();
	emu_cpuid(c, 7, 0, o);
	tap_ok((o[1] & (1u << 7)) && (o[1] & (1u << 20)), "CPUID.7: SMEP and SMAP");
	tap_ok((o[2] & (1u << 3)) && (o[2] & (1u << 31)) && !(o[2] & (1u << 4)),
	       "CPUID.7: PKU and PKS, OSPKE clear while CR4.PKE is clear");
	c->cr4 |= CR4_PKE;
	emu_cpuid(c, 7, 0, o);
	tap_ok(o[2] & (1u << 4), "CPUID.7: OSPKE follows CR4.PKE");
	emu_cpuid(c, 0xd, 0, o);
	tap_ok(o[0] == 0x203 && o[1] == 576 && o[2] == 2696,
	       "CPUID.D.0: x87 SSE PKRU, 576 bytes for XCR0=1, 2696 at most");
	emu_cpuid(c, 0xd, 9, o);
	tap_ok(o[0] == 8 && o[1] == 2688, "CPUID.D.9: PKRU is 8 bytes at 2688");
}

static void test_cr4(void)
{
	/* mov cr4, rax; hlt */
	static const uint8_t mov_cr4[] = { 0x0f, 0x22, 0xe0, 0xf4 };
	uint64_t want = CR4_PAE | CR4_SMEP | CR4_SMAP | CR4_PKE | CR4_PKS;

	long_mode();
	put(CODE, mov_cr4, sizeof(mov_cr4));
	c->r[0] = want;
	run(10);
	tap_ok(ended_at(CODE + 3) && c->cr4 == want, "MOV CR4 sets SMEP SMAP PKE PKS");
}

static void test_smep(void)
{
	long_mode();
	map(0x7);
	tap_ok(probe(ACC_EXEC, 0) == 0,
	       "without SMEP a supervisor fetch from a user page is allowed");
	c->cr4 |= CR4_SMEP;
	emu_tlb_flush(c, 0);
	tap_ok(probe(ACC_EXEC, 0) == 0x11, "SMEP: supervisor fetch from a user page: P|I/D");
	tap_ok(probe(ACC_READ, 0) == 0 && probe(ACC_EXEC, 1) == 0,
	       "SMEP leaves supervisor data accesses and user fetches alone");
	c->efer &= ~(uint64_t)EFER_NXE;
	tap_ok(probe(ACC_EXEC, 0) == 0x11, "SMEP reports I/D even without EFER.NXE");

	/* through the interpreter: a jump to the user page faults on the fetch */
	{
		/* jmp rbx */
		static const uint8_t jmp[] = { 0xff, 0xe3 };
		static const uint8_t hlt = 0xf4;

		long_mode();
		map(0x7);
		put(PA, &hlt, 1);
		put(CODE, jmp, sizeof(jmp));
		c->cr4 |= CR4_SMEP;
		c->r[3] = VA;
		run(10);
		tap_ok(ended_at(PF_HANDLER) && r64(STACK - 48) == 0x11 && c->cr2 == VA,
		       "SMEP: executing a user page at CPL 0 raises #PF(0x11)");
	}
}

static void test_smap(void)
{
	/* stac; mov rax,[rbx]; clac; mov rcx,[rbx]; hlt */
	static const uint8_t seq[] = { 0x0f, 0x01, 0xcb, 0x48, 0x8b, 0x03, 0x0f,
				       0x01, 0xca, 0x48, 0x8b, 0x0b, 0xf4 };
	/* stac; mov [rbx],rax; clac; mov [rbx],rcx; hlt */
	static const uint8_t seqw[] = { 0x0f, 0x01, 0xcb, 0x48, 0x89, 0x03, 0x0f,
					0x01, 0xca, 0x48, 0x89, 0x0b, 0xf4 };
	/* stac; hlt */
	static const uint8_t stac[] = { 0x0f, 0x01, 0xcb, 0xf4 };

	long_mode();
	map(0x7);
	c->cr4 |= CR4_SMAP;
	tap_ok(probe(ACC_READ, 0) == 0x1 && probe(ACC_WRITE, 0) == 0x3,
	       "SMAP, AC=0: supervisor read/write of a user page: #PF 1/3");
	c->flags |= FL_AC;
	tap_ok(probe(ACC_READ, 0) == 0 && probe(ACC_WRITE, 0) == 0, "SMAP, AC=1 at CPL 0: allowed");
	c->cpl = 3;
	tap_ok(probe(ACC_READ, 0) == 0x1 && probe(ACC_READ, 1) == 0,
	       "SMAP: an implicit supervisor access at CPL 3 faults even with AC=1");
	c->cpl = 0;
	c->flags &= ~(uint64_t)FL_AC;
	map(0x3);
	tap_ok(probe(ACC_READ, 0) == 0, "SMAP: supervisor pages are not affected");
	map(0x5);
	c->cr0 &= ~(uint64_t)CR0_WP;
	c->flags |= FL_AC;
	tap_ok(probe(ACC_WRITE, 0) == 0,
	       "SMAP, AC=1, WP=0: supervisor write to a read-only user page is allowed");
	c->flags &= ~(uint64_t)FL_AC;
	tap_ok(probe(ACC_WRITE, 0) == 0x3, "SMAP, AC=0, WP=0: the same write faults");

	/* the TLB entry filled with AC=1 must not let the read after CLAC through */
	long_mode();
	map(0x7);
	c->cr4 |= CR4_SMAP;
	w64(PA, 0x1234);
	put(CODE, seq, sizeof(seq));
	c->r[3] = VA;
	run(20);
	tap_ok(ended_at(PF_HANDLER) && c->r[0] == 0x1234 && r64(STACK - 48) == 0x1 &&
		       r64(STACK - 40) == CODE + 9,
	       "STAC lets a read through; after CLAC the same (cached) page faults");
	long_mode();
	map(0x7);
	c->cr4 |= CR4_SMAP;
	put(CODE, seqw, sizeof(seqw));
	c->r[3] = VA;
	c->r[0] = 0x55;
	c->r[1] = 0x66;
	run(20);
	tap_ok(ended_at(PF_HANDLER) && r64(PA) == 0x55 && r64(STACK - 48) == 0x3 &&
		       r64(STACK - 40) == CODE + 9,
	       "STAC lets a write through; after CLAC the same (cached) page faults");

	/* STAC/CLAC are privileged */
	long_mode();
	put(CODE, stac, sizeof(stac));
	run(10);
	tap_ok(ended_at(CODE + 3) && (c->flags & FL_AC), "STAC sets EFLAGS.AC at CPL 0");
	long_mode();
	put(CODE, stac, sizeof(stac));
	c->cpl = 3;
	c->seg[SEG_CS].dpl = 3;
	c->seg[SEG_CS].selector |= 3;
	c->seg[SEG_SS].selector |= 3;
	c->seg[SEG_SS].dpl = 3;
	w64(0x7004, STACK); /* TSS RSP0 */
	map(0x7);
	/* the code page must be a user page for CPL 3 to fetch it */
	w64(0x2000, 0x3000 | 7);
	w64(0x3000, 0x87);
	run(10);
	tap_ok(ended_at(UD_HANDLER) && !(c->flags & FL_AC), "STAC at CPL 3 raises #UD");
}

static void test_pku(void)
{
	/* mov rax,[rbx]; mov eax,esi; xor ecx,ecx; xor edx,edx; wrpkru; mov rax,[rbx]; hlt */
	static const uint8_t seq[] = { 0x48, 0x8b, 0x03, 0x89, 0xf0, 0x31, 0xc9, 0x31,
				       0xd2, 0x0f, 0x01, 0xef, 0x48, 0x8b, 0x03, 0xf4 };
	/* xor ecx,ecx; rdpkru; hlt */
	static const uint8_t rd[] = { 0x31, 0xc9, 0x0f, 0x01, 0xee, 0xf4 };
	/* wrpkru; hlt */
	static const uint8_t wr[] = { 0x0f, 0x01, 0xef, 0xf4 };

	long_mode();
	map(0x7 | KEY(2));
	c->pkru = 0x10; /* AD for key 2 */
	tap_ok(probe(ACC_READ, 1) == 0, "protection keys are ignored while CR4.PKE is clear");
	c->cr4 |= CR4_PKE;
	emu_tlb_flush(c, 0);
	tap_ok(probe(ACC_READ, 1) == 0x25 && probe(ACC_READ, 0) == 0x21 &&
		       probe(ACC_WRITE, 1) == 0x27,
	       "PKRU AD: user and supervisor data accesses to a user page: #PF with PK");
	tap_ok(probe(ACC_EXEC, 1) == 0, "PKRU AD does not stop instruction fetches");
	c->pkru = 0x20; /* WD for key 2 */
	tap_ok(probe(ACC_READ, 1) == 0 && probe(ACC_WRITE, 1) == 0x27 &&
		       probe(ACC_WRITE, 0) == 0x23,
	       "PKRU WD: reads allowed, writes fault (supervisor with CR0.WP)");
	c->cr0 &= ~(uint64_t)CR0_WP;
	tap_ok(probe(ACC_WRITE, 0) == 0 && probe(ACC_WRITE, 1) == 0x27,
	       "PKRU WD with CR0.WP=0: supervisor writes allowed, user writes not");
	c->pkru = 0x30u << 2; /* key 3 denied: key 2 is free */
	tap_ok(probe(ACC_WRITE, 1) == 0, "PKRU rights are per key");
	map(0x3 | KEY(2));
	c->pkru = 0x10;
	tap_ok(probe(ACC_READ, 0) == 0, "PKRU does not apply to supervisor pages");

	/* the TLB entry filled before WRPKRU must not survive it */
	long_mode();
	map(0x7 | KEY(2));
	c->cr4 |= CR4_PKE;
	w64(PA, 99);
	put(CODE, seq, sizeof(seq));
	c->r[3] = VA;
	c->r[6] = 0x10;
	run(20);
	tap_ok(ended_at(PF_HANDLER) && r64(STACK - 48) == 0x21 && c->pkru == 0x10 &&
		       r64(STACK - 40) == CODE + 12,
	       "WRPKRU takes effect on a page already in the TLB");

	long_mode();
	c->cr4 |= CR4_PKE;
	c->pkru = 0xdeadbeef;
	put(CODE, rd, sizeof(rd));
	c->r[2] = ~0ULL;
	run(10);
	tap_ok(ended_at(CODE + 5) && c->r[0] == 0xdeadbeef && c->r[2] == 0,
	       "RDPKRU: EAX = PKRU, EDX = 0");
	long_mode();
	put(CODE, rd, sizeof(rd));
	run(10);
	tap_ok(ended_at(UD_HANDLER), "RDPKRU without CR4.PKE raises #UD");
	long_mode();
	c->cr4 |= CR4_PKE;
	put(CODE, wr, sizeof(wr));
	c->r[2] = 1;
	run(10);
	tap_ok(ended_at(GP_HANDLER) && c->pkru == 0, "WRPKRU with EDX != 0 raises #GP");
}

static void test_pks(void)
{
	/* mov ecx,0x6e1; mov eax,esi; xor edx,edx; wrmsr; mov rax,[rbx]; hlt */
	static const uint8_t seq[] = { 0xb9, 0xe1, 0x06, 0x00, 0x00, 0x89, 0xf0, 0x31,
				       0xd2, 0x0f, 0x30, 0x48, 0x8b, 0x03, 0xf4 };
	uint64_t v = 0;

	long_mode();
	map(0x3 | KEY(5));
	c->pkrs = 1u << 10; /* AD for key 5 */
	tap_ok(probe(ACC_READ, 0) == 0, "PKRS is ignored while CR4.PKS is clear");
	c->cr4 |= CR4_PKS;
	tap_ok(probe(ACC_READ, 0) == 0x21 && probe(ACC_EXEC, 0) == 0,
	       "PKRS AD: supervisor data reads fault with PK, fetches do not");
	c->pkrs = 2u << 10; /* WD */
	tap_ok(probe(ACC_READ, 0) == 0 && probe(ACC_WRITE, 0) == 0x23,
	       "PKRS WD: supervisor writes fault with CR0.WP=1");
	c->cr0 &= ~(uint64_t)CR0_WP;
	tap_ok(probe(ACC_WRITE, 0) == 0, "PKRS WD with CR0.WP=0: allowed");
	map(0x7 | KEY(5));
	c->pkrs = 1u << 10;
	tap_ok(probe(ACC_READ, 0) == 0, "PKRS does not apply to user pages");
	tap_ok(emu_write_msr(c, 0x6e1, 1ULL << 32) < 0, "IA32_PKRS bits 63:32 are reserved");
	tap_ok(emu_write_msr(c, 0x6e1, 0x44) == 0 && emu_read_msr(c, 0x6e1, &v) == 0 && v == 0x44,
	       "IA32_PKRS reads back");

	long_mode();
	map(0x3 | KEY(5));
	c->cr4 |= CR4_PKS;
	{
		uint64_t x = 0;

		emu_lin_read(c, VA, &x, 8, ACC_READ, 0); /* fill the TLB */
	}
	put(CODE, seq, sizeof(seq));
	c->r[3] = VA;
	c->r[6] = 1u << 10;
	run(20);
	tap_ok(ended_at(PF_HANDLER) && r64(STACK - 48) == 0x21 && r64(STACK - 40) == CODE + 11,
	       "WRMSR IA32_PKRS takes effect on a page already in the TLB");
}

static void test_xsave_pkru(void)
{
	/* xor ecx,ecx; mov eax,0x203; xor edx,edx; xsetbv; xsave [rsi]; hlt */
	static const uint8_t sv[] = { 0x31, 0xc9, 0xb8, 0x03, 0x02, 0x00, 0x00, 0x31,
				      0xd2, 0x0f, 0x01, 0xd1, 0x0f, 0xae, 0x26, 0xf4 };
	/* xrstor [rsi]; hlt (EDX:EAX set by the test) */
	static const uint8_t rs[] = { 0x0f, 0xae, 0x2e, 0xf4 };
	uint8_t *area = ram + 0x100000;
	uint32_t pk;
	uint64_t bv;

	long_mode();
	c->cr4 |= CR4_PKE;
	c->pkru = 0x55555554;
	put(CODE, sv, sizeof(sv));
	c->r[6] = 0x100000;
	run(20);
	memcpy(&pk, area + 2688, 4);
	memcpy(&bv, area + 512, 8);
	tap_ok(ended_at(CODE + 15) && c->xcr0 == 0x203 && pk == 0x55555554 && (bv & 0x200),
	       "XSAVE with XCR0 bit 9 stores PKRU at 2688 and sets XSTATE_BV[9]");

	c->state = EMU_RUNNING;
	c->pkru = 0;
	put(CODE, rs, sizeof(rs));
	c->rip = CODE;
	c->r[0] = 0x203;
	c->r[2] = 0;
	run(10);
	tap_ok(ended_at(CODE + 3) && c->pkru == 0x55555554, "XRSTOR loads PKRU");

	bv &= ~0x200ULL;
	memcpy(area + 512, &bv, 8);
	c->state = EMU_RUNNING;
	c->rip = CODE;
	run(10);
	tap_ok(ended_at(CODE + 3) && c->pkru == 0,
	       "XRSTOR with XSTATE_BV[9] clear puts PKRU in its initial state (0)");
}

/* INVLPG of a non-canonical address (a LAM-tagged pointer, say) is a no-op, not #GP */
static void test_invlpg_noncanonical(void)
{
	/* invlpg [rax]; hlt */
	static const uint8_t code[] = { 0x0f, 0x01, 0x38, 0xf4 };

	long_mode();
	put(CODE, code, sizeof(code));
	c->r[0] = 0xabffffffffffe000ULL;
	run(10);
	tap_ok(ended_at(CODE + 3), "INVLPG of a non-canonical address does not fault");
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
	tap_plan(44);
	test_cpuid();
	test_cr4();
	test_smep();
	test_smap();
	test_pku();
	test_pks();
	test_xsave_pkru();
	test_invlpg_noncanonical();
	emu_cpu_free(c);
	emu_vm_free(vm);
	vm_mem_fini(&m.mem);
	return tap_done();
}
