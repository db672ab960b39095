/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-emu-x2apic: the software CPU's local APIC in x2APIC mode (SDM vol. 3
 * 10.12): CPUID, the IA32_APIC_BASE mode transitions (EN, EXTD) and reserved
 * bits, the registers as MSRs 0x800-0x8ff (read-only and write-only ones
 * raise #GP, 32-bit IDs, the cluster logical ID), the ICR as one 64-bit MSR
 * with 32-bit destinations (physical, logical, broadcast), SELF IPI, and the
 * xAPIC page no longer decoding in x2APIC mode; and the IOAPIC's arbitration
 * ID register.
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
static struct vcpu vcpus[2];
static struct emu_vm *vm;
static struct emu_cpu *cpu[2];
static struct accel_exit ex[2];
static uint8_t *ram;

#define BASE 0xfee00000ULL
#define EN 0x800ULL
#define EXTD 0x400ULL
#define BSP 0x100ULL

#define w64(pa, v) emu_test_w64(ram, pa, v)

static int irr(const struct emu_cpu *c, int vec)
{
	return (c->lapic.irr[vec >> 5] >> (vec & 31)) & 1;
}

static void fresh(void)
{
	for (unsigned int i = 0; i < 2; i++) {
		if (cpu[i])
			emu_cpu_free(cpu[i]);
		cpu[i] = emu_cpu_new(&m, vm, i);
		cpu[i]->exit = &ex[i];
		vcpus[i].accel = cpu[i];
		cpu[i]->lapic.svr = 0x1ff; /* software-enabled */
	}
}

static void test_cpuid_and_base(void)
{
	struct emu_cpu *c;
	uint32_t o[4];
	uint64_t v = 0;

	fresh();
	c = cpu[0];
	emu_cpuid(c, 1, 0, o);
	tap_ok((o[2] & (1u << 21)) && (o[3] & (1u << 9)), "CPUID.1: x2APIC and APIC");
	emu_cpuid(cpu[1], 0xb, 0, o);
	tap_ok(o[3] == 1 && o[1] == 1 && ((o[2] >> 8) & 0xff) == 1,
	       "CPUID.B.0: x2APIC ID of CPU 1, one thread per core");
	emu_cpuid(cpu[1], 0xb, 1, o);
	tap_ok(o[0] == 1 && o[1] == 2 && ((o[2] >> 8) & 0xff) == 2,
	       "CPUID.B.1: 2 cores, 1 bit of core ID");
	tap_ok(emu_read_msr(c, 0x802, &v) < 0 && emu_write_msr(c, 0x808, 0) < 0,
	       "x2APIC MSRs raise #GP in xAPIC mode");

	tap_ok(emu_write_msr(c, 0x1b, BASE | EN | 1) < 0, "IA32_APIC_BASE bit 0 is reserved");
	tap_ok(emu_write_msr(c, 0x1b, BASE | EXTD) < 0, "EXTD without EN is invalid");
	tap_ok(emu_write_msr(c, 0x1b, BASE | EN | EXTD) == 0 && emu_read_msr(c, 0x1b, &v) == 0 &&
		       v == (BASE | EN | EXTD | BSP),
	       "xAPIC to x2APIC");
	tap_ok(emu_write_msr(c, 0x1b, BASE | EN) < 0, "x2APIC straight back to xAPIC: #GP");
	tap_ok(emu_write_msr(c, 0x1b, BASE) == 0, "x2APIC to disabled");
	emu_cpuid(c, 1, 0, o);
	tap_ok(!(o[3] & (1u << 9)), "CPUID.1 EDX.APIC clear while the APIC is disabled");
	tap_ok(emu_write_msr(c, 0x1b, BASE | EN | EXTD) < 0, "disabled straight to x2APIC: #GP");

	/* a disabled APIC loses its state; enabling it again restores the initial ID */
	fresh();
	c = cpu[1];
	c->lapic.id = 7;
	c->lapic.lvt[1] = 0x40;
	tap_ok(emu_write_msr(c, 0x1b, BASE) == 0 && emu_write_msr(c, 0x1b, BASE | EN) == 0 &&
		       c->lapic.id == 1 && (c->lapic.lvt[1] & 0x10000),
	       "disable and enable: initial APIC ID, LVTs masked");
}

static void test_msrs(void)
{
	struct emu_cpu *c, *d;
	uint64_t v = 0;

	fresh();
	c = cpu[0];
	d = cpu[1];
	for (unsigned int i = 0; i < 2; i++)
		emu_write_msr(cpu[i], 0x1b, BASE | EN | EXTD);
	tap_ok(emu_read_msr(d, 0x802, &v) == 0 && v == 1, "x2APIC ID (0x802) is the initial ID");
	tap_ok(emu_write_msr(d, 0x802, 5) < 0, "the x2APIC ID is read-only");
	tap_ok(emu_read_msr(d, 0x80d, &v) == 0 && v == 0x2 && emu_write_msr(d, 0x80d, 0) < 0,
	       "LDR (0x80d): cluster 0, bit 1 for ID 1; read-only");
	tap_ok(emu_read_msr(c, 0x80e, &v) < 0 && emu_read_msr(c, 0x80b, &v) < 0 &&
		       emu_read_msr(c, 0x83f, &v) < 0 && emu_read_msr(c, 0x831, &v) < 0 &&
		       emu_read_msr(c, 0x82f, &v) < 0 && emu_write_msr(c, 0x82f, 0) < 0,
	       "no DFR, ICR2 or CMCI LVT; EOI and SELF IPI are write-only");
	tap_ok(emu_read_msr(c, 0x803, &v) == 0 && (v & 0xff) == 0x14, "version register readable");
	tap_ok(emu_write_msr(c, 0x808, 0x20) == 0 && emu_read_msr(c, 0x808, &v) == 0 && v == 0x20 &&
		       c->cr8 == 2,
	       "TPR as an MSR, CR8 follows");
	emu_write_msr(c, 0x808, 0);
	tap_ok(emu_write_msr(c, 0x808, 1ULL << 32) < 0, "bits 63:32 of a 32-bit register: #GP");

	/* ICR: one 64-bit write sends; the destination is bits 63:32 */
	tap_ok(emu_write_msr(c, 0x830, (1ULL << 32) | 0x41) == 0 && irr(d, 0x41) && !irr(c, 0x41),
	       "ICR physical destination 1 reaches CPU 1 only");
	tap_ok(emu_read_msr(c, 0x830, &v) == 0 && v == ((1ULL << 32) | 0x41),
	       "ICR reads back as 64 bits");
	tap_ok(emu_write_msr(c, 0x830, (0x2ULL << 32) | 0x800 | 0x42) == 0 && irr(d, 0x42) &&
		       !irr(c, 0x42),
	       "ICR logical destination cluster 0 bit 1 reaches CPU 1");
	tap_ok(emu_write_msr(c, 0x830, (0x10002ULL << 32) | 0x800 | 0x43) == 0 && !irr(d, 0x43),
	       "a logical destination in another cluster reaches nobody");
	tap_ok(emu_write_msr(c, 0x830, (0xffffffffULL << 32) | 0x44) == 0 && irr(c, 0x44) &&
		       irr(d, 0x44),
	       "physical destination 0xffffffff is a broadcast");
	tap_ok(emu_write_msr(c, 0x830, (0xffULL << 32) | 0x45) == 0 && !irr(d, 0x45),
	       "0xff is an ordinary x2APIC ID, not a broadcast");

	tap_ok(emu_write_msr(c, 0x83f, 0x46) == 0 && irr(c, 0x46) && !irr(d, 0x46), "SELF IPI");
	tap_ok(emu_write_msr(c, 0x83f, 0x146) < 0, "SELF IPI reserved bits: #GP");
	tap_ok(emu_write_msr(c, 0x80b, 1) < 0 && emu_write_msr(c, 0x828, 1) < 0,
	       "EOI and ESR take only 0");
	c->lapic.isr[0x46 >> 5] |= 1u << (0x46 & 31);
	tap_ok(emu_write_msr(c, 0x80b, 0) == 0 && !(c->lapic.isr[0x46 >> 5] & (1u << 6)),
	       "EOI 0 ends the interrupt in service");
}

/* in x2APIC mode the xAPIC page is not the APIC: a read of it goes to the bus */
static void test_page(void)
{
	/* mov eax,[rbx]; hlt */
	static const uint8_t code[] = { 0x8b, 0x03, 0xf4 };
	struct emu_cpu *c;
	struct x86_segment *s;

	fresh();
	c = cpu[0];
	memset(ram, 0, 1 << 20);
	w64(0x1000, 0x2000 | 3);
	w64(0x2000, 0x83);			/* first GiB */
	w64(0x2000 + 8 * 3, 0xc0000000 | 0x83); /* 3-4 GiB */
	memcpy(ram + 0x10000, code, sizeof(code));
	emu_code_write(vm, 0x10000, sizeof(code));
	c->cr3 = 0x1000;
	c->cr4 = CR4_PAE;
	c->efer = EFER_LME | EFER_LMA;
	c->cr0 = CR0_PE | CR0_PG | CR0_ET;
	for (int i = 0; i < 6; i++) {
		s = &c->seg[i];
		memset(s, 0, sizeof(*s));
		s->limit = 0xffffffff;
		s->type = i == SEG_CS ? 0xb : 0x3;
		s->s = s->present = s->g = 1;
		s->l = i == SEG_CS;
		s->db = i != SEG_CS;
	}
	c->rip = 0x10000;
	c->r[3] = BASE + 0x30;
	emu_flags_set(c, 2);
	emu_tlb_flush(c, 0);
	emu_update_mode(c);
	c->budget = 10;
	emu_exec(c);
	tap_ok(!c->exit_ready && c->r[0] == 0x50014, "xAPIC mode: the page reads the APIC");
	emu_write_msr(c, 0x1b, BASE | EN | EXTD | BSP);
	c->rip = 0x10000;
	c->state = EMU_RUNNING;
	c->budget = 10;
	emu_exec(c);
	tap_ok(c->exit_ready && ex[0].reason == ACCEL_EXIT_MMIO && ex[0].mmio.addr == BASE + 0x30,
	       "x2APIC mode: the page is not decoded (an MMIO exit)");
}

/* IOAPIC register 2 (arbitration ID) follows the ID register and is read-only */
static void test_ioapic_arb(void)
{
	uint32_t v = 0;

	emu_ioapic_mmio(vm, 0x00, &v, 4, 1); /* IOREGSEL = ID */
	v = 0x0f000000;
	emu_ioapic_mmio(vm, 0x10, &v, 4, 1);
	v = 2;
	emu_ioapic_mmio(vm, 0x00, &v, 4, 1); /* IOREGSEL = arbitration ID */
	v = 0;
	emu_ioapic_mmio(vm, 0x10, &v, 4, 1); /* read-only: dropped */
	emu_ioapic_mmio(vm, 0x10, &v, 4, 0);
	tap_ok(v == 0x0f000000, "IOAPIC arbitration ID = ID, read-only (%#x)", v);
}

int main(void)
{

	ram = emu_test_machine(&m, vcpus, 2, 16 << 20, &vm);
	if (!ram)
		return 77;
	tap_plan(32);
	test_cpuid_and_base();
	test_msrs();
	test_page();
	test_ioapic_arb();
	for (unsigned int i = 0; i < 2; i++)
		emu_cpu_free(cpu[i]);
	emu_vm_free(vm);
	vm_mem_fini(&m.mem);
	return tap_done();
}
