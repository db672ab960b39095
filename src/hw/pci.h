/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_HW_PCI_H
#define CABIN_HW_PCI_H

#include <stdint.h>

#include "vm/bus.h"

struct cabin_err;
struct machine;
struct pci_bus;
struct pci_dev;

/*
 * A conventional PCI bus 0 behind configuration mechanism #1 (ports 0xcf8/0xcfc),
 * with a host bridge at 00:00.0. Memory BARs are placed by cabin, as firmware would,
 * inside the host's window below the IOAPIC; a BAR the guest moves is decoded
 * wherever it points inside that window. INTx of every device is wired-OR onto
 * MACHINE_PCI_INTX_GSI, which the devices' Interrupt Line register reports.
 */
#define HW_PCI_MMIO_BASE 0xfe000000ULL
#define HW_PCI_MMIO_SIZE 0x00c00000ULL /* up to the IOAPIC at 0xfec00000 */
#define HW_PCI_MAX_SLOTS 32

/* What a device model declares; hw_pci_dev_add() builds its configuration space. */
struct pci_dev_info {
	const char *name;
	uint16_t vendor_id, device_id;
	uint8_t revision;
	uint32_t class_code; /* class << 16 | subclass << 8 | programming interface */
	uint8_t irq_pin;     /* 1 = INTA#, 0 = none */
	int msi;	     /* a 64-bit MSI capability with one vector */
	uint32_t bar0_size;  /* a 32-bit memory BAR 0 of this size (a power of two >= 4 KiB) */
	bus_io_fn bar0_fn;   /* its handler: offsets are inside the BAR */
	void *opaque;
};

/**
 * hw_pci_attach() - the PCI host: configuration ports, the host bridge at 00:00.0
 * and the MMIO window; sets m->pci. Return: 0, or <0 with @err set.
 */
int hw_pci_attach(struct machine *m, struct cabin_err **err);

/**
 * hw_pci_dev_add() - plug a device into the next free slot of m->pci, its BAR placed
 * and memory decoding on. The bus owns *@out until the machine is torn down.
 * Return: 0, or <0 with @err set.
 */
int hw_pci_dev_add(struct machine *m, const struct pci_dev_info *info, struct pci_dev **out,
		   struct cabin_err **err);

/** hw_pci_dev_sid() - the device's requester ID (bus << 8 | devfn), as an IOMMU sees it. */
uint16_t hw_pci_dev_sid(const struct pci_dev *d);

/** hw_pci_set_irq() - assert (1) or deassert (0) the device's INTx# line. */
void hw_pci_set_irq(struct pci_dev *d, int level);

/** hw_pci_msi_enabled() - 1 when the guest enabled the device's MSI capability. */
int hw_pci_msi_enabled(struct pci_dev *d);

/**
 * hw_pci_msi_notify() - send the device's MSI message as the guest programmed it.
 * Return: 0, -EPERM when bus mastering is off or the IOMMU blocked the message, or
 * -errno.
 */
int hw_pci_msi_notify(struct pci_dev *d);

/**
 * hw_pci_dma() - a DMA read or write of the device at bus address @addr, through
 * machine_dma_rw(). Return: 0, -EPERM when bus mastering is off, -EFAULT.
 */
int hw_pci_dma(struct pci_dev *d, uint64_t addr, void *buf, uint64_t len, int is_write);

/**
 * hw_log_ratelimit() - whether to log the @*count-th report of a guest's misuse (counted
 * here): the first ten, then every power of two, so a guest cannot flood the log.
 */
static inline int hw_log_ratelimit(unsigned long *count)
{
	unsigned long n = __atomic_add_fetch(count, 1, __ATOMIC_RELAXED);

	return n <= 10 || (n & (n - 1)) == 0;
}

#endif
