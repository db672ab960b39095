/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-emu-ir: interrupts of the software CPU's irqchip through the VT-d unit's
 * interrupt remapping: an IOAPIC entry in remappable format (VT-d 5.1.5.1) and MSIs
 * reach the local APIC the IRTE names, with the IRTE's vector and trigger mode; a
 * blocked request sets nothing (no IRR, no remote IRR) and is recorded as a fault.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "emu/emu.h"
#include "hw/intel-iommu.h"
#include "lib/error.h"
#include "unit/emu-machine.h"
#include "unit/tap.h"
#include "vm/machine.h"

#define IRT 0x10000ull
#define PIN 10

static struct machine m;
static struct vcpu vcpus[2];
static struct emu_vm *vm;
static struct emu_cpu *cpu[2];
static struct accel_exit ex[2];
static uint8_t *ram;

#define w64(pa, v) emu_test_w64(ram, pa, v)

static int irr(const struct emu_cpu *c, int vec)
{
	return (c->lapic.irr[vec >> 5] >> (vec & 31)) & 1;
}

static void clear_irr(void)
{
	for (int i = 0; i < 2; i++)
		memset(cpu[i]->lapic.irr, 0, sizeof(cpu[i]->lapic.irr));
}

static void vtd_wr(unsigned int off, uint64_t v, unsigned int len)
{
	bus_access(&m.bus, BUS_MMIO, HW_VTD_BASE + off, &v, len, 1);
}

static uint64_t vtd_rd(unsigned int off, unsigned int len)
{
	uint64_t v = 0;

	bus_access(&m.bus, BUS_MMIO, HW_VTD_BASE + off, &v, len, 0);
	return v;
}

static void rte(unsigned int pin, uint64_t e)
{
	uint32_t v;

	v = 0x10 + 2 * pin;
	emu_ioapic_mmio(vm, 0, &v, 4, 1);
	v = (uint32_t)e;
	emu_ioapic_mmio(vm, 0x10, &v, 4, 1);
	v = 0x11 + 2 * pin;
	emu_ioapic_mmio(vm, 0, &v, 4, 1);
	v = (uint32_t)(e >> 32);
	emu_ioapic_mmio(vm, 0x10, &v, 4, 1);
}

static uint64_t rte_get(unsigned int pin)
{
	uint32_t sel = 0x10 + 2 * pin, lo = 0;

	emu_ioapic_mmio(vm, 0, &sel, 4, 1);
	emu_ioapic_mmio(vm, 0x10, &lo, 4, 0);
	return lo;
}

/* a remappable-format entry for IRTE @index, with @vector in the entry as Linux sets it */
static uint64_t rte_remap(unsigned int index, int vector, int level)
{
	return (uint64_t)vector | (uint64_t)(index >> 15) << 11 | (uint64_t)level << 15 |
	       1ull << 48 | (uint64_t)(index & 0x7fff) << 49;
}

static void pulse(void)
{
	m.accel->irq_line(&m, PIN, 1);
	m.accel->irq_line(&m, PIN, 0);
}

int main(void)
{
	struct cabin_err *err = NULL;

	ram = emu_test_machine(&m, vcpus, 2, 1 << 20, &vm);
	if (!ram)
		return 77;
	tap_plan(11);
	for (unsigned int i = 0; i < 2; i++) {
		cpu[i] = emu_cpu_new(&m, vm, i);
		cpu[i]->exit = &ex[i];
		vcpus[i].accel = cpu[i];
		cpu[i]->lapic.svr = 0x1ff;
	}
	if (hw_vtd_attach(&m, 1, &err) < 0) {
		fprintf(stderr, "%s\n", cabin_err_msg(err));
		return 1;
	}
	/* IRTE 5: vector 0x71 to APIC 1, edge; IRTE 0x8001: vector 0x72 to APIC 0, level */
	w64(IRT + 5 * 16, 1 | 0x71 << 16 | (uint64_t)(1 << 8) << 32);
	w64(IRT + 0x8001ull * 16, 1 | 1 << 4 | 0x72 << 16);
	vtd_wr(VTD_IRTA, IRT | 0xf, 8); /* 65536 entries */
	vtd_wr(VTD_GCMD, VTD_GCMD_SIRTP, 4);
	vtd_wr(VTD_GCMD, VTD_GCMD_SIRTP | VTD_GCMD_IRE, 4);
	tap_ok(vtd_rd(VTD_GSTS, 4) & VTD_GCMD_IRE, "interrupt remapping on");

	rte(PIN, rte_remap(5, 0x30, 0));
	pulse();
	tap_ok(irr(cpu[1], 0x71) && !irr(cpu[0], 0x71) && !irr(cpu[1], 0x30),
	       "a remappable IOAPIC entry delivers the IRTE's vector to the IRTE's APIC");
	clear_irr();
	rte(PIN, rte_remap(0x8001, 0x72, 1));
	m.accel->irq_line(&m, PIN, 1);
	tap_ok(irr(cpu[0], 0x72) && ((cpu[0]->lapic.tmr[0x72 >> 5] >> (0x72 & 31)) & 1),
	       "index bit 15 from RTE bit 11; level-triggered (TMR set)");
	tap_ok(rte_get(PIN) & (1u << 14), "remote IRR waits for the EOI");
	m.accel->irq_line(&m, PIN, 0);
	emu_ioapic_eoi(vm, 0x72);
	clear_irr();

	rte(PIN, rte_remap(6, 0x73, 1)); /* IRTE 6 is not present */
	m.accel->irq_line(&m, PIN, 1);
	tap_ok(!irr(cpu[0], 0x73) && !irr(cpu[1], 0x73) && !(rte_get(PIN) & (1u << 14)),
	       "a blocked request: no interrupt, remote IRR left clear");
	tap_ok(((vtd_rd(VTD_FRCD + 8, 8) >> 32) & 0xff) == VTD_FR_IR_NOT_PRESENT &&
		       (vtd_rd(VTD_FRCD, 8) >> 48) == 6,
	       "fault reason 0x22 for index 6");
	m.accel->irq_line(&m, PIN, 0);
	vtd_wr(VTD_FRCD + 12, 0x80000000u, 4);

	/* MSIs: remappable through IRTE 5, with SHV and a subhandle, and compatibility */
	tap_ok(machine_msi(&m, 0x10, 0xfee00000ull | 5 << 5 | 1 << 4, 0) == 0 && irr(cpu[1], 0x71),
	       "an MSI through IRTE 5");
	clear_irr();
	tap_ok(machine_msi(&m, 0x10, 0xfee00000ull | 2 << 5 | 1 << 4 | 1 << 3, 3) == 0 &&
		       irr(cpu[1], 0x71),
	       "handle 2 + subhandle 3 (SHV) is IRTE 5");
	clear_irr();
	tap_ok(machine_msi(&m, 0x10, 0xfee01000ull, 0x44) == -EPERM && !irr(cpu[1], 0x44),
	       "a compatibility-format MSI is blocked without CFI");
	vtd_wr(VTD_GCMD, VTD_GCMD_IRE | VTD_GCMD_CFI, 4);
	tap_ok(machine_msi(&m, 0x10, 0xfee01000ull, 0x44) == 0 && irr(cpu[1], 0x44),
	       "...and delivered as it is with CFI");
	clear_irr();
	vtd_wr(VTD_GCMD, 0, 4);
	rte(PIN, 0x35); /* IR off: the entry's own vector and destination (APIC 0) */
	pulse();
	tap_ok(irr(cpu[0], 0x35), "with remapping off, a compatibility entry works as before");

	machine_devs_fini(&m);
	for (unsigned int i = 0; i < 2; i++)
		emu_cpu_free(cpu[i]);
	emu_vm_free(vm);
	vm_mem_fini(&m.mem);
	return tap_failed ? 1 : 0;
}
