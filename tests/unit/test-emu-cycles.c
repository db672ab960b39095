/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-emu-cycles: the software CPU's cycle model (emu.h). Guest code times a loop
 * with RDTSC twice, once with an operation the model charges (CPUID, IN from a
 * port, WRMSR, MOV to CR0, INVLPG) and once with a plain instruction of the same
 * length in its place: the two differ by exactly the charges, and a second run
 * gives the same count (the clock is a function of what ran). A TSC-deadline timer
 * still fires on time while the charges pile up, a CPU woken from HLT runs
 * EMU_CYC_HLT_WAKE after the deadline, and rewriting CR8 with its value asks for
 * no interrupt poll while lowering it does.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "emu/emu.h"
#include "lib/error.h"
#include "unit/emu-machine.h"
#include "unit/tap.h"
#include "vm/machine.h"

static struct machine m;
static struct vcpu vcpu0;
static struct emu_vm *vm;
static struct emu_cpu *c;
static struct accel_exit ex;
static uint8_t *ram;

#define RAM_BYTES (4u << 20)
#define CODE 0x1000
#define HANDLER 0x2000
#define VEC 0x40
#define TSCDL_MODE (2u << 17)
#define LOOPS 16

static void fresh(void)
{
	if (c)
		emu_cpu_free(c);
	c = emu_cpu_new(&m, vm, 0);
	c->exit = &ex;
	vcpu0.accel = c;
	vm->vclock_ns = 5000;
}

static void lapic_w(uint32_t reg, uint32_t v)
{
	emu_lapic_mmio(c, reg, &v, 4, 1);
}

/* real-mode code at CODE on a fresh CPU, run until it halts with IF=0: EAX */
static int run(const uint8_t *code, size_t n, uint32_t *eax)
{
	memcpy(ram + CODE, code, n);
	emu_code_write(vm, CODE, (unsigned int)n);
	c->seg[SEG_CS].selector = 0;
	c->seg[SEG_CS].base = 0;
	c->rip = CODE;
	emu_update_mode(c);
	for (int i = 0; i < 1000; i++) {
		if (emu_accel_ops.vcpu_run(&vcpu0, &ex) < 0)
			return -1;
		if (ex.reason == ACCEL_EXIT_HLT) {
			*eax = (uint32_t)c->r[0];
			return 0;
		}
		if (ex.reason != ACCEL_EXIT_INTR)
			return -1;
	}
	return -1;
}

/*
 * RDTSC; LOOPS times { XOR EAX,EAX; @op (2 or 3 bytes, padded with NOP to 3);
 * DEC BP; JNZ }; RDTSC; EAX = the difference; HLT.
 */
static int timed_loop(const uint8_t op[3], uint32_t *cycles)
{
	uint8_t code[] = {
		0x0f,  0x31,		   /* rdtsc */
		0x66,  0x89,  0xc6,	   /* mov esi, eax */
		0xbd,  LOOPS, 0,	   /* mov bp, LOOPS */
		0x66,  0x31,  0xc0,	   /* l: xor eax, eax */
		op[0], op[1], op[2], 0x4d, /* dec bp */
		0x75,  0xf7,		   /* jnz l */
		0x0f,  0x31,		   /* rdtsc */
		0x66,  0x29,  0xf0,	   /* sub eax, esi */
		0xf4,			   /* hlt */
	};

	fresh();
	c->r[1] = 0x8b; /* ECX for WRMSR: IA32_BIOS_SIGN_ID, writable */
	return run(code, sizeof(code), cycles);
}

static void test_charges(void)
{
	static const struct {
		uint8_t op[3];
		unsigned int cost;
		const char *what;
	} cases[] = {
		{ { 0x0f, 0xa2, 0x90 }, EMU_CYC_SERIALIZE, "CPUID" },
		{ { 0xe4, 0x61, 0x90 }, EMU_CYC_PIO, "IN AL, 0x61" },
		{ { 0xe6, 0x61, 0x90 }, EMU_CYC_PIO, "OUT 0x61, AL" },
		{ { 0x0f, 0x30, 0x90 }, EMU_CYC_SERIALIZE, "WRMSR" },
		{ { 0x0f, 0x22, 0xc0 }, EMU_CYC_SERIALIZE, "MOV CR0, EAX" },
		{ { 0x0f, 0x01, 0x3c }, EMU_CYC_SERIALIZE, "INVLPG [SI]" },
	};
	/* the same length, one plain instruction (plus a NOP where the case has one) */
	static const uint8_t plain2[3] = { 0x89, 0xc0, 0x90 }; /* mov ax, ax; nop */
	static const uint8_t plain3[3] = { 0x66, 0x89, 0xc0 }; /* mov eax, eax */
	uint32_t base2 = 0, base3 = 0, again = 0;
	int r;

	r = timed_loop(plain2, &base2);
	r |= timed_loop(plain2, &again);
	tap_ok(r == 0 && base2 == again && base2 > LOOPS * 4,
	       "a plain loop takes the same TSC cycles run after run (%u, %u)", base2, again);
	r = timed_loop(plain3, &base3);
	tap_ok(r == 0 && base3 + LOOPS == base2, "one instruction fewer per pass: %u cycles fewer",
	       base2 - base3);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t t = 0, base = cases[i].op[2] == 0x90 ? base2 : base3;
		uint32_t want = base + LOOPS * cases[i].cost;

		r = timed_loop(cases[i].op, &t);
		tap_ok(r == 0 && t == want, "%s costs %u cycles more: %u, want %u", cases[i].what,
		       cases[i].cost, t, want);
	}
}

/*
 * Arm the TSC deadline 5000 cycles ahead, then run CPUID in a loop: the handler
 * reads the TSC at once. The charges shrink the run batch as they go, so the
 * interrupt comes within a few instructions of the deadline, not a batch of
 * CPUIDs (100 cycles each) later.
 */
static void test_deadline_on_time(void)
{
	static const uint8_t code[] = {
		0x66, 0xb9, 0xe0, 0x06, 0x00, 0x00, /* mov ecx, 0x6e0 */
		0x0f, 0x31,			    /* rdtsc */
		0x66, 0x05, 0x88, 0x13, 0x00, 0x00, /* add eax, 5000 */
		0x66, 0x83, 0xd2, 0x00,		    /* adc edx, 0 */
		0x66, 0x89, 0xc7,		    /* mov edi, eax */
		0x0f, 0x30,			    /* wrmsr */
		0xfb,				    /* sti */
		0x66, 0x31, 0xc0,		    /* l: xor eax, eax */
		0x0f, 0xa2,			    /* cpuid */
		0xeb, 0xf9,			    /* jmp l */
	};
	static const uint8_t handler[] = {
		0x0f, 0x31,	  /* rdtsc */
		0x66, 0x29, 0xf8, /* sub eax, edi */
		0xf4,		  /* hlt (IF is clear in the handler) */
	};
	uint32_t late = ~0u;
	int r;

	fresh();
	memcpy(ram + HANDLER, handler, sizeof(handler));
	emu_code_write(vm, HANDLER, sizeof(handler));
	memcpy(ram + VEC * 4, &(uint32_t){ HANDLER }, 4); /* IVT: 0000:HANDLER */
	lapic_w(0xf0, 0x1ff);
	lapic_w(0x320, VEC | TSCDL_MODE);
	r = run(code, sizeof(code), &late);
	tap_ok(r == 0 && late < 2 * EMU_CYC_SERIALIZE,
	       "a TSC deadline among CPUIDs fires %u cycles late (less than two CPUIDs)", late);
}

/* STI; HLT until a TSC deadline: the code after HLT reads the TSC EMU_CYC_HLT_WAKE later */
static void test_wake(void)
{
	static const uint8_t code[] = {
		0x66, 0xb9, 0xe0, 0x06, 0x00, 0x00, /* mov ecx, 0x6e0 */
		0x0f, 0x31,			    /* rdtsc */
		0x66, 0x05, 0x10, 0x27, 0x00, 0x00, /* add eax, 10000 */
		0x66, 0x83, 0xd2, 0x00,		    /* adc edx, 0 */
		0x66, 0x89, 0xc7,		    /* mov edi, eax */
		0x0f, 0x30,			    /* wrmsr */
		0xfb,				    /* sti */
		0xf4,				    /* hlt */
		0xfa,				    /* cli */
		0x0f, 0x31,			    /* rdtsc */
		0x66, 0x29, 0xf8,		    /* sub eax, edi */
		0xf4,				    /* hlt */
	};
	static const uint8_t handler[] = { 0xcf }; /* iret */
	uint32_t late = ~0u;
	int r;

	fresh();
	memcpy(ram + HANDLER, handler, sizeof(handler));
	emu_code_write(vm, HANDLER, sizeof(handler));
	memcpy(ram + VEC * 4, &(uint32_t){ HANDLER }, 4);
	lapic_w(0xf0, 0x1ff);
	lapic_w(0x320, VEC | TSCDL_MODE);
	r = run(code, sizeof(code), &late);
	tap_ok(r == 0 && late >= EMU_CYC_HLT_WAKE &&
		       late < EMU_CYC_HLT_WAKE + 2 * EMU_CYC_SERIALIZE,
	       "a halted CPU runs again %u cycles after its timer (wake-up %u, IRET %u)", late,
	       EMU_CYC_HLT_WAKE, EMU_CYC_SERIALIZE);
}

static void test_cr8_hint(void)
{
	fresh();
	emu_write_cr(c, 8, 5);
	c->intr_hint = 0;
	emu_write_cr(c, 8, 5);
	tap_ok(!c->intr_hint && c->lapic.tpr == 0x50, "MOV CR8 of the same class: no poll");
	emu_write_cr(c, 8, 9);
	tap_ok(!c->intr_hint && c->lapic.tpr == 0x90, "MOV CR8 raising the class: no poll");
	emu_write_cr(c, 8, 2);
	tap_ok(c->intr_hint && c->lapic.tpr == 0x20 && c->cr8 == 2,
	       "MOV CR8 lowering the class: the controllers are polled");
}

int main(void)
{
	ram = emu_test_machine(&m, &vcpu0, 1, RAM_BYTES, &vm);
	if (!ram)
		return 77;
	tap_plan(13);
	test_charges();
	test_deadline_on_time();
	test_wake();
	test_cr8_hint();
	emu_cpu_free(c);
	emu_vm_free(vm);
	vm_mem_fini(&m.mem);
	return tap_done();
}
