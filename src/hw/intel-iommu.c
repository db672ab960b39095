/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An Intel VT-d DMA and interrupt remapping unit (see intel-iommu.h), the one
 * QEMU's q35 machine offers with `-device intel-iommu,intremap=on,eim=off`, at the
 * same address.
 *
 * Nothing is cached: every DMA and every interrupt request walks the guest's
 * tables as they are in RAM at that moment. VT-d lets hardware cache entries until
 * software invalidates them, so a unit that never caches meets the contract, and
 * the invalidation commands (context command, IOTLB register, the queued
 * descriptors) only have to report completion. CAP.CM = 0 for the same reason.
 *
 * Everything the guest hands over is hostile: table pointers, indexes and page
 * table entries are read with vm_mem_read(), which only reaches guest RAM, so an
 * entry pointing outside RAM is a fault of the kind VT-d names for a failed table
 * access, never a host access. A DMA whose translation fails is blocked and
 * recorded in the fault recording register (unless its context entry sets fault
 * processing disable); machine_dma_rw() then copies nothing more. The result of a
 * translation is a guest-physical address, which machine_dma_rw() checks against
 * guest RAM again.
 *
 * Fault events and invalidation-wait interrupts are MSIs the unit itself sends to
 * the address and data the guest programmed; VT-d exempts them from remapping. They
 * are sent after the unit's lock is dropped. Lock order: a device's lock, the PCI
 * bus, the emulator's irqchip, then this unit; nothing is called with this lock held
 * but guest-memory reads and writes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hw/intel-iommu.h"
#include "hw/pci.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "vm/machine.h"

#define VTD_VERSION 0x10 /* 1.0, as QEMU's */
#define CAP_ND 2ull	 /* 256 domains */
#define CAP_SAGAW (0x6ull << 8)
#define CAP_MGAW (47ull << 16)
#define CAP_FRO ((uint64_t)(VTD_FRCD / 16) << 24)
#define CAP_SLLPS (3ull << 34) /* 2 MiB and 1 GiB pages */
#define CAP_PSI (1ull << 39)
#define CAP_MAMV (18ull << 48)
#define CAP_DWD (1ull << 54)
#define CAP_DRD (1ull << 55)
#define VTD_CAP_VALUE                                                                              \
	(CAP_ND | CAP_SAGAW | CAP_MGAW | CAP_FRO | CAP_SLLPS | CAP_PSI | CAP_MAMV | CAP_DWD |      \
	 CAP_DRD)
#define ECAP_C (1ull << 0) /* table walks snoop: RAM is read as the CPU sees it */
#define ECAP_QI (1ull << 1)
#define ECAP_IR (1ull << 3)
#define ECAP_PT (1ull << 6)
#define ECAP_IRO ((uint64_t)(VTD_IVA / 16) << 8)
#define ECAP_MHMV (0xfull << 20)
#define VTD_ECAP_VALUE (ECAP_C | ECAP_QI | ECAP_IR | ECAP_PT | ECAP_IRO | ECAP_MHMV)

#define MGAW 48
#define PAGE_ADDR 0x000ffffffffff000ull
#define FECTL_IM (1u << 31)
#define FECTL_IP (1u << 30)
#define CCMD_ICC (1ull << 63)
#define IOTLB_IVT (1ull << 63)
#define ICS_IWC 1u
#define FRCD_F (1ull << 63) /* in the record's upper quadword */
#define FRCD_T (1ull << 62) /* a read */

struct vtd {
	struct machine *m;
	pthread_mutex_t lock;
	uint8_t regs[VTD_REGS_END];
	uint8_t wmask[VTD_REGS_END];   /* bits a write changes */
	uint8_t w1cmask[VTD_REGS_END]; /* bits a write of 1 clears */
	uint32_t gsts;
	uint64_t rta, irta; /* latched by SRTP and SIRTP */
	int intremap;	    /* ECAP.IR offered */
	unsigned long log_count;
};

/* An MSI to send once the lock is dropped (fault event, invalidation wait). */
struct vtd_event {
	int send;
	uint64_t addr;
	uint32_t data;
};

static uint64_t reg_get(const struct vtd *v, unsigned int off, unsigned int len)
{
	uint64_t x = 0;

	memcpy(&x, v->regs + off, len);
	return x;
}

static void reg_set(uint8_t *a, unsigned int off, uint64_t x, unsigned int len)
{
	memcpy(a + off, &x, len);
}

static void event_take(struct vtd *v, unsigned int ctl, unsigned int data, struct vtd_event *ev)
{
	uint32_t c = (uint32_t)reg_get(v, ctl, 4);

	if (c & FECTL_IM) {
		reg_set(v->regs, ctl, c | FECTL_IP, 4);
		return;
	}
	reg_set(v->regs, ctl, c & ~FECTL_IP, 4);
	ev->send = 1;
	ev->addr = reg_get(v, data + 4, 4) | reg_get(v, data + 8, 4) << 32;
	ev->data = (uint32_t)reg_get(v, data, 4);
}

static void event_send(struct vtd *v, const struct vtd_event *ev)
{
	if (ev->send && v->m->accel && v->m->accel->msi && (ev->addr >> 20) == 0xfee)
		v->m->accel->msi(v->m, ev->addr, ev->data);
}

/*
 * FSTS.PPF mirrors the F bit of the record; FRI is always 0 with one record. Once
 * software has cleared every fault status, a masked event is no longer pending
 * (FECTL.IP, VT-d 10.4.10).
 */
static void fsts_update(struct vtd *v)
{
	uint32_t fsts = (uint32_t)reg_get(v, VTD_FSTS, 4) & ~VTD_FSTS_PPF;

	if (reg_get(v, VTD_FRCD + 8, 8) & FRCD_F)
		fsts |= VTD_FSTS_PPF;
	reg_set(v->regs, VTD_FSTS, fsts, 4);
	if (!(fsts & 0x73u))
		reg_set(v->regs, VTD_FECTL, reg_get(v, VTD_FECTL, 4) & ~FECTL_IP, 4);
}

/*
 * Called with the lock held: record a primary fault (VT-d 7.2.1). @info is the page
 * address of a DMA fault, or the interrupt index << 48 of a remapping fault. With the
 * one record still holding an earlier fault, only the overflow bit is set.
 */
static void fault(struct vtd *v, uint16_t sid, int reason, uint64_t info, int is_write,
		  struct vtd_event *ev)
{
	uint32_t fsts = (uint32_t)reg_get(v, VTD_FSTS, 4);

	if (reg_get(v, VTD_FRCD + 8, 8) & FRCD_F) {
		reg_set(v->regs, VTD_FSTS, fsts | VTD_FSTS_PFO, 4);
		return;
	}
	reg_set(v->regs, VTD_FRCD, info & ~0xfffull, 8);
	reg_set(v->regs, VTD_FRCD + 8,
		sid | (uint64_t)reason << 32 | (is_write ? 0 : FRCD_T) | FRCD_F, 8);
	fsts_update(v);
	/* an event when PPF rises with no other fault status pending (VT-d 7.2.2) */
	if (!(fsts & (VTD_FSTS_PFO | VTD_FSTS_PPF | VTD_FSTS_IQE)))
		event_take(v, VTD_FECTL, VTD_FEDATA, ev);
}

/* ---- DMA remapping ---- */

/*
 * Called with the lock held. Returns 0 with *gpa and *avail set, or a fault reason > 0.
 * *fpd says whether the context entry asked for faults not to be recorded.
 */
static int translate(struct vtd *v, uint16_t sid, uint64_t iova, int is_write, uint64_t *gpa,
		     uint64_t *avail, int *fpd)
{
	const struct vm_mem *mem = &v->m->mem;
	uint64_t re[2], ce[2], table, pte = 0;
	unsigned int levels, level;

	*fpd = 0;
	if (vm_mem_read(mem, v->rta + (uint64_t)(sid >> 8) * 16, re, 16) < 0)
		return VTD_FR_ROOT_ACCESS;
	if (!(re[0] & 1))
		return VTD_FR_ROOT_NOT_PRESENT;
	if ((re[0] & 0xffe) || (re[0] & ~PAGE_ADDR & ~0xfffull) || re[1])
		return VTD_FR_ROOT_RSVD;
	if (vm_mem_read(mem, (re[0] & PAGE_ADDR) + (uint64_t)(sid & 0xff) * 16, ce, 16) < 0)
		return VTD_FR_CTX_ACCESS;
	if (!(ce[0] & 1))
		return VTD_FR_CTX_NOT_PRESENT;
	*fpd = (ce[0] >> 1) & 1;
	if ((ce[0] & 0xff0) || (ce[0] & ~PAGE_ADDR & ~0xfffull) || (ce[1] & ~0xffff7full))
		return VTD_FR_CTX_RSVD;
	switch ((ce[0] >> 2) & 3) {
	case 0: /* untranslated requests go through the second-level tables */
		break;
	case 2: /* pass-through (ECAP.PT) */
		*gpa = iova;
		*avail = ~0ull - iova + 1 ? ~0ull - iova + 1 : ~0ull;
		return 0;
	default: /* device-TLB translation is not offered (ECAP.DT = 0) */
		return VTD_FR_CTX_INVALID;
	}
	switch (ce[1] & 7) {
	case 1:
		levels = 3;
		break;
	case 2:
		levels = 4;
		break;
	default:
		return VTD_FR_CTX_INVALID;
	}
	if (iova >> (12 + 9 * levels))
		return VTD_FR_ADDR_WIDTH;
	table = ce[0] & PAGE_ADDR;
	for (level = levels; level >= 1; level--) {
		unsigned int shift = 12 + 9 * (level - 1);

		if (vm_mem_read(mem, table + ((iova >> shift) & 0x1ff) * 8, &pte, 8) < 0)
			return VTD_FR_PTE_ACCESS;
		/* access rights are the AND of every level's R and W */
		if (!(pte & (is_write ? 2 : 1)))
			return is_write ? VTD_FR_WRITE : VTD_FR_READ;
		if (level > 1 && (pte & (1ull << 7))) {
			/* a large page: 2 MiB at level 2, 1 GiB at level 3 (CAP.SLLPS); bit 7
			 * of a level-4 entry is reserved, of a 4 KiB entry ignored */
			if (level > 3)
				return VTD_FR_PTE_RSVD;
			if (pte & PAGE_ADDR & ((1ull << shift) - 1) & ~0xfffull)
				return VTD_FR_PTE_RSVD;
			break;
		}
		if (level == 1)
			break;
		table = pte & PAGE_ADDR;
	}
	if (level == 0)
		level = 1;
	{
		unsigned int shift = 12 + 9 * (level - 1);
		uint64_t off = iova & ((1ull << shift) - 1);

		*gpa = (pte & PAGE_ADDR & ~((1ull << shift) - 1)) | off;
		*avail = (1ull << shift) - off;
	}
	return 0;
}

static int vtd_dma_translate(void *opaque, uint16_t sid, uint64_t iova, int is_write, uint64_t *gpa,
			     uint64_t *avail)
{
	struct vtd *v = opaque;
	struct vtd_event ev = { 0 };
	int reason = 0, fpd = 0;

	pthread_mutex_lock(&v->lock);
	if (!(v->gsts & VTD_GCMD_TE)) {
		*gpa = iova;
		*avail = ~0ull - iova + 1 ? ~0ull - iova + 1 : ~0ull;
	} else {
		reason = translate(v, sid, iova, is_write, gpa, avail, &fpd);
		if (reason && !fpd)
			fault(v, sid, reason, iova, is_write, &ev);
	}
	pthread_mutex_unlock(&v->lock);
	event_send(v, &ev);
	if (reason && hw_log_ratelimit(&v->log_count))
		log_warn("vt-d: DMA %s `0x%llx` by %02x:%02x.%x blocked (fault reason 0x%x)",
			 is_write ? "write to" : "read from", (unsigned long long)iova, sid >> 8,
			 (sid >> 3) & 0x1f, sid & 7, reason);
	return reason ? -EFAULT : 0;
}

/* ---- interrupt remapping ---- */

/* Called with the lock held: 0 with the message rewritten, or a fault reason > 0. */
static int remap(struct vtd *v, int sid, uint64_t *addr, uint32_t *data, uint64_t *index_out,
		 int *fpd)
{
	uint64_t irte[2], size, index;
	uint32_t handle, dst;

	*fpd = 0;
	*index_out = 0;
	if (!(*addr & (1u << 4))) {
		/* compatibility format: passes only while CFI is set (VT-d 5.1.2.1) */
		return v->gsts & VTD_GCMD_CFI ? 0 : VTD_FR_IR_COMPAT;
	}
	handle = (uint32_t)((*addr >> 5) & 0x7fff) | (uint32_t)((*addr >> 2) & 1) << 15;
	index = handle;
	if (*addr & (1u << 3)) /* SHV: the subhandle in the data is added */
		index += *data & 0xffff;
	*index_out = index;
	size = 2ull << (v->irta & 0xf);
	if (index >= size)
		return VTD_FR_IR_INDEX;
	if (vm_mem_read(&v->m->mem, (v->irta & PAGE_ADDR) + index * 16, irte, 16) < 0)
		return VTD_FR_IR_ACCESS;
	if (!(irte[0] & 1))
		return VTD_FR_IR_NOT_PRESENT;
	*fpd = (irte[0] >> 1) & 1;
	/* reserved: 14:12, IM (posted interrupts are not offered), 31:24, and in xAPIC
	 * mode DST 63:48 and 39:32; the upper quadword above SVT */
	if ((irte[0] & 0xff00f000ull) || (irte[0] & 0xffff00ff00000000ull) ||
	    (irte[1] & ~0xfffffull))
		return VTD_FR_IR_IRTE_RSVD;
	switch ((irte[1] >> 18) & 3) {
	case 0:
		break;
	case 1:
		/* requests that carry no requester ID (the IOAPIC's) are not checked, as
		 * QEMU does; SQ masks function bits out of the comparison */
		if (sid != MACHINE_SID_NONE) {
			static const uint16_t sq_mask[4] = { 0xffff, 0xfffb, 0xfff9, 0xfff8 };
			uint16_t mask = sq_mask[(irte[1] >> 16) & 3];

			if (((uint16_t)sid & mask) != ((uint16_t)irte[1] & mask))
				return VTD_FR_IR_SID;
		}
		break;
	case 2:
		/* the requester's bus must lie in [SID 15:8, SID 7:0] */
		if (sid != MACHINE_SID_NONE) {
			unsigned int bus = ((unsigned int)sid >> 8) & 0xff;

			if (bus < ((irte[1] >> 8) & 0xff) || bus > (irte[1] & 0xff))
				return VTD_FR_IR_SID;
		}
		break;
	default:
		return VTD_FR_IR_IRTE_RSVD;
	}
	dst = (uint32_t)(irte[0] >> 32);
	*addr = 0xfee00000ull | (uint64_t)((dst >> 8) & 0xff) << 12 |
		((irte[0] >> 3) & 1) << 3 |	      /* redirection hint */
		((irte[0] >> 2) & 1) << 2;	      /* destination mode */
	*data = (uint32_t)((irte[0] >> 16) & 0xff) |  /* vector */
		(uint32_t)((irte[0] >> 5) & 7) << 8 | /* delivery mode */
		(uint32_t)((irte[0] >> 4) & 1) << 15; /* trigger mode */
	if (irte[0] & (1u << 4))
		*data |= 1u << 14; /* a level-triggered message asserts */
	return 0;
}

static int vtd_msi_remap(void *opaque, int sid, uint64_t *addr, uint32_t *data)
{
	struct vtd *v = opaque;
	struct vtd_event ev = { 0 };
	uint64_t index = 0;
	int reason = 0, fpd = 0;

	pthread_mutex_lock(&v->lock);
	if (v->gsts & VTD_GCMD_IRE) {
		reason = remap(v, sid, addr, data, &index, &fpd);
		if (reason && !fpd)
			fault(v, sid == MACHINE_SID_NONE ? 0 : (uint16_t)sid, reason,
			      (index & 0xffff) << 48, 1, &ev);
	}
	pthread_mutex_unlock(&v->lock);
	event_send(v, &ev);
	if (reason && hw_log_ratelimit(&v->log_count))
		log_warn("vt-d: interrupt request `0x%llx`/`0x%x` blocked (fault reason 0x%x)",
			 (unsigned long long)*addr, *data, reason);
	return reason ? -EPERM : 0;
}

/* ---- registers ---- */

/* Called with the lock held: run the queued invalidation descriptors up to the tail. */
static void iq_run(struct vtd *v, struct vtd_event *ev)
{
	uint64_t iqa = reg_get(v, VTD_IQA, 8), base = iqa & PAGE_ADDR;
	uint64_t n = 256ull << (iqa & 7); /* 16-byte descriptors in 2^QS pages */
	uint64_t head = reg_get(v, VTD_IQH, 8) >> 4, tail = reg_get(v, VTD_IQT, 8) >> 4;

	if (tail >= n) {
		reg_set(v->regs, VTD_FSTS, reg_get(v, VTD_FSTS, 4) | VTD_FSTS_IQE, 4);
		return;
	}
	/* at most one lap: every step moves the head towards the tail */
	while (head % n != tail) {
		uint64_t d[2];
		unsigned int type;

		head %= n;
		if (vm_mem_read(&v->m->mem, base + head * 16, d, 16) < 0)
			goto error;
		type = (unsigned int)(d[0] & 0xf);
		switch (type) {
		case 1:	       /* context cache */
		case 2:	       /* IOTLB */
		case 3:	       /* device TLB */
		case 4:	       /* interrupt entry cache */
			break; /* nothing is cached */
		case 5:	       /* invalidation wait */
			if (d[0] & (1u << 5)) {
				uint32_t status = (uint32_t)(d[0] >> 32);
				void *p = vm_mem_ptr(&v->m->mem, d[1] & ~3ull, 4);

				if (!p)
					goto error;
				memcpy(p, &status, 4);
				machine_mem_written(v->m, p, 4);
			}
			if (d[0] & (1u << 4)) {
				reg_set(v->regs, VTD_ICS, ICS_IWC, 4);
				event_take(v, VTD_IECTL, VTD_IEDATA, ev);
			}
			break;
		default:
			goto error;
		}
		head++;
		reg_set(v->regs, VTD_IQH, (head % n) << 4, 8);
	}
	return;
error:
	/* the head stays at the bad descriptor until software fixes it (VT-d 6.5.2.10) */
	reg_set(v->regs, VTD_FSTS, reg_get(v, VTD_FSTS, 4) | VTD_FSTS_IQE, 4);
	if (hw_log_ratelimit(&v->log_count))
		log_warn("vt-d: bad invalidation descriptor at queue index %llu",
			 (unsigned long long)head);
}

static void gcmd(struct vtd *v, uint32_t cmd, struct vtd_event *ev)
{
	uint32_t toggles = VTD_GCMD_TE | VTD_GCMD_QIE;
	uint32_t changed;

	if (v->intremap)
		toggles |= VTD_GCMD_IRE | VTD_GCMD_CFI;
	else
		cmd &= ~VTD_GCMD_SIRTP;
	changed = (cmd ^ v->gsts) & toggles;

	if (cmd & VTD_GCMD_SRTP) {
		v->rta = reg_get(v, VTD_RTADDR, 8) & PAGE_ADDR;
		v->gsts |= VTD_GCMD_SRTP;
	}
	if (cmd & VTD_GCMD_SIRTP) {
		v->irta = reg_get(v, VTD_IRTA, 8) & (PAGE_ADDR | 0xf);
		v->gsts |= VTD_GCMD_SIRTP;
	}
	if (changed & VTD_GCMD_QIE) {
		/* enabling resets the head; disabling waits for nothing (all is done) */
		reg_set(v->regs, VTD_IQH, 0, 8);
		if (cmd & VTD_GCMD_QIE)
			reg_set(v->regs, VTD_IQT, 0, 8);
	}
	v->gsts = (v->gsts & ~changed) | (cmd & changed);
	reg_set(v->regs, VTD_GSTS, v->gsts, 4);
	(void)ev;
}

/* Called with the lock held, after a write to [@off, @off + @len): its side effects. */
static void wrote(struct vtd *v, unsigned int off, unsigned int len, uint64_t val,
		  struct vtd_event *ev)
{
	unsigned int end = off + len;

#define HIT(reg, n) (off < (reg) + (n) && end > (reg))
	if (HIT(VTD_GCMD, 4))
		gcmd(v, (uint32_t)reg_get(v, VTD_GCMD, 4), ev);
	if (HIT(VTD_CCMD + 4, 4) && (reg_get(v, VTD_CCMD, 8) & CCMD_ICC)) {
		uint64_t c = reg_get(v, VTD_CCMD, 8) & ~CCMD_ICC;

		/* done at once; the actual granularity (CAIG) is the requested one (CIRG) */
		c = (c & ~(3ull << 59)) | ((c >> 61) & 3) << 59;
		reg_set(v->regs, VTD_CCMD, c, 8);
	}
	if (HIT(VTD_IOTLB + 4, 4) && (reg_get(v, VTD_IOTLB, 8) & IOTLB_IVT)) {
		uint64_t c = reg_get(v, VTD_IOTLB, 8) & ~IOTLB_IVT;

		c = (c & ~(3ull << 57)) | ((c >> 60) & 3) << 57;
		reg_set(v->regs, VTD_IOTLB, c, 8);
	}
	if (HIT(VTD_IQT, 8) && (v->gsts & VTD_GCMD_QIE) &&
	    !(reg_get(v, VTD_FSTS, 4) & VTD_FSTS_IQE))
		iq_run(v, ev);
	if (HIT(VTD_FSTS, 4) || HIT(VTD_FRCD + 8, 8))
		fsts_update(v);
	if (HIT(VTD_FSTS, 4) && !(reg_get(v, VTD_FSTS, 4) & VTD_FSTS_IQE) &&
	    (v->gsts & VTD_GCMD_QIE))
		iq_run(v, ev); /* the guest fixed the queue and cleared IQE */
	/* unmasking with an interrupt pending sends it */
	if (HIT(VTD_FECTL, 4) && (reg_get(v, VTD_FECTL, 4) & (FECTL_IM | FECTL_IP)) == FECTL_IP)
		event_take(v, VTD_FECTL, VTD_FEDATA, ev);
	if (HIT(VTD_IECTL, 4) && (reg_get(v, VTD_IECTL, 4) & (FECTL_IM | FECTL_IP)) == FECTL_IP)
		event_take(v, VTD_IECTL, VTD_IEDATA, ev);
#undef HIT
	(void)val;
}

static int vtd_mmio(void *opaque, uint64_t off, void *data, uint32_t len, int is_write)
{
	struct vtd *v = opaque;
	struct vtd_event ev = { 0 };
	uint64_t val = 0;

	/* dword and qword registers, naturally aligned; the rest reads as all ones */
	if ((len != 4 && len != 8) || (off & (len - 1)) || off + len > VTD_REGS_END)
		return 0;
	pthread_mutex_lock(&v->lock);
	if (!is_write) {
		val = reg_get(v, (unsigned int)off, len);
		memcpy(data, &val, len);
	} else {
		memcpy(&val, data, len);
		for (unsigned int i = 0; i < len; i++) {
			unsigned int o = (unsigned int)off + i;
			uint8_t b = (uint8_t)(val >> (8 * i));

			v->regs[o] = (uint8_t)((v->regs[o] & ~v->wmask[o]) | (b & v->wmask[o]));
			v->regs[o] &= (uint8_t) ~(b & v->w1cmask[o]);
		}
		wrote(v, (unsigned int)off, len, val, &ev);
		/* GCMD reads as zero: it is a command, not a state */
		reg_set(v->regs, VTD_GCMD, 0, 4);
	}
	pthread_mutex_unlock(&v->lock);
	event_send(v, &ev);
	return 0;
}

static void vtd_fini(void *opaque)
{
	struct vtd *v = opaque;

	bus_unregister(&v->m->bus, BUS_MMIO, HW_VTD_BASE);
	if (v->m->iommu_opaque == v) {
		v->m->iommu = NULL;
		v->m->iommu_opaque = NULL;
		v->m->iommu_intremap = 0;
	}
	pthread_mutex_destroy(&v->lock);
	free(v);
}

static const struct vm_iommu_ops vtd_ops = {
	.dma_translate = vtd_dma_translate,
	.msi_remap = vtd_msi_remap,
};

int hw_vtd_attach(struct machine *m, int intremap, struct cabin_err **err)
{
	struct vtd *v = xcalloc(1, sizeof(*v));
	int ret;

	v->m = m;
	v->intremap = intremap;
	pthread_mutex_init(&v->lock, NULL);
	reg_set(v->regs, VTD_VER, VTD_VERSION, 4);
	reg_set(v->regs, VTD_CAP, VTD_CAP_VALUE, 8);
	reg_set(v->regs, VTD_ECAP, VTD_ECAP_VALUE & (intremap ? ~0ull : ~ECAP_IR), 8);
	reg_set(v->regs, VTD_FECTL, FECTL_IM, 4);
	reg_set(v->regs, VTD_IECTL, FECTL_IM, 4);
	reg_set(v->wmask, VTD_GCMD, 0xffffffffu, 4);
	reg_set(v->wmask, VTD_RTADDR, PAGE_ADDR | 0xc00, 8);
	reg_set(v->wmask, VTD_CCMD, 0xffffffffffffffffull, 8);
	reg_set(v->w1cmask, VTD_FSTS, VTD_FSTS_PFO | VTD_FSTS_IQE | 0x60u, 4);
	reg_set(v->wmask, VTD_FECTL, FECTL_IM, 4);
	reg_set(v->wmask, VTD_FEDATA, 0xffffffffu, 4);
	reg_set(v->wmask, VTD_FEADDR, 0xfffffffcu, 4);
	reg_set(v->wmask, VTD_FEUADDR, 0xffffffffu, 4);
	reg_set(v->wmask, VTD_IQT, 0x7fff0ull, 8);
	reg_set(v->wmask, VTD_IQA, PAGE_ADDR | 7, 8);
	reg_set(v->w1cmask, VTD_ICS, ICS_IWC, 4);
	reg_set(v->wmask, VTD_IECTL, FECTL_IM, 4);
	reg_set(v->wmask, VTD_IEDATA, 0xffffffffu, 4);
	reg_set(v->wmask, VTD_IEADDR, 0xfffffffcu, 4);
	reg_set(v->wmask, VTD_IEUADDR, 0xffffffffu, 4);
	reg_set(v->wmask, VTD_IRTA, PAGE_ADDR | 0xf, 8);
	reg_set(v->wmask, VTD_IVA, 0xffffffffffffffffull, 8);
	reg_set(v->wmask, VTD_IOTLB, 0xffffffffffffffffull, 8);
	reg_set(v->w1cmask, VTD_FRCD + 8, FRCD_F, 8);
	ret = bus_register_mmio(&m->bus, HW_VTD_BASE, HW_VTD_SIZE, vtd_mmio, v, "vt-d");
	if (ret < 0) {
		pthread_mutex_destroy(&v->lock);
		free(v);
		return cabin_err_make(err, -ret, "claim the VT-d registers at `0x%llx`",
				      (unsigned long long)HW_VTD_BASE);
	}
	ret = machine_dev_add(
		m, &(struct machine_dev){ .name = "vt-d", .opaque = v, .fini = vtd_fini });
	if (ret < 0) {
		vtd_fini(v);
		return cabin_err_make(err, -ret, "add the VT-d unit");
	}
	m->iommu = &vtd_ops;
	m->iommu_opaque = v;
	m->iommu_intremap = intremap;
	return 0;
}
