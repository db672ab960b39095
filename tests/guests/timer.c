/*
 * timer: external interrupts through the machine's irqchip. Programs the 8259
 * PIC (vectors 0x20-0x2f, only IRQ 0 unmasked) and the 8254 PIT (channel 0,
 * rate generator, 100 Hz), points the BSP's LAPIC LINT0 at the PIC (ExtINT, as
 * firmware does), then sleeps with STI; HLT until TIMER_TICKS interrupts have
 * arrived. Then it masks the PIC and runs the LAPIC timer in periodic mode on
 * vector 0x21 for LAPIC_TICKS interrupts. It prints fixed messages only: how
 * many ticks arrive while a message is printed depends on timing.
 */
#include "guest.h"
#include "idt.h"

#define TIMER_TICKS 5
#define LAPIC_TICKS 3

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1
#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_HZ 1193182
#define VEC_PIT 0x20
#define VEC_LAPIC 0x21

#define LAPIC 0xfee00000u
#define LAPIC_EOI (LAPIC + 0xb0)
#define LAPIC_SVR (LAPIC + 0xf0)
#define LAPIC_LVTT (LAPIC + 0x320)
#define LAPIC_LVT0 (LAPIC + 0x350)
#define LAPIC_TICR (LAPIC + 0x380)
#define LAPIC_TDCR (LAPIC + 0x3e0)

static volatile unsigned int pit_ticks, lapic_ticks;

void trap(struct trap_frame *f)
{
	switch (f->vector) {
	case VEC_PIT:
		pit_ticks++;
		outb(PIC1_CMD, 0x20); /* non-specific EOI */
		return;
	case VEC_LAPIC:
		lapic_ticks++;
		mmio_write32(LAPIC_EOI, 0);
		return;
	default:
		gprintf("unexpected vector %u err %x at %x:%x\n", f->vector, f->error, f->cs,
			f->ip);
		guest_exit(3);
	}
}

static void pic_init(void)
{
	outb(PIC1_CMD, 0x11); /* ICW1: edge, cascade, ICW4 follows */
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, 0x20); /* ICW2: vector base */
	outb(PIC2_DATA, 0x28);
	outb(PIC1_DATA, 0x04); /* ICW3: slave on IRQ 2 */
	outb(PIC2_DATA, 0x02);
	outb(PIC1_DATA, 0x01); /* ICW4: 8086 mode */
	outb(PIC2_DATA, 0x01);
	outb(PIC1_DATA, 0xfe); /* only IRQ 0 */
	outb(PIC2_DATA, 0xff);
}

static void wait_ticks(volatile unsigned int *ticks, unsigned int n)
{
	/* STI's one-instruction shadow makes STI; HLT atomic: no wakeup is lost. */
	while (*ticks < n)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
}

int guest_main(void)
{
	unsigned int div = PIT_HZ / 100;

	gprintf("timer: 8259 PIC + 8254 PIT, %u ticks\n", TIMER_TICKS);
	idt_init();
	mmio_write32(LAPIC_SVR, 0x1ff);	 /* APIC enabled, spurious vector 0xff */
	mmio_write32(LAPIC_LVT0, 0x700); /* LINT0: ExtINT from the PIC */
	pic_init();
	outb(PIT_CMD, 0x34); /* channel 0, lo/hi byte, mode 2 */
	outb(PIT_CH0, div & 0xff);
	outb(PIT_CH0, div >> 8);
	wait_ticks(&pit_ticks, TIMER_TICKS);
	outb(PIC1_DATA, 0xff);
	gprintf("timer: got %u PIT interrupts on vector 0x%x\n", TIMER_TICKS, VEC_PIT);

	gprintf("timer: LAPIC timer, periodic, %u ticks\n", LAPIC_TICKS);
	mmio_write32(LAPIC_TDCR, 0x3);			  /* divide by 16 */
	mmio_write32(LAPIC_LVTT, (1u << 17) | VEC_LAPIC); /* periodic */
	mmio_write32(LAPIC_TICR, 200000);
	wait_ticks(&lapic_ticks, LAPIC_TICKS);
	mmio_write32(LAPIC_LVTT, 1u << 16); /* masked */
	mmio_write32(LAPIC_TICR, 0);
	gprintf("timer: got %u LAPIC timer interrupts on vector 0x%x\n", LAPIC_TICKS, VEC_LAPIC);
	gprintf("timer: done\n");
	guest_exit_clean(0);
}
