/*
 * iommu: QEMU's edu PCI device behind the VT-d unit (`vm run --device edu --iommu
 * intel`), driven from a 64-bit guest as kvm-unit-tests' intel_iommu does: finds the
 * device through configuration mechanism #1, places its BAR, builds root, context and
 * second-level tables mapping IOVA 0 to a buffer page, turns translation on, and has
 * the edu copy through IOVA 0; an unmapped IOVA must fault (reason 6 recorded, no
 * data). Then interrupt remapping: the edu's INTx through an IOAPIC entry in
 * remappable format, and its MSI in remappable format, each arriving with the vector
 * of its IRTE. Without a VT-d unit (VER reads all ones) only the plain DMA, INTx and
 * MSI are checked; with a unit that offers no interrupt remapping (ECAP.IR clear, as
 * under KVM) the DMA is remapped and the interrupts are plain.
 */
#include "guest.h"
#include "idt.h"

#define PDPT 0x2000  /* entry64.S's */
#define PD_HI 0x8000 /* 2 MiB pages for 0xc0000000-0xffffffff */
#define ROOT 0x100000
#define CTX 0x101000
#define SL3 0x102000
#define SL2 0x103000
#define SL1 0x104000
#define IRT 0x105000
#define BUF 0x110000 /* what IOVA 0 maps to */
#define PLAIN 0x120000

#define EDU 0xfe000000u
#define VTD 0xfed90000u
#define IOAPIC 0xfec00000u
#define LAPIC 0xfee00000u
#define INTX_GSI 23
#define VEC_MSI 0x21
#define VEC_INTX 0x22

static volatile unsigned int got[IDT_VECTORS];
static unsigned int devfn;

/* The address goes through an asm so that the compiler takes low ones (IOVA 8) as RAM. */
static inline uint64_t rd64(uintptr_t a)
{
	__asm__("" : "+r"(a));
	return *(volatile uint64_t *)a;
}
static inline void wr64(uintptr_t a, uint64_t v)
{
	__asm__("" : "+r"(a));
	*(volatile uint64_t *)a = v;
}

void trap(struct trap_frame *f)
{
	if (f->vector != VEC_MSI && f->vector != VEC_INTX) {
		gprintf("unexpected vector %lu err %lx at %lx:%lx\n", f->vector, f->error, f->cs,
			f->ip);
		guest_exit(3);
	}
	got[f->vector]++;
	mmio_write32(EDU + 0x64, mmio_read32(EDU + 0x24)); /* acknowledge: INTx drops */
	mmio_write32(LAPIC + 0xb0, 0);
}

static uint32_t cfg_rd(unsigned int reg)
{
	outl(0xcf8, 0x80000000u | devfn << 8 | reg);
	return inl(0xcfc);
}

static void cfg_wr(unsigned int reg, uint32_t v)
{
	outl(0xcf8, 0x80000000u | devfn << 8 | reg);
	outl(0xcfc, v);
}

static void map_mmio(void)
{
	uint64_t *pdpt = (uint64_t *)PDPT, *pd = (uint64_t *)PD_HI;

	memset(pd, 0, 4096);
	for (unsigned int i = 0x1f0; i < 0x1f8; i++)
		pd[i] = (0xc0000000ull + ((uint64_t)i << 21)) | 0x93; /* P W PCD PS */
	pdpt[3] = PD_HI | 3;
	__asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
}

static void edu_dma(uint64_t addr, unsigned int len, int to_ram)
{
	wr64(EDU + 0x80, to_ram ? 0x40000 : addr);
	wr64(EDU + 0x88, to_ram ? addr : 0x40000);
	wr64(EDU + 0x90, len);
	mmio_write32(EDU + 0x98, 1 | (to_ram ? 2 : 0));
	while (mmio_read32(EDU + 0x98) & 1)
		;
}

static void vtd_cmd(uint32_t bit)
{
	mmio_write32(VTD + 0x18, (mmio_read32(VTD + 0x1c) & 0x96ffffffu) | bit);
	while (!(mmio_read32(VTD + 0x1c) & bit))
		;
}

static void ioapic_rte(unsigned int pin, uint64_t e)
{
	mmio_write32(IOAPIC, 0x11 + 2 * pin);
	mmio_write32(IOAPIC + 0x10, (uint32_t)(e >> 32));
	mmio_write32(IOAPIC, 0x10 + 2 * pin);
	mmio_write32(IOAPIC + 0x10, (uint32_t)e);
}

static int wait_vector(unsigned int v)
{
	for (unsigned long i = 0; i < 100000000ul && !got[v]; i++)
		__asm__ volatile("sti; nop; cli" ::: "memory");
	return got[v] ? 0 : -1;
}

static void set_irte(unsigned int index, unsigned int vector)
{
	wr64(IRT + index * 16, 1 | (uint64_t)vector << 16); /* fixed, physical, APIC 0 */
	wr64(IRT + index * 16 + 8, devfn | 1u << 18);	    /* SID verified */
}

int guest_main(void)
{
	int vtd, ir = 0;

	map_mmio();
	idt_init();
	mmio_write32(LAPIC + 0xf0, 0x1ff);
	for (devfn = 0; devfn < 256; devfn++)
		if (cfg_rd(0) == 0x11e81234u)
			break;
	if (devfn == 256) {
		gprintf("no edu device\n");
		return 1;
	}
	gprintf("edu at 00:%02x.%x, irq pin %u line %u\n", devfn >> 3, devfn & 7,
		(cfg_rd(0x3c) >> 8) & 0xff, cfg_rd(0x3c) & 0xff);
	cfg_wr(0x10, 0xffffffffu);
	gprintf("bar 0 size %x\n", ~(cfg_rd(0x10) & ~0xfu) + 1);
	cfg_wr(0x10, EDU);
	cfg_wr(0x04, 0x6); /* memory, bus master */
	mmio_write32(EDU + 4, 0x5a5a0000u);
	gprintf("id %08x alive %08x\n", mmio_read32(EDU), mmio_read32(EDU + 4));

	vtd = mmio_read32(VTD) == 0x10;
	if (!vtd) {
		memcpy((void *)PLAIN, "plain-dma", 9);
		edu_dma(PLAIN, 9, 0);
		edu_dma(PLAIN + 16, 9, 1);
		gprintf("dma without an iommu: %s\n",
			memcmp((void *)(PLAIN + 16), "plain-dma", 9) ? "bad" : "ok");
	} else {
		memset((void *)ROOT, 0, 0x6000);
		wr64(ROOT, CTX | 1);
		wr64(CTX + devfn * 16, SL3 | 1);
		wr64(CTX + devfn * 16 + 8, 1 | devfn << 8); /* 39-bit, domain = devfn */
		wr64(SL3, SL2 | 3);
		wr64(SL2, SL1 | 3);
		wr64(SL1, BUF | 3);
		wr64(VTD + 0x20, ROOT);
		vtd_cmd(1u << 30); /* SRTP */
		vtd_cmd(1u << 31); /* TE */
		wr64(BUF, 0x1122334455667788ull);
		wr64(8, 0);
		edu_dma(0, 8, 0);
		edu_dma(8, 8, 1);
		gprintf("dma through iova 0: %s\n",
			rd64(BUF + 8) == 0x1122334455667788ull && rd64(8) == 0 ? "ok" : "bad");
		edu_dma(0x3000, 8, 0);
		gprintf("dma from unmapped iova 0x3000: fsts %x reason %x sid %04x addr %lx\n",
			mmio_read32(VTD + 0x34), (mmio_read32(VTD + 0x22c) >> 0) & 0xff,
			mmio_read32(VTD + 0x228) & 0xffff, rd64(VTD + 0x220));
		mmio_write32(VTD + 0x22c, 0x80000000u);
		gprintf("fault cleared: fsts %x\n", mmio_read32(VTD + 0x34));

		ir = (rd64(VTD + 0x10) >> 3) & 1; /* ECAP.IR: not under KVM */
	}
	if (ir) {
		memset((void *)IRT, 0, 4096);
		set_irte(1, VEC_MSI);
		set_irte(2, VEC_INTX);
		wr64(VTD + 0xb8, IRT | 7);
		vtd_cmd(1u << 24); /* SIRTP */
		vtd_cmd(1u << 25); /* IRE */
	}
	/* INTx: edge, through IRTE 2 when remapping (remappable format, index in 63:49) */
	/* (the entry's own vector field must not matter: one the trap handler refuses) */
	ioapic_rte(INTX_GSI, ir ? ((VEC_INTX + 1) | 1ull << 48 | 2ull << 49) : VEC_INTX);
	mmio_write32(EDU + 0x60, 1);
	gprintf("intx %s vector %x\n", ir ? "remapped to" : "on",
		wait_vector(VEC_INTX) ? 0 : VEC_INTX);
	ioapic_rte(INTX_GSI, 1u << 16);
	/* MSI: remappable format, handle 1 (or a plain message to APIC 0) */
	cfg_wr(0x44, ir ? 0xfee00000u | 1 << 5 | 1 << 4 : 0xfee00000u);
	cfg_wr(0x48, 0);
	cfg_wr(0x4c, ir ? 0 : VEC_MSI);
	cfg_wr(0x40, cfg_rd(0x40) | 1u << 16);
	mmio_write32(EDU + 0x60, 1);
	gprintf("msi %s vector %x\n", ir ? "remapped to" : "on",
		wait_vector(VEC_MSI) ? 0 : VEC_MSI);
	return got[VEC_INTX] == 1 && got[VEC_MSI] == 1 ? 0 : 2;
}
