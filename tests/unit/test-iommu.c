/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PCI host, QEMU's edu device and the VT-d unit with no CPU: the test plays the
 * guest, through the same bus_access() calls a vCPU's port I/O and MMIO make, and
 * builds root, context, page and interrupt remapping tables in guest RAM.
 */
#include <stdlib.h>
#include <string.h>

#include "hw/edu.h"
#include "hw/intel-iommu.h"
#include "hw/pci.h"
#include "lib/error.h"
#include "unit/tap.h"
#include "vm/machine.h"

#define RAM (16ull << 20)
#define EDU_DEVFN 0x08 /* slot 1 */
#define RT 0x100000ull /* root table */
#define CT 0x101000ull /* context table of bus 0 */
#define L3 0x102000ull
#define L2 0x103000ull
#define L1 0x104000ull
#define IRT 0x105000ull
#define IQ 0x106000ull
#define WAITST 0x107000ull

static struct machine M;
static uint64_t edu_bar;

static struct {
	unsigned int gsi;
	int level, calls;
} irq;

static struct {
	uint64_t addr;
	uint32_t data;
	int calls;
} msi;

static int fake_irq_line(struct machine *m, unsigned int gsi, int level)
{
	irq.gsi = gsi;
	irq.level = level;
	irq.calls++;
	return 0;
}

static int fake_msi(struct machine *m, uint64_t addr, uint32_t data)
{
	msi.addr = addr;
	msi.data = data;
	msi.calls++;
	return 0;
}

static const struct accel_ops fake_accel = {
	.name = "fake",
	.irq_line = fake_irq_line,
	.msi = fake_msi,
};

static uint32_t cfg_rd(unsigned int devfn, unsigned int reg, unsigned int len)
{
	uint32_t a = 0x80000000u | devfn << 8 | reg, v = 0;

	bus_access(&M.bus, BUS_PIO, 0xcf8, &a, 4, 1);
	bus_access(&M.bus, BUS_PIO, 0xcfc + (reg & 3), &v, len, 0);
	return len == 4 ? v : v & ((1u << (8 * len)) - 1);
}

static void cfg_wr(unsigned int devfn, unsigned int reg, uint32_t v, unsigned int len)
{
	uint32_t a = 0x80000000u | devfn << 8 | reg;

	bus_access(&M.bus, BUS_PIO, 0xcf8, &a, 4, 1);
	bus_access(&M.bus, BUS_PIO, 0xcfc + (reg & 3), &v, len, 1);
}

static uint64_t rd(uint64_t addr, unsigned int len)
{
	uint64_t v = 0;

	bus_access(&M.bus, BUS_MMIO, addr, &v, len, 0);
	return len == 8 ? v : v & ((1ull << (8 * len)) - 1);
}

static void wr(uint64_t addr, uint64_t v, unsigned int len)
{
	bus_access(&M.bus, BUS_MMIO, addr, &v, len, 1);
}

static void *ram(uint64_t gpa)
{
	void *p = vm_mem_ptr(&M.mem, gpa, 8);

	if (!p)
		abort();
	return p;
}

static void put64(uint64_t gpa, uint64_t v)
{
	memcpy(ram(gpa), &v, 8);
}

static uint32_t get32(uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, ram(gpa), 4);
	return v;
}

/* edu: DMA @n bytes between bus address @addr and the device buffer at 0x40000. */
static void edu_dma(uint64_t addr, uint64_t n, int to_ram)
{
	wr(edu_bar + 0x80, to_ram ? 0x40000 : addr, 8);
	wr(edu_bar + 0x88, to_ram ? addr : 0x40000, 8);
	wr(edu_bar + 0x90, n, 8);
	wr(edu_bar + 0x98, 1 | (to_ram ? 2 : 0), 4);
}

static void vtd_cmd(uint32_t bit)
{
	wr(HW_VTD_BASE + VTD_GCMD, rd(HW_VTD_BASE + VTD_GSTS, 4) | bit, 4);
}

static uint64_t frcd_hi(void)
{
	return rd(HW_VTD_BASE + VTD_FRCD + 8, 8);
}

/* Clear the fault record and FSTS, as a driver does after reading them. */
static void fault_clear(void)
{
	wr(HW_VTD_BASE + VTD_FRCD + 12, 0x80000000u, 4);
	wr(HW_VTD_BASE + VTD_FSTS, 0xffffffffu, 4);
}

static void test_pci(void)
{
	uint32_t bar;

	tap_ok(cfg_rd(0, 0, 4) == 0x0d578086 && cfg_rd(0, 0x0a, 2) == 0x0600,
	       "host bridge at 00:00.0, class 0600");
	tap_ok(cfg_rd(EDU_DEVFN, 0, 2) == 0x1234 && cfg_rd(EDU_DEVFN, 2, 2) == 0x11e8,
	       "edu at 00:01.0: 1234:11e8 (the word at register 2 through 0xcf8 | 2)");
	tap_ok(cfg_rd(0x10, 0, 4) == 0xffffffffu && cfg_rd(EDU_DEVFN | 1, 0, 4) == 0xffffffffu,
	       "an empty slot and function 1 read as all ones");
	tap_ok(cfg_rd(EDU_DEVFN, 0x09, 1) == 0 && cfg_rd(EDU_DEVFN, 0x0a, 2) == 0x00ff &&
		       cfg_rd(EDU_DEVFN, 0x08, 1) == 0x10,
	       "edu: class 00ff, revision 0x10");
	tap_ok(cfg_rd(EDU_DEVFN, 0x3c, 1) == MACHINE_PCI_INTX_GSI &&
		       cfg_rd(EDU_DEVFN, 0x3d, 1) == 1,
	       "edu: INTA#, interrupt line %d", MACHINE_PCI_INTX_GSI);
	tap_ok(cfg_rd(EDU_DEVFN, 0x34, 1) == 0x40 && cfg_rd(EDU_DEVFN, 0x40, 1) == 5 &&
		       (cfg_rd(EDU_DEVFN, 0x42, 2) & 0x80),
	       "edu: 64-bit MSI capability at 0x40");
	bar = cfg_rd(EDU_DEVFN, 0x10, 4);
	edu_bar = bar & ~0xfu;
	tap_ok(edu_bar >= HW_PCI_MMIO_BASE &&
		       edu_bar + (1 << 20) <= HW_PCI_MMIO_BASE + HW_PCI_MMIO_SIZE &&
		       (cfg_rd(EDU_DEVFN, 4, 2) & 2),
	       "edu: BAR 0 placed at 0x%llx, memory decoding on", (unsigned long long)edu_bar);
	cfg_wr(EDU_DEVFN, 0x10, 0xffffffffu, 4);
	tap_ok(cfg_rd(EDU_DEVFN, 0x10, 4) == 0xfff00000u, "BAR sizing reads back a 1 MiB mask");
	cfg_wr(EDU_DEVFN, 0x10, bar, 4);
	tap_ok(cfg_rd(EDU_DEVFN, 0, 2) == 0x1234 && rd(edu_bar, 4) == 0x010000ed,
	       "BAR restored: the edu identification register answers");
	tap_ok(cfg_rd(EDU_DEVFN, 0xfe, 4) == 0xffffffffu,
	       "a dword read past the header's end is refused");
	cfg_wr(EDU_DEVFN, 0, 0, 4);
	tap_ok(cfg_rd(EDU_DEVFN, 0, 4) == 0x11e81234, "the IDs are read-only");
	cfg_wr(EDU_DEVFN, 4, 0, 2);
	tap_ok(rd(edu_bar, 4) == 0xffffffffu, "memory decoding off: the BAR does not answer");
	cfg_wr(EDU_DEVFN, 4, 2, 2);
}

static void test_edu(void)
{
	wr(edu_bar + 4, 0x12345678, 4);
	tap_ok(rd(edu_bar + 4, 4) == 0xedcba987, "liveness reads the complement");
	wr(edu_bar + 8, 10, 4);
	tap_ok(rd(edu_bar + 8, 4) == 3628800 && !(rd(edu_bar + 0x20, 4) & 1),
	       "factorial of 10, not busy");
	tap_ok(rd(edu_bar + 4, 2) == 0xffff, "a 2-byte access reads all ones");

	memcpy(ram(0x300000), "cabin-dma", 9);
	edu_dma(0x300000, 9, 0);
	edu_dma(0x300100, 9, 1);
	tap_ok(memcmp(ram(0x300100), "cabin", 5) != 0, "no DMA without bus mastering");
	cfg_wr(EDU_DEVFN, 4, 6, 2); /* memory + bus master */
	edu_dma(0x300000, 9, 0);
	edu_dma(0x300100, 9, 1);
	tap_ok(memcmp(ram(0x300100), "cabin-dma", 9) == 0 && !(rd(edu_bar + 0x98, 4) & 1),
	       "DMA to the buffer and back, done at once");
	memset(ram(0x300200), 0, 8);
	wr(edu_bar + 0x80, 0x40000 + 4000, 8);
	wr(edu_bar + 0x88, 0x300200, 8);
	wr(edu_bar + 0x90, 200, 8);
	wr(edu_bar + 0x98, 3, 4);
	tap_ok(get32(0x300200) == 0 && !(rd(edu_bar + 0x98, 4) & 1),
	       "a transfer past the end of the device buffer is refused");
	edu_dma(RAM - 4, 9, 1);
	tap_ok(get32(RAM - 8) == 0, "a DMA running past the end of RAM writes nothing");

	irq.calls = 0;
	wr(edu_bar + 0x60, 0x10, 4);
	tap_ok(irq.calls == 1 && irq.gsi == MACHINE_PCI_INTX_GSI && irq.level == 1 &&
		       rd(edu_bar + 0x24, 4) == 0x10,
	       "interrupt raise asserts INTx on GSI %d", MACHINE_PCI_INTX_GSI);
	wr(edu_bar + 0x64, 0x10, 4);
	tap_ok(irq.level == 0 && rd(edu_bar + 0x24, 4) == 0, "acknowledge drops it");
}

static void test_vtd_dma(void)
{
	uint64_t hi;

	tap_ok(rd(HW_VTD_BASE + VTD_VER, 4) == 0x10 &&
		       (rd(HW_VTD_BASE + VTD_CAP, 8) & (0x6ull << 8)) == (0x6ull << 8) &&
		       (rd(HW_VTD_BASE + VTD_ECAP, 8) & 0xa) == 0xa,
	       "VT-d 1.0: 39/48-bit tables, QI and IR offered");
	/* IOVA 0x5000 -> 0x200000 read/write, 0x6000 -> 0x201000 read-only, 3 levels */
	memset(ram(RT), 0, 0x6000);
	put64(RT, CT | 1);
	put64(CT + EDU_DEVFN * 16, L3 | 1);
	put64(CT + EDU_DEVFN * 16 + 8, 1 | 0x08 << 8); /* AW 39 bits, domain 8 */
	put64(L3, L2 | 3);
	put64(L2, L1 | 3);
	put64(L1 + 5 * 8, 0x200000 | 3);
	put64(L1 + 6 * 8, 0x201000 | 1);
	wr(HW_VTD_BASE + VTD_RTADDR, RT, 8);
	vtd_cmd(VTD_GCMD_SRTP);
	vtd_cmd(VTD_GCMD_TE);
	tap_ok((rd(HW_VTD_BASE + VTD_GSTS, 4) & (VTD_GCMD_TE | VTD_GCMD_SRTP)) ==
		       (VTD_GCMD_TE | VTD_GCMD_SRTP),
	       "root table latched, translation enabled");

	memcpy(ram(0x200000), "remapped", 8);
	memset(ram(0x5000), 0, 16);
	edu_dma(0x5000, 8, 0);
	edu_dma(0x5008, 8, 1);
	tap_ok(memcmp(ram(0x200008), "remapped", 8) == 0 && get32(0x5008) == 0,
	       "DMA at IOVA 0x5000 reaches 0x200000, not RAM at 0x5000");
	tap_ok(rd(HW_VTD_BASE + VTD_FSTS, 4) == 0, "no fault so far");

	/* large pages: IOVA 4 MiB -> 6 MiB (2 MiB page), IOVA 1 GiB -> 0 (1 GiB page) */
	put64(L2 + 2 * 8, 0x600000 | 0x80 | 3);
	put64(L3 + 8, 0x80 | 3);
	memcpy(ram(0x601234), "large-2M", 8);
	edu_dma(0x401234, 8, 0);
	/* (beyond edu's 28-bit DMA mask: a DMA of the same requester, without the device) */
	{
		char b[8];

		memcpy(ram(0x400), "large-1G", 8);
		tap_ok(machine_dma_rw(&M, EDU_DEVFN, 0x40000400, b, 8, 0) == 0 &&
			       memcmp(b, "large-1G", 8) == 0,
		       "a 1 GiB page translates with its offset");
	}
	edu_dma(0x300400, 8, 1);
	tap_ok(memcmp(ram(0x300400), "large-2M", 8) != 0, "(IOVA 0x300400 is not mapped)");
	fault_clear();
	edu_dma(0x5400, 8, 1);
	tap_ok(memcmp(ram(0x200400), "large-2M", 8) == 0,
	       "a 2 MiB page translates with its offset");
	put64(L1 + 7 * 8, 0x202000 | 0x80 | 3); /* bit 7 of a 4 KiB entry is ignored */
	memcpy(ram(0x202010), "4k-bit7!", 8);
	edu_dma(0x7010, 8, 0);
	edu_dma(0x5100, 8, 1);
	tap_ok(memcmp(ram(0x200100), "4k-bit7!", 8) == 0 && rd(HW_VTD_BASE + VTD_FSTS, 4) == 0,
	       "bit 7 of a 4 KiB entry is ignored, not a reserved-bit fault");
	put64(L1 + 7 * 8, 0);

	memset(ram(0x201000), 0x11, 8);
	edu_dma(0x6000, 4, 1);
	hi = frcd_hi();
	tap_ok(get32(0x201000) == 0x11111111, "a write to a read-only page is blocked");
	tap_ok((rd(HW_VTD_BASE + VTD_FSTS, 4) & VTD_FSTS_PPF) && (hi >> 63) &&
		       ((hi >> 32) & 0xff) == VTD_FR_WRITE && (hi & 0xffff) == EDU_DEVFN &&
		       !(hi & (1ull << 62)) && rd(HW_VTD_BASE + VTD_FRCD, 8) == 0x6000,
	       "fault recorded: reason 5, SID 00:01.0, a write, page 0x6000");
	edu_dma(0x7000, 4, 0);
	tap_ok(rd(HW_VTD_BASE + VTD_FSTS, 4) & VTD_FSTS_PFO,
	       "a second fault overflows the one record");
	fault_clear();
	tap_ok(rd(HW_VTD_BASE + VTD_FSTS, 4) == 0 && !(frcd_hi() >> 63), "cleared by writing ones");

	edu_dma(0x7000, 4, 0);
	tap_ok(((frcd_hi() >> 32) & 0xff) == VTD_FR_READ && (frcd_hi() & (1ull << 62)),
	       "a read of an unmapped IOVA: reason 6, a read");
	fault_clear();

	/* tables that point outside guest RAM fault; the host is never touched */
	put64(L2, 0x7fffffff000ull | 3);
	edu_dma(0x5000, 4, 0);
	tap_ok(((frcd_hi() >> 32) & 0xff) == VTD_FR_PTE_ACCESS,
	       "a page table outside RAM: reason 7");
	fault_clear();
	put64(L2, L1 | 3);
	put64(L1 + 5 * 8, (RAM + 0x1000) | 3);
	edu_dma(0x5000, 4, 1);
	tap_ok(rd(HW_VTD_BASE + VTD_FSTS, 4) == 0,
	       "a page mapped outside RAM is no VT-d fault (the DMA just fails)");
	put64(L1 + 5 * 8, 0x200000 | 3);
	put64(CT + EDU_DEVFN * 16, 0);
	edu_dma(0x5000, 4, 0);
	tap_ok(((frcd_hi() >> 32) & 0xff) == VTD_FR_CTX_NOT_PRESENT,
	       "context entry not present: reason 2");
	fault_clear();
	put64(CT + EDU_DEVFN * 16, L3 | 1 | 8); /* pass-through */
	memcpy(ram(0x5000), "identity", 8);
	edu_dma(0x5000, 8, 0);
	edu_dma(0x5010, 8, 1);
	tap_ok(memcmp(ram(0x5010), "identity", 8) == 0, "a pass-through context maps 1:1");
	put64(CT + EDU_DEVFN * 16, L3 | 1 | 2); /* FPD */
	put64(CT + EDU_DEVFN * 16 + 8, 7);	/* a reserved AW */
	edu_dma(0x5000, 4, 0);
	tap_ok(rd(HW_VTD_BASE + VTD_FSTS, 4) == 0, "fault processing disable: nothing recorded");
	put64(CT + EDU_DEVFN * 16, L3 | 1);
	edu_dma(0x5000, 4, 0);
	tap_ok(((frcd_hi() >> 32) & 0xff) == VTD_FR_CTX_INVALID, "an unsupported AW: reason 3");
	fault_clear();
	put64(CT + EDU_DEVFN * 16 + 8, 1 | 0x08 << 8);

	/* a fault event is an MSI to FEADDR/FEDATA once FECTL.IM is clear */
	wr(HW_VTD_BASE + VTD_FEDATA, 0x55, 4);
	wr(HW_VTD_BASE + VTD_FEADDR, 0xfee00000, 4);
	msi.calls = 0;
	wr(HW_VTD_BASE + VTD_FECTL, 0, 4);
	edu_dma(0x7000, 4, 0);
	tap_ok(msi.calls == 1 && msi.addr == 0xfee00000 && msi.data == 0x55,
	       "the fault event interrupt is sent");
	wr(HW_VTD_BASE + VTD_FECTL, 1u << 31, 4);
	edu_dma(0x7000, 4, 0);
	tap_ok(msi.calls == 1 && (rd(HW_VTD_BASE + VTD_FECTL, 4) >> 30) == 2 &&
		       (rd(HW_VTD_BASE + VTD_FSTS, 4) & VTD_FSTS_PFO),
	       "a masked event waits for the record to be freed: overflow only, not pending");
	fault_clear();
	edu_dma(0x7000, 4, 0);
	tap_ok(msi.calls == 1 && (rd(HW_VTD_BASE + VTD_FECTL, 4) >> 30) == 3,
	       "masked: the event is pending (IP)");
	fault_clear();
	tap_ok((rd(HW_VTD_BASE + VTD_FECTL, 4) >> 30) == 2, "clearing the faults clears IP");
}

static void test_vtd_ir(void)
{
	memset(ram(IRT), 0, 0x1000);
	/* IRTE 3: present, vector 0x66, APIC 1, SID 00:01.0 verified */
	put64(IRT + 3 * 16, 1 | 0x66 << 16 | (uint64_t)(1 << 8) << 32);
	put64(IRT + 3 * 16 + 8, EDU_DEVFN | 1 << 18);
	wr(HW_VTD_BASE + VTD_IRTA, IRT | 7, 8); /* 256 entries */
	vtd_cmd(VTD_GCMD_SIRTP);
	vtd_cmd(VTD_GCMD_IRE);
	tap_ok((rd(HW_VTD_BASE + VTD_GSTS, 4) & (VTD_GCMD_IRE | VTD_GCMD_SIRTP)) ==
		       (VTD_GCMD_IRE | VTD_GCMD_SIRTP),
	       "interrupt remapping table latched and enabled");
	cfg_wr(EDU_DEVFN, 0x44, 0xfee00000u | 3 << 5 | 1 << 4, 4);
	cfg_wr(EDU_DEVFN, 0x48, 0, 4);
	cfg_wr(EDU_DEVFN, 0x4c, 0, 2);
	cfg_wr(EDU_DEVFN, 0x42, 1, 2);
	msi.calls = 0;
	irq.calls = 0;
	wr(edu_bar + 0x60, 1, 4);
	tap_ok(msi.calls == 1 && msi.addr == 0xfee01000 && msi.data == 0x66 && irq.calls == 0,
	       "edu's MSI through IRTE 3: vector 0x66 to APIC 1, no INTx");
	wr(edu_bar + 0x64, 1, 4);

	put64(IRT + 3 * 16 + 8, 0x10 | 1 << 18);
	msi.calls = 0;
	wr(edu_bar + 0x60, 1, 4);
	tap_ok(msi.calls == 0 && ((frcd_hi() >> 32) & 0xff) == VTD_FR_IR_SID &&
		       (rd(HW_VTD_BASE + VTD_FRCD, 8) >> 48) == 3,
	       "a source-ID mismatch is blocked: reason 0x26, index 3");
	wr(edu_bar + 0x64, 1, 4);
	fault_clear();
	cfg_wr(EDU_DEVFN, 0x44, 0xfee00000u | 0x7fff << 5 | 1 << 4, 4);
	wr(edu_bar + 0x60, 1, 4);
	tap_ok(msi.calls == 0 && ((frcd_hi() >> 32) & 0xff) == VTD_FR_IR_INDEX,
	       "an index past the table: reason 0x21");
	wr(edu_bar + 0x64, 1, 4);
	fault_clear();
	cfg_wr(EDU_DEVFN, 0x44, 0xfee00000u, 4);
	wr(edu_bar + 0x60, 1, 4);
	tap_ok(msi.calls == 0 && ((frcd_hi() >> 32) & 0xff) == VTD_FR_IR_COMPAT,
	       "compatibility format blocked without CFI: reason 0x25");
	wr(edu_bar + 0x64, 1, 4);
	fault_clear();
	vtd_cmd(VTD_GCMD_CFI);
	wr(edu_bar + 0x60, 1, 4);
	tap_ok(msi.calls == 1 && msi.addr == 0xfee00000u, "...and passed with CFI set");
	wr(edu_bar + 0x64, 1, 4);
	cfg_wr(EDU_DEVFN, 0x42, 0, 2);
}

static void test_vtd_qi(void)
{
	memset(ram(IQ), 0, 0x1000);
	put64(WAITST, 0);
	wr(HW_VTD_BASE + VTD_IQA, IQ, 8);
	vtd_cmd(VTD_GCMD_QIE);
	put64(IQ, 2 | 1ull << 4 /* global IOTLB */);
	put64(IQ + 16, 5 | 1u << 5 | 0xabcdull << 32);
	put64(IQ + 24, WAITST);
	wr(HW_VTD_BASE + VTD_IQT, 2 << 4, 8);
	tap_ok(get32(WAITST) == 0xabcd && rd(HW_VTD_BASE + VTD_IQH, 8) == 2 << 4,
	       "queued invalidation: the wait descriptor writes its status");
	put64(IQ + 32, 0xf);
	wr(HW_VTD_BASE + VTD_IQT, 3 << 4, 8);
	tap_ok((rd(HW_VTD_BASE + VTD_FSTS, 4) & VTD_FSTS_IQE) &&
		       rd(HW_VTD_BASE + VTD_IQH, 8) == 2 << 4,
	       "a bad descriptor sets IQE and stops the head");
	wr(HW_VTD_BASE + VTD_CCMD, 1ull << 63 | 1ull << 61, 8);
	tap_ok(rd(HW_VTD_BASE + VTD_CCMD, 8) == (1ull << 61 | 1ull << 59),
	       "context invalidation completes at once, global granularity");
	wr(HW_VTD_BASE + VTD_IOTLB, 1ull << 63 | 1ull << 60, 8);
	tap_ok(rd(HW_VTD_BASE + VTD_IOTLB, 8) == (1ull << 60 | 1ull << 57),
	       "IOTLB invalidation completes at once");
	tap_ok(rd(HW_VTD_BASE + 0x300, 4) == 0xffffffffu &&
		       rd(HW_VTD_BASE + VTD_CAP + 2, 4) == 0xffffffffu,
	       "unaligned and unknown registers read as all ones");
}

int main(void)
{
	struct cabin_err *err = NULL;

	tap_plan(59);
	memset(&M, 0, sizeof(M));
	pthread_mutex_init(&M.lock, NULL);
	M.accel = &fake_accel;
	if (vm_mem_init(&M.mem, RAM, 0, &err) < 0 || hw_pci_attach(&M, &err) < 0 ||
	    hw_vtd_attach(&M, 1, &err) < 0 || hw_edu_attach(&M, &err) < 0) {
		fprintf(stderr, "%s\n", cabin_err_msg(err));
		return 1;
	}
	test_pci();
	test_edu();
	test_vtd_dma();
	test_vtd_ir();
	test_vtd_qi();
	machine_devs_fini(&M);
	tap_ok(M.iommu == NULL && M.bus.nr[BUS_MMIO] == 0 && M.bus.nr[BUS_PIO] == 0,
	       "teardown releases the bus ranges and the IOMMU");

	/* a unit without interrupt remapping (what KVM's in-kernel IOAPIC gets) */
	if (hw_vtd_attach(&M, 0, &err) < 0)
		return 1;
	tap_ok(!(rd(HW_VTD_BASE + VTD_ECAP, 8) & 8) && M.iommu_intremap == 0,
	       "without interrupt remapping: ECAP.IR clear");
	wr(HW_VTD_BASE + VTD_IRTA, IRT | 7, 8);
	vtd_cmd(VTD_GCMD_SIRTP);
	wr(HW_VTD_BASE + VTD_GCMD, VTD_GCMD_IRE, 4);
	tap_ok(!(rd(HW_VTD_BASE + VTD_GSTS, 4) & (VTD_GCMD_IRE | VTD_GCMD_SIRTP)),
	       "...GCMD.IRE and SIRTP do nothing");
	msi.calls = 0;
	tap_ok(machine_msi(&M, EDU_DEVFN, 0xfee01000, 0x31) == 0 && msi.calls == 1 &&
		       msi.addr == 0xfee01000 && msi.data == 0x31,
	       "...and MSIs pass unchanged");
	machine_devs_fini(&M);
	vm_mem_fini(&M.mem);
	return tap_failed ? 1 : 0;
}
