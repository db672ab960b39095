/*
 * swint32: software interrupts in 32-bit protected mode: INT3 (#BP, a trap:
 * the saved EIP follows the instruction), INTO with OF set (#OF) and INT n to
 * a vector of the guest's own, whose handler hands back a value in a register.
 * KVM's instruction emulator implements INT n only in real mode, so on hosts
 * whose KVM is a software implementation for nested guests this guest cannot
 * run under KVM (tests/vm/test-guests.sh skips it there, saying so).
 */
#include "guest.h"
#include "idt.h"

#define SWINT_VECTOR 0x2f

extern const char bp_insn[], of_insn[], sw_insn[];
static volatile unsigned int traps;

void trap(struct trap_frame *f)
{
	static const struct {
		unsigned int vector;
		const char *name;
		const char *insn;
	} known[] = {
		{ 3, "bp", bp_insn },
		{ 4, "of", of_insn },
		{ SWINT_VECTOR, "int", sw_insn },
	};

	traps++;
	for (unsigned int i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (known[i].vector != f->vector)
			continue;
		gprintf("%s: vector %u err %04x cs:eip %04x:%s+%u\n", known[i].name, f->vector,
			f->error, f->cs, known[i].name, f->ip - (uint32_t)known[i].insn);
		if (f->vector == SWINT_VECTOR)
			f->eax = f->eax * 2 + 1; /* returned to the caller */
		return;
	}
	gprintf("unexpected vector %u err %x at %x:%x\n", f->vector, f->error, f->cs, f->ip);
	guest_exit(3);
}

int guest_main(void)
{
	uint32_t v = 20;

	gprintf("swint32: software interrupts in protected mode\n");
	idt_init();
	__asm__ volatile("bp_insn: int3" ::: "memory");
	/* 0x7fffffff + 1 overflows: INTO raises #OF after the add. */
	__asm__ volatile("mov $0x7fffffff, %%eax\n\t"
			 "add $1, %%eax\n"
			 "of_insn: into" ::
				 : "eax", "cc", "memory");
	__asm__ volatile("sw_insn: int $0x2f" : "+a"(v) : : "memory");
	gprintf("int 0x2f returned %u\n", v);
	gprintf("swint32: %u traps, done\n", traps);
	return traps == 3 && v == 41 ? 0 : 1;
}
