/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_HW_INTEL_IOMMU_H
#define CABIN_HW_INTEL_IOMMU_H

#include <stdint.h>

struct cabin_err;
struct machine;

/*
 * An Intel VT-d remapping unit (Intel Virtualization Technology for Directed I/O,
 * rev. 4.x, chapters 3, 5, 6 and 10) at QEMU q35's address: legacy-mode root and
 * context tables, 3- and 4-level second-level page tables with 2 MiB and 1 GiB pages,
 * pass-through contexts, interrupt remapping (xAPIC destinations), queued
 * invalidation and one primary fault recording register.
 */
#define HW_VTD_BASE 0xfed90000ULL
#define HW_VTD_SIZE 0x1000ULL

/* register offsets (VT-d 10.4) */
#define VTD_VER 0x00
#define VTD_CAP 0x08
#define VTD_ECAP 0x10
#define VTD_GCMD 0x18
#define VTD_GSTS 0x1c
#define VTD_RTADDR 0x20
#define VTD_CCMD 0x28
#define VTD_FSTS 0x34
#define VTD_FECTL 0x38
#define VTD_FEDATA 0x3c
#define VTD_FEADDR 0x40
#define VTD_FEUADDR 0x44
#define VTD_IQH 0x80
#define VTD_IQT 0x88
#define VTD_IQA 0x90
#define VTD_ICS 0x9c
#define VTD_IECTL 0xa0
#define VTD_IEDATA 0xa4
#define VTD_IEADDR 0xa8
#define VTD_IEUADDR 0xac
#define VTD_IRTA 0xb8
#define VTD_IVA 0x200 /* ECAP.IRO = 0x20 */
#define VTD_IOTLB 0x208
#define VTD_FRCD 0x220 /* CAP.FRO = 0x22, one record (CAP.NFR = 0) */
#define VTD_REGS_END 0x230

/* GCMD/GSTS bits */
#define VTD_GCMD_TE (1u << 31)
#define VTD_GCMD_SRTP (1u << 30)
#define VTD_GCMD_SFL (1u << 29)
#define VTD_GCMD_WBF (1u << 27)
#define VTD_GCMD_QIE (1u << 26)
#define VTD_GCMD_IRE (1u << 25)
#define VTD_GCMD_SIRTP (1u << 24)
#define VTD_GCMD_CFI (1u << 23)

/* FSTS bits */
#define VTD_FSTS_PFO (1u << 0)
#define VTD_FSTS_PPF (1u << 1)
#define VTD_FSTS_IQE (1u << 4)

/* fault reasons (VT-d appendix A) */
#define VTD_FR_ROOT_NOT_PRESENT 0x01
#define VTD_FR_CTX_NOT_PRESENT 0x02
#define VTD_FR_CTX_INVALID 0x03
#define VTD_FR_ADDR_WIDTH 0x04
#define VTD_FR_WRITE 0x05
#define VTD_FR_READ 0x06
#define VTD_FR_PTE_ACCESS 0x07
#define VTD_FR_ROOT_ACCESS 0x08
#define VTD_FR_CTX_ACCESS 0x09
#define VTD_FR_ROOT_RSVD 0x0a
#define VTD_FR_CTX_RSVD 0x0b
#define VTD_FR_PTE_RSVD 0x0c
#define VTD_FR_IR_RSVD 0x20
#define VTD_FR_IR_INDEX 0x21
#define VTD_FR_IR_NOT_PRESENT 0x22
#define VTD_FR_IR_ACCESS 0x23
#define VTD_FR_IR_IRTE_RSVD 0x24
#define VTD_FR_IR_COMPAT 0x25
#define VTD_FR_IR_SID 0x26

/**
 * hw_vtd_attach() - the remapping unit's registers at HW_VTD_BASE; becomes m->iommu,
 * through which machine_dma_rw() and machine_msi() pass. Translation and interrupt
 * remapping start disabled, as after reset. Without @intremap the unit offers no
 * interrupt remapping (ECAP.IR = 0: GCMD.IRE does nothing), for an irqchip whose
 * IOAPIC cannot send its interrupts through it. Return: 0, or <0 with @err set.
 */
int hw_vtd_attach(struct machine *m, int intremap, struct cabin_err **err);

#endif
