/*
 * prot32: 32-bit protected mode with flat segments (entry32.S) and an IDT.
 * Provokes #DE, #UD, #GP (with an error code) and #PF under 2-level paging (not-present read and
 * write, write to a read-only page with CR0.WP), and prints from the handler the vector, error
 * code, CR2 and the saved CS:EIP relative to the faulting instruction's label, then resumes after
 * it. #BP and other software interrupts are in swint32.c: KVM's instruction emulator cannot execute
 * INT n outside real mode (see isr.S).
 *
 * Software KVM for nested guests (kvm_pvm) refuses CR0.PG outside long mode
 * with #GP, so the paging builds run only where KVM is hardware-assisted (and
 * under the emulator); long64 covers #PF everywhere.
 */
#ifndef PAGING
#define PAGING 0
#endif
#include "guest.h"
#include "idt.h"

#define PAGE_DIR 0x4000
#define PAGE_TABLE 0x5000
#define PF_ABSENT 0x300000 /* not-present page */
#define PF_RDONLY 0x301000 /* read-only page */

struct fault_test {
	const char *name;
	uintptr_t insn; /* address of the instruction (label) the test provokes at */
	uintptr_t resume;
};

static volatile const struct fault_test *cur;
static volatile unsigned int faults;

/* Labels defined inside the asm blocks below. */
extern const char de_insn[], de_done[], ud_insn[], ud_done[], gp_insn[], gp_done[];
extern const char pf1_insn[], pf1_done[], pf2_insn[], pf2_done[], pf3_insn[], pf3_done[];

void trap(struct trap_frame *f)
{
	const volatile struct fault_test *t = cur;
	uint32_t cr2;

	faults++;
	if (!t) {
		gprintf("unexpected vector %u err %x at %x:%x\n", f->vector, f->error, f->cs,
			f->ip);
		guest_exit(3);
	}
	gprintf("%s: vector %u err %04x cs:eip %04x:%s+%u", t->name, f->vector, f->error, f->cs,
		t->name, f->ip - (uint32_t)t->insn);
	if (f->vector == 14) {
		__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
		gprintf(" cr2 %08x", cr2);
	}
	gprintf("\n");
	f->ip = t->resume;
	cur = NULL;
}

static void arm(const struct fault_test *t)
{
	cur = t;
	barrier();
}

#if PAGING == 2
/* 2-level paging: one page directory, one page table mapping 0-4 MiB. */
static void paging_init(void)
{
	uint32_t *pd = (uint32_t *)PAGE_DIR, *pt = (uint32_t *)PAGE_TABLE;

	memset(pd, 0, 4096);
	for (uint32_t i = 0; i < 1024; i++)
		pt[i] = (i << 12) | 3; /* present, writable, identity */
	pt[PF_ABSENT >> 12] = 0;
	pt[PF_RDONLY >> 12] = PF_RDONLY | 1; /* present, read-only */
	pd[0] = PAGE_TABLE | 3;
	__asm__ volatile("mov %0, %%cr3\n\t"
			 "mov %%cr0, %%eax\n\t"
			 "or $0x80010000, %%eax\n\t" /* PG, WP */
			 "mov %%eax, %%cr0\n\t"
			 "jmp 1f\n1:"
			 :
			 : "r"(PAGE_DIR)
			 : "eax", "memory");
}
#define PAGING_NAME "2-level"
#define GUEST_NAME "paging32"
#elif PAGING == 3
/*
 * PAE paging: a 4-entry PDPT at PAGE_PDPT, a page directory whose first entry
 * maps 0-2 MiB as a large page and whose second points to a page table for 2-4
 * MiB.
 */
#define PAGE_PDPT 0x6000
static void paging_init(void)
{
	uint64_t *pdpt = (uint64_t *)PAGE_PDPT, *pd = (uint64_t *)PAGE_DIR;
	uint64_t *pt = (uint64_t *)PAGE_TABLE;

	memset(pdpt, 0, 32);
	memset(pd, 0, 4096);
	for (uint32_t i = 0; i < 512; i++)
		pt[i] = (0x200000 + (i << 12)) | 3;
	pt[(PF_ABSENT - 0x200000) >> 12] = 0;
	pt[(PF_RDONLY - 0x200000) >> 12] = PF_RDONLY | 1;
	pd[0] = 0x83; /* 2 MiB page at 0: present, writable, PS */
	pd[1] = PAGE_TABLE | 3;
	pdpt[0] = PAGE_DIR | 1; /* PDPTEs have no R/W bit */
	__asm__ volatile("mov %%cr4, %%eax\n\t"
			 "or $0x20, %%eax\n\t" /* PAE */
			 "mov %%eax, %%cr4\n\t"
			 "mov %0, %%cr3\n\t"
			 "mov %%cr0, %%eax\n\t"
			 "or $0x80010000, %%eax\n\t" /* PG, WP */
			 "mov %%eax, %%cr0\n\t"
			 "jmp 1f\n1:"
			 :
			 : "r"(PAGE_PDPT)
			 : "eax", "memory");
}
#define PAGE_DIR_ROOT PAGE_PDPT
#define PAGING_NAME "PAE"
#define GUEST_NAME "paging32-pae"
#else
#define GUEST_NAME "prot32"
#endif
#ifndef PAGE_DIR_ROOT
#define PAGE_DIR_ROOT PAGE_DIR
#endif

int guest_main(void)
{
	uint16_t cs, ds;
	__asm__ volatile("mov %%cs, %0; mov %%ds, %1" : "=r"(cs), "=r"(ds));
	gprintf("%s: protected mode, cs %04x ds %04x\n", GUEST_NAME, cs, ds);

	/* A far jump through the GDT reloads CS with the same flat selector. */
	__asm__ volatile("ljmp $0x08, $1f\n1:\n\tmov %%cs, %0" : "=r"(cs));
	gprintf("far jump to %04x:1f ok\n", cs);

	idt_init();

	static const struct fault_test de = { "de", (uintptr_t)de_insn, (uintptr_t)de_done };
	arm(&de);
	__asm__ volatile("xor %%ecx, %%ecx\n\t"
			 "mov $1, %%eax\n\t"
			 "xor %%edx, %%edx\n"
			 "de_insn: div %%ecx\n"
			 "de_done:"
			 :
			 :
			 : "eax", "ecx", "edx", "memory");

	static const struct fault_test ud = { "ud", (uintptr_t)ud_insn, (uintptr_t)ud_done };
	arm(&ud);
	__asm__ volatile("ud_insn: ud2\n"
			 "ud_done:" ::
				 : "memory");

	/* Selector 0x48 lies beyond the GDT limit: #GP with the selector as error code. */
	static const struct fault_test gp = { "gp", (uintptr_t)gp_insn, (uintptr_t)gp_done };
	arm(&gp);
	__asm__ volatile("mov $0x48, %%eax\n"
			 "gp_insn: mov %%eax, %%ds\n"
			 "gp_done:"
			 :
			 :
			 : "eax", "memory");

#if PAGING
	uint32_t v, kept;

	paging_init();
	gprintf("%s paging on, cr3 %08x\n", PAGING_NAME, PAGE_DIR_ROOT);

	static const struct fault_test pf1 = { "pf1", (uintptr_t)pf1_insn, (uintptr_t)pf1_done };
	arm(&pf1);
	__asm__ volatile("pf1_insn: movl $0x1234, %0\n"
			 "pf1_done:"
			 : "=m"(*(volatile uint32_t *)(PF_ABSENT + 0x10))
			 :
			 : "memory");

	static const struct fault_test pf2 = { "pf2", (uintptr_t)pf2_insn, (uintptr_t)pf2_done };
	arm(&pf2);
	v = 0x55;
	__asm__ volatile("pf2_insn: mov %1, %0\n"
			 "pf2_done:"
			 : "+r"(v)
			 : "m"(*(volatile uint32_t *)(PF_ABSENT + 0x20))
			 : "memory");

	static const struct fault_test pf3 = { "pf3", (uintptr_t)pf3_insn, (uintptr_t)pf3_done };
	arm(&pf3);
	__asm__ volatile("pf3_insn: movl $0x1234, %0\n"
			 "pf3_done:"
			 : "=m"(*(volatile uint32_t *)(PF_RDONLY + 0x8))
			 :
			 : "memory");

	/* The faulting load left its destination alone; the read-only page reads fine. */
	kept = v;
	v = *(volatile uint32_t *)(PF_RDONLY + 0x8);
	gprintf("read-only page reads %x, faulting load kept %x\n", v, kept);

#endif
	gprintf("%s: %u faults handled, done\n", GUEST_NAME, faults);
	return faults == (PAGING ? 6 : 3) ? 0 : 1;
}
