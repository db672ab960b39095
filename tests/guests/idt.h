/* idt.h - IDT setup and the trap frame of isr.S, for 32-bit and 64-bit guests. */
#ifndef GUEST_IDT_H
#define GUEST_IDT_H

#include <stdint.h>

#define IDT_VECTORS 48

#ifdef __x86_64__
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rdi, rsi, rbp, rbx, rdx, rcx, rax;
	uint64_t vector, error;
	uint64_t ip, cs, flags, sp, ss; /* pushed by the CPU */
};
#else
struct trap_frame {
	uint32_t edi, esi, ebp, esp_pusha, ebx, edx, ecx, eax;
	uint32_t vector, error;
	uint32_t ip, cs, flags; /* pushed by the CPU (same privilege: no ss:esp) */
};
#endif

/* idt_init() - load an IDT of interrupt gates to isr.S's stubs for vectors 0..47. */
void idt_init(void);

/* trap() - called by every stub with interrupts off; defined by each guest. */
void trap(struct trap_frame *f);

#endif
