/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QEMU's educational PCI device "edu" (QEMU docs/specs/edu.rst), which
 * kvm-unit-tests drives to test DMA and interrupt remapping through an IOMMU:
 * PCI 1234:11e8, revision 0x10, class 0x00ff, INTA#, a 64-bit MSI capability with
 * one vector, and a 1 MiB memory BAR 0 of 32-bit registers (0x80-0x9f also take
 * 64-bit accesses; other sizes read as all ones and are not written):
 *
 *   0x00 RO  identification 0x010000ed (version 1.0)
 *   0x04 RW  liveness: reads the bitwise NOT of what was written
 *   0x08 RW  factorial: a write computes the factorial of the value into it
 *   0x20 RW  status: bit 0 computing (RO), bit 7 raise interrupt 0x1 after a factorial
 *   0x24 RO  interrupt status
 *   0x60 WO  interrupt raise: ORed into the status, then the interrupt is raised
 *   0x64 WO  interrupt acknowledge: cleared from the status; INTx drops at zero
 *   0x80 RW  DMA source, 0x88 DMA destination, 0x90 DMA count
 *   0x98 RW  DMA command: bit 0 start, bit 1 direction (1: to RAM), bit 2 raise
 *            interrupt 0x100 when done
 *
 * The DMA moves between bus addresses and a 4 KiB buffer the device shows at
 * 0x40000-0x40fff of its DMA space. QEMU runs factorials on a thread and DMA on a
 * 100 ms timer, and the driver polls the busy bits; here both complete before the
 * register write returns, which a polling driver cannot tell apart. Bus addresses
 * are cut to the device's 28-bit DMA mask, as QEMU's are. A transfer that leaves
 * the buffer is refused (QEMU logs it and copies anyway).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hw/edu.h"
#include "hw/pci.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "vm/machine.h"

#define EDU_ID 0x010000edu
#define EDU_STATUS_COMPUTING 0x01u
#define EDU_STATUS_IRQFACT 0x80u
#define EDU_IRQ_FACT 0x001u
#define EDU_IRQ_DMA 0x100u
#define EDU_DMA_RUN 0x1u
#define EDU_DMA_TO_RAM 0x2u
#define EDU_DMA_IRQ 0x4u
#define EDU_DMA_BUF 0x40000u
#define EDU_DMA_SIZE 4096u
#define EDU_DMA_MASK ((1ull << 28) - 1)

struct edu {
	struct machine *m;
	struct pci_dev *pci;
	pthread_mutex_t lock;
	uint32_t alive, fact, status, irq_status;
	uint64_t dma_src, dma_dst, dma_cnt, dma_cmd;
	unsigned long log_count;
	uint8_t buf[EDU_DMA_SIZE];
};

/* Called with the lock held. */
static void raise_irq(struct edu *e, uint32_t bits)
{
	e->irq_status |= bits;
	if (!e->irq_status)
		return;
	if (hw_pci_msi_enabled(e->pci))
		hw_pci_msi_notify(e->pci);
	else
		hw_pci_set_irq(e->pci, 1);
}

static void lower_irq(struct edu *e, uint32_t bits)
{
	e->irq_status &= ~bits;
	if (!e->irq_status && !hw_pci_msi_enabled(e->pci))
		hw_pci_set_irq(e->pci, 0);
}

static uint64_t clamp(struct edu *e, uint64_t addr)
{
	if ((addr & EDU_DMA_MASK) != addr && hw_log_ratelimit(&e->log_count))
		log_warn("edu: DMA address `0x%llx` cut to the 28-bit mask",
			 (unsigned long long)addr);
	return addr & EDU_DMA_MASK;
}

static void dma_run(struct edu *e)
{
	uint64_t cnt = e->dma_cnt, at = e->dma_cmd & EDU_DMA_TO_RAM ? e->dma_src : e->dma_dst;
	int ret;

	/* the buffer side must lie inside the 4 KiB buffer, with no wrap-around */
	if (at < EDU_DMA_BUF || cnt > EDU_DMA_SIZE || at - EDU_DMA_BUF > EDU_DMA_SIZE - cnt) {
		if (hw_log_ratelimit(&e->log_count))
			log_warn("edu: DMA of `%llu` bytes at `0x%llx` leaves the device buffer; "
				 "refused",
				 (unsigned long long)cnt, (unsigned long long)at);
		e->dma_cmd &= ~(uint64_t)EDU_DMA_RUN;
		return;
	}
	at -= EDU_DMA_BUF;
	if (e->dma_cmd & EDU_DMA_TO_RAM)
		ret = hw_pci_dma(e->pci, clamp(e, e->dma_dst), e->buf + at, cnt, 1);
	else
		ret = hw_pci_dma(e->pci, clamp(e, e->dma_src), e->buf + at, cnt, 0);
	if (ret < 0 && hw_log_ratelimit(&e->log_count))
		log_warn(
			"edu: DMA %s `0x%llx` (%llu bytes) failed: %s",
			e->dma_cmd & EDU_DMA_TO_RAM ? "to" : "from",
			(unsigned long long)(e->dma_cmd & EDU_DMA_TO_RAM ? e->dma_dst : e->dma_src),
			(unsigned long long)cnt,
			ret == -EPERM ? "bus mastering is off" : "blocked or outside RAM");
	e->dma_cmd &= ~(uint64_t)EDU_DMA_RUN;
	if (e->dma_cmd & EDU_DMA_IRQ)
		raise_irq(e, EDU_IRQ_DMA);
}

static int edu_mmio(void *opaque, uint64_t off, void *data, uint32_t len, int is_write)
{
	struct edu *e = opaque;
	uint64_t v = 0, *dma = NULL;

	if (off < 0x80 ? len != 4 : len != 4 && len != 8)
		return 0; /* reads keep the bus's all ones */
	if (is_write)
		memcpy(&v, data, len);
	pthread_mutex_lock(&e->lock);
	switch (off) {
	case 0x80:
		dma = &e->dma_src;
		break;
	case 0x88:
		dma = &e->dma_dst;
		break;
	case 0x90:
		dma = &e->dma_cnt;
		break;
	case 0x98:
		dma = &e->dma_cmd;
		break;
	default:
		break;
	}
	if (!is_write) {
		switch (off) {
		case 0x00:
			v = EDU_ID;
			break;
		case 0x04:
			v = e->alive;
			break;
		case 0x08:
			v = e->fact;
			break;
		case 0x20:
			v = e->status;
			break;
		case 0x24:
			v = e->irq_status;
			break;
		default:
			v = dma ? *dma : ~0ull;
			break;
		}
		memcpy(data, &v, len);
	} else if (dma) {
		if (off != 0x98 || (v & EDU_DMA_RUN))
			*dma = v;
		if (off == 0x98 && (v & EDU_DMA_RUN))
			dma_run(e);
	} else {
		switch (off) {
		case 0x04:
			e->alive = ~(uint32_t)v;
			break;
		case 0x08: {
			uint32_t n = (uint32_t)v, f = 1;

			while (n > 0)
				f *= n--;
			e->fact = f;
			if (e->status & EDU_STATUS_IRQFACT)
				raise_irq(e, EDU_IRQ_FACT);
			break;
		}
		case 0x20:
			e->status = (uint32_t)v & EDU_STATUS_IRQFACT;
			break;
		case 0x60:
			raise_irq(e, (uint32_t)v);
			break;
		case 0x64:
			lower_irq(e, (uint32_t)v);
			break;
		default:
			break;
		}
	}
	pthread_mutex_unlock(&e->lock);
	return 0;
}

static void edu_fini(void *opaque)
{
	struct edu *e = opaque;

	pthread_mutex_destroy(&e->lock);
	free(e);
}

int hw_edu_attach(struct machine *m, struct cabin_err **err)
{
	struct edu *e = xcalloc(1, sizeof(*e));
	struct pci_dev_info info = {
		.name = "edu",
		.vendor_id = 0x1234,
		.device_id = 0x11e8,
		.revision = 0x10,
		.class_code = 0x00ff00,
		.irq_pin = 1,
		.msi = 1,
		.bar0_size = 1u << 20,
		.bar0_fn = edu_mmio,
		.opaque = e,
	};
	int ret;

	e->m = m;
	pthread_mutex_init(&e->lock, NULL);
	ret = machine_dev_add(
		m, &(struct machine_dev){ .name = "edu", .opaque = e, .fini = edu_fini });
	if (ret < 0) {
		edu_fini(e);
		return cabin_err_make(err, -ret, "add the edu device");
	}
	/* the bus is torn down after the device (attached before it) and owns the slot */
	return hw_pci_dev_add(m, &info, &e->pci, err);
}
