/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Intel MultiProcessor Specification 1.4 table: how a guest without ACPI
 * (Firecracker-style, `acpi=off` or no ACPI tables at all) learns its CPUs,
 * the ISA bus and the IOAPIC routing. Linux scans the last KiB of base memory
 * for the floating pointer, so everything lives at X86_EBDA_START, which the
 * e820 map leaves out of RAM.
 */
#include <errno.h>
#include <string.h>

#include "lib/endian.h"
#include "lib/error.h"
#include "vm/machine.h"
#include "vm/x86/boot.h"

#define MP_IRQS 24 /* every IOAPIC pin: virtio-mmio uses GSIs 5-22 */
#define MP_APIC_VERSION 0x14
#define MP_IOAPIC_VERSION 0x11

int x86_mptable_write(struct vm_mem *mem, unsigned int nr_cpus, struct cabin_err **err)
{
	size_t size = 16 + 44 + nr_cpus * 20 + 8 + 8 + MP_IRQS * 8 + 2 * 8;
	uint8_t *base = vm_mem_ptr(mem, X86_EBDA_START, 0x400);
	uint8_t *fp, *hdr, *p;
	uint8_t ioapic_id = (uint8_t)nr_cpus;
	uint16_t entries = 0;

	if (!nr_cpus || nr_cpus > 254 || size > 0x400 || !base)
		return cabin_err_make(err, EINVAL, "MP table for `%u` CPUs does not fit", nr_cpus);
	memset(base, 0, 0x400);

	/* Floating pointer structure (16 bytes). */
	fp = base;
	memcpy(fp, "_MP_", 4);
	put_le32(fp + 4, X86_EBDA_START + 16);
	fp[8] = 1; /* length in 16-byte units */
	fp[9] = 4; /* spec revision 1.4 */
	fp[10] = byte_checksum(fp, 16);

	/* Configuration table header (44 bytes), then the entries. */
	hdr = base + 16;
	memcpy(hdr, "PCMP", 4);
	hdr[6] = 4;
	memcpy(hdr + 8, "CABIN   ", 8);
	memcpy(hdr + 16, "000000000000", 12);
	put_le32(hdr + 36, X86_LAPIC_ADDR);
	p = hdr + 44;

	for (unsigned int i = 0; i < nr_cpus; i++, p += 20, entries++) {
		p[0] = 0; /* processor */
		p[1] = (uint8_t)i;
		p[2] = MP_APIC_VERSION;
		p[3] = 0x1 | (i == 0 ? 0x2 : 0); /* enabled, BSP */
		put_le32(p + 4, 0x600);		 /* family 6 signature */
		put_le32(p + 8, 0x201);		 /* FPU, APIC */
	}
	p[0] = 1; /* bus 0: ISA */
	p[1] = 0;
	memcpy(p + 2, "ISA   ", 6);
	p += 8, entries++;
	p[0] = 2; /* IOAPIC */
	p[1] = ioapic_id;
	p[2] = MP_IOAPIC_VERSION;
	p[3] = 1;
	put_le32(p + 4, X86_IOAPIC_ADDR);
	p += 8, entries++;
	for (unsigned int irq = 0; irq < MP_IRQS; irq++, p += 8, entries++) {
		/* I/O interrupt: IRQ n of bus 0 -> IOAPIC pin n, conforming polarity/trigger */
		p[0] = 3;
		p[1] = 0; /* INT */
		put_le16(p + 2, 0);
		p[4] = 0;
		p[5] = (uint8_t)irq;
		p[6] = ioapic_id;
		p[7] = (uint8_t)irq;
	}
	/* Local interrupts: LINT0 = ExtINT from the PIC, LINT1 = NMI, on every LAPIC. */
	p[0] = 4, p[1] = 3, p[4] = 0, p[5] = 0, p[6] = 0xff, p[7] = 0;
	p += 8, entries++;
	p[0] = 4, p[1] = 1, p[4] = 0, p[5] = 0, p[6] = 0xff, p[7] = 1;
	p += 8, entries++;

	put_le16(hdr + 4, (uint16_t)(p - hdr)); /* base table length */
	put_le16(hdr + 34, entries);
	hdr[7] = byte_checksum(hdr, (size_t)(p - hdr));
	return 0;
}
