/* idt.c - build and load the IDT (32-bit or 64-bit gates) pointing at isr.S. */
#include "guest.h"
#include "idt.h"

extern const uintptr_t isr_table[IDT_VECTORS];

#ifdef __x86_64__
struct gate {
	uint16_t off0, sel;
	uint8_t ist, type;
	uint16_t off1;
	uint32_t off2, zero;
};
#define SEL_CODE 0x18
#else
struct gate {
	uint16_t off0, sel;
	uint8_t zero, type;
	uint16_t off1;
};
#define SEL_CODE 0x08
#endif

static struct gate idt[IDT_VECTORS] __attribute__((aligned(16)));

void idt_init(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uintptr_t base;
	} desc;

	for (int v = 0; v < IDT_VECTORS; v++) {
		uintptr_t a = isr_table[v];
		struct gate *g = &idt[v];

		g->off0 = (uint16_t)a;
		g->sel = SEL_CODE;
		g->type = 0x8e; /* present, DPL 0, interrupt gate */
		g->off1 = (uint16_t)(a >> 16);
#ifdef __x86_64__
		g->off2 = (uint32_t)(a >> 32);
#endif
	}
	desc.limit = sizeof(idt) - 1;
	desc.base = (uintptr_t)idt;
	__asm__ volatile("lidt %0" : : "m"(desc));
}
