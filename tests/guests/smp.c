/*
 * smp: starts the application processors with INIT-SIPI-SIPI through the
 * BSP's LAPIC (ICR, "all excluding self" shorthand). Each AP runs the real-mode
 * trampoline of ap-trampoline.S, which increments a counter with a locked add and
 * halts. The BSP sleeps on PIT ticks (PIC IRQ 0) until NCPUS - 1 APs have
 * checked in, or a timeout, and prints how many CPUs are up. NCPUS is a build
 * parameter (smp2, smp3, smp4 for --cpus 2..4): the guest cannot count CPUs
 * without firmware tables.
 */
#include "guest.h"
#include "idt.h"

#ifndef NCPUS
#define NCPUS 2
#endif
#define TIMEOUT_TICKS 500 /* 5 s at 100 Hz */

#define AP_TRAMPOLINE 0x8000
#define AP_COUNTER 0x7000 /* fixed in ap-trampoline.S */

#define LAPIC 0xfee00000u
#define LAPIC_ID (LAPIC + 0x20)
#define LAPIC_EOI (LAPIC + 0xb0)
#define LAPIC_SVR (LAPIC + 0xf0)
#define LAPIC_ICR_LO (LAPIC + 0x300)
#define LAPIC_ICR_HI (LAPIC + 0x310)
#define LAPIC_LVT0 (LAPIC + 0x350)
#define ICR_INIT 0x00000500u
#define ICR_STARTUP 0x00000600u
#define ICR_ASSERT 0x00004000u
#define ICR_LEVEL 0x00008000u
#define ICR_ALL_BUT_SELF 0x000c0000u
#define ICR_BUSY 0x00001000u

extern const char ap_trampoline[], ap_trampoline_end[];
static volatile unsigned int ticks;

void trap(struct trap_frame *f)
{
	if (f->vector == 0x20) {
		ticks++;
		outb(0x20, 0x20);
		return;
	}
	gprintf("unexpected vector %u err %x at %x:%x\n", f->vector, f->error, f->cs, f->ip);
	guest_exit(3);
}

static void timer_start(void)
{
	unsigned int div = 1193182 / 100;

	outb(0x20, 0x11);
	outb(0xa0, 0x11);
	outb(0x21, 0x20);
	outb(0xa1, 0x28);
	outb(0x21, 0x04);
	outb(0xa1, 0x02);
	outb(0x21, 0x01);
	outb(0xa1, 0x01);
	outb(0x21, 0xfe);
	outb(0xa1, 0xff);
	outb(0x43, 0x34);
	outb(0x40, div & 0xff);
	outb(0x40, div >> 8);
}

static void sleep_ticks(unsigned int n)
{
	unsigned int end = ticks + n;

	while (ticks < end)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
}

static void send_ipi(uint32_t icr)
{
	mmio_write32(LAPIC_ICR_HI, 0);
	mmio_write32(LAPIC_ICR_LO, icr);
	while (mmio_read32(LAPIC_ICR_LO) & ICR_BUSY)
		;
}

int guest_main(void)
{
	volatile uint16_t *counter = (volatile uint16_t *)AP_COUNTER;
	unsigned int up;

	gprintf("smp: bsp lapic id %u, starting %u APs\n", mmio_read32(LAPIC_ID) >> 24, NCPUS - 1);
	idt_init();
	mmio_write32(LAPIC_SVR, 0x1ff);
	mmio_write32(LAPIC_LVT0, 0x700);
	timer_start();

	*counter = 0;
	memcpy((void *)AP_TRAMPOLINE, ap_trampoline, ap_trampoline_end - ap_trampoline);
	send_ipi(ICR_ALL_BUT_SELF | ICR_LEVEL | ICR_ASSERT | ICR_INIT);
	sleep_ticks(1); /* 10 ms */
	send_ipi(ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_STARTUP | (AP_TRAMPOLINE >> 12));
	sleep_ticks(1);
	send_ipi(ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_STARTUP | (AP_TRAMPOLINE >> 12));

	while (*counter < NCPUS - 1 && ticks < TIMEOUT_TICKS)
		sleep_ticks(1);
	outb(0x21, 0xff);
	up = 1 + *counter;
	gprintf("smp: %u cpus up\n", up);
	guest_exit_clean(up == NCPUS ? 0 : 1);
}
