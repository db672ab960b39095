/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_HW_EDU_H
#define CABIN_HW_EDU_H

struct cabin_err;
struct machine;

/**
 * hw_edu_attach() - QEMU's educational PCI device (1234:11e8: liveness and factorial
 * registers, a DMA engine with a 4 KiB buffer, INTx and MSI) on m->pci, the device
 * kvm-unit-tests uses to test an IOMMU (see edu.c). Return: 0, or <0 with @err set.
 */
int hw_edu_attach(struct machine *m, struct cabin_err **err);

#endif
