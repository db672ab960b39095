/*
 * long64: 64-bit long mode (entry64.S: PAE, 4-level paging, EFER.LME/NXE) with
 * an IDT of 64-bit gates. Checks RIP-relative addressing, runs a small sieve
 * and checksum, then maps a no-execute page and calls into it (#PF with the
 * instruction-fetch bit in the error code), reads a not-present page and
 * touches a non-canonical address (#GP), printing vector, error code, CR2 and
 * where the handler found the saved RIP.
 */
#include "guest.h"
#include "idt.h"

#define PD 0x3000	     /* entry64.S's page directory */
#define PT 0x6000	     /* page table for 2-4 MiB */
#define NX_PAGE 0x200000     /* present, writable, no-execute */
#define ABSENT_PAGE 0x201000 /* not present */
#define PTE_P 1ULL
#define PTE_W 2ULL
#define PTE_NX (1ULL << 63)

static volatile const char *expect;
static volatile unsigned int faults;
extern const char gp_insn[], gp_done[], pf_insn[], pf_done[];

void trap(struct trap_frame *f)
{
	uint64_t cr2;

	faults++;
	if (!expect) {
		gprintf("unexpected vector %lu err %lx at %lx:%lx\n", f->vector, f->error, f->cs,
			f->ip);
		guest_exit(3);
	}
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	gprintf("%s: vector %lu err %04lx cs %04lx", expect, f->vector, f->error, f->cs);
	if (f->vector == 14)
		gprintf(" cr2 %016lx", cr2);
	if (f->ip == NX_PAGE) {
		/* The fetch from the NX page faulted: return for the callee. */
		gprintf(" rip = nx page\n");
		f->ip = *(uint64_t *)f->sp;
		f->sp += 8;
	} else if (f->ip == (uintptr_t)gp_insn) {
		gprintf(" rip = gp_insn\n");
		f->ip = (uintptr_t)gp_done;
	} else if (f->ip == (uintptr_t)pf_insn) {
		gprintf(" rip = pf_insn\n");
		f->ip = (uintptr_t)pf_done;
	} else {
		gprintf(" rip %lx unexpected\n", f->ip);
		guest_exit(4);
	}
	expect = NULL;
}

static unsigned int sieve(unsigned int n, unsigned long *sum)
{
	static uint8_t composite[1000];
	unsigned int count = 0;

	*sum = 0;
	for (unsigned int i = 2; i < n; i++) {
		if (composite[i])
			continue;
		count++;
		*sum += i;
		for (unsigned int j = i * i; j < n; j += i)
			composite[j] = 1;
	}
	return count;
}

static uint64_t fnv1a(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--) {
		h ^= *b++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static const char text[] = "cabin test guest: 64-bit long mode";

int guest_main(void)
{
	uint64_t efer, cr4, via_rip, absolute;
	uint16_t cs;
	unsigned long sum;
	unsigned int n;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	__asm__ volatile("rdmsr\n\tshl $32, %%rdx\n\tor %%rdx, %%rax"
			 : "=a"(efer)
			 : "c"(0xc0000080)
			 : "rdx");
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	gprintf("long64: long mode, cs %04x efer %lx (lma %lu) cr4.pae %lu\n", cs, efer,
		(efer >> 10) & 1, (cr4 >> 5) & 1);

	/* RIP-relative and absolute addressing must agree on where text lives. */
	__asm__ volatile("lea text(%%rip), %0" : "=r"(via_rip));
	__asm__ volatile("movabs $text, %0" : "=r"(absolute));
	gprintf("rip-relative lea %s, %s\n", via_rip == absolute ? "matches" : "differs", text);

	n = sieve(1000, &sum);
	gprintf("sieve: %u primes below 1000, sum %lu\n", n, sum);
	gprintf("fnv1a: %016lx\n", fnv1a(text, sizeof(text) - 1));

	idt_init();

	/* 2-4 MiB: one writable no-execute page holding a RET, one absent page. */
	uint64_t *pd = (uint64_t *)PD, *pt = (uint64_t *)PT;
	memset(pt, 0, 4096);
	pt[0] = NX_PAGE | PTE_P | PTE_W | PTE_NX;
	pd[1] = PT | PTE_P | PTE_W;
	__asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
	*(volatile uint8_t *)NX_PAGE = 0xc3; /* ret */

	expect = "nx";
	((void (*)(void))NX_PAGE)();

	expect = "absent";
	__asm__ volatile("pf_insn: movb %0, %%al\n"
			 "pf_done:"
			 :
			 : "m"(*(volatile uint8_t *)ABSENT_PAGE)
			 : "rax", "memory");

	expect = "gp";
	__asm__ volatile("movabs $0x8000000000000000, %%rax\n"
			 "gp_insn: movb (%%rax), %%al\n"
			 "gp_done:" ::
				 : "rax", "memory");

	gprintf("long64: %u faults handled, done\n", faults);
	return faults == 3 ? 0 : 1;
}
