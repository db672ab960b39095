/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_VM_X86_ACPI_H
#define CABIN_VM_X86_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "vm/machine.h"

struct cabin_err;

/*
 * ACPI tables for a Linux guest (ACPI 6.5, hardware-reduced, as QEMU's microvm
 * and Firecracker): RSDP v2 -> XSDT -> {FADT -> DSDT, MADT}. A kernel without
 * CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES (Debian's) finds the virtio-mmio devices
 * only in the DSDT, and one without CONFIG_X86_MPPARSE finds its CPUs and the
 * IOAPIC only in the MADT.
 *
 * The RSDP sits at X86_ACPI_ADDR, in the BIOS area that Linux scans for it
 * (0xe0000-0xfffff, 16-byte aligned), and the tables follow it. The range is
 * left out of the e820 RAM map, so the guest never allocates it, and is used
 * only when a kernel is booted (a raw firmware image may occupy it instead).
 */
#define X86_ACPI_ADDR 0xe0000u
#define X86_ACPI_SIZE 0x10000u

/* A virtio-mmio device for the DSDT: "LNRO0005" with one window and one GSI. */
struct x86_acpi_mmio {
	uint64_t base;
	uint32_t size;
	uint32_t gsi;
};

/* What the tables describe. */
struct x86_acpi_config {
	unsigned int nr_cpus;
	unsigned int nr_mmio;
	struct x86_acpi_mmio mmio[MACHINE_MMIO_SLOTS];
	uint64_t vtd_base; /* a VT-d unit's registers (a DMAR table), or 0 */
	int vtd_intremap;  /* ... which remaps interrupts */
	int pci;	   /* a PCI host bridge (hw/pci.c): Device(PCI0) */
};

/* Offsets of the tables inside the blob that x86_acpi_build() writes. */
struct x86_acpi_layout {
	size_t rsdp, xsdt, fadt, madt, dmar, dsdt; /* dmar: 0 when there is none */
	size_t len;				   /* bytes used */
};

/**
 * x86_acpi_build() - write the RSDP and all tables into @buf, which the guest
 * will see at guest-physical address @gpa (every table pointer is absolute)
 * @buf, @cap: destination and its size
 * @lay: where each table landed; may be NULL
 *
 * With @cfg->vtd_base, a DMAR table names the VT-d unit: interrupt remapping in
 * xAPIC mode (x2APIC opted out) when @cfg->vtd_intremap, every PCI device under
 * it, and the IOAPIC's source ID (bus 0xff, 00.0, as QEMU's q35 has it).
 * Every table gets its length and checksum. The DSDT holds COM1 (PNP0501),
 * the i8042 (PNP0303), the CMOS RTC (PNP0B00), one LNRO0005 device per
 * entry of @cfg->mmio and \_S5. Return: 0, or <0 with @err set (too many CPUs or
 * devices, a GSI the IOAPIC lacks, or @cap too small).
 */
int x86_acpi_build(const struct x86_acpi_config *cfg, uint8_t *buf, size_t cap, uint64_t gpa,
		   struct x86_acpi_layout *lay, struct cabin_err **err);

/**
 * x86_acpi_config_from_machine() - the CPUs of @m and the virtio-mmio slots
 * handed out so far (machine_mmio_slot() allocates them in order).
 */
void x86_acpi_config_from_machine(const struct machine *m, struct x86_acpi_config *cfg);

/**
 * x86_acpi_write() - build @m's tables at X86_ACPI_ADDR in guest memory and
 * attach the power registers the FADT names (hw_acpi_pm_attach())
 * @rsdp: set to the RSDP's guest-physical address, for the zero page's
 *	  acpi_rsdp_addr or the PVH start info's rsdp_paddr
 * Return: 0, or <0 with @err set.
 */
int x86_acpi_write(struct machine *m, uint64_t *rsdp, struct cabin_err **err);

#endif
