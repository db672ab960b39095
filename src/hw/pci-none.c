/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PCI configuration ports of a machine without PCI. A microVM has no host
 * bridge (virtio devices sit on virtio-mmio), but Linux, even with pci=off, and
 * kvm-unit-tests probe configuration mechanism #1 at ports 0xcf8 (address) and
 * 0xcfc-0xcff (data). On a PC without a bridge, as on QEMU's microvm machine,
 * nothing decodes them: writes go nowhere and reads float to all ones, which is
 * also what a configuration read of an absent device returns. Linux's probe
 * (pci_check_type1) writes 0x80000000 to 0xcf8 and reads it back: all ones tells it
 * there is no mechanism #1. Claiming the ports only keeps these probes from being
 * logged as unclaimed accesses, whose warnings are meant for guests that are lost.
 */
#include "hw/legacy.h"
#include "lib/error.h"
#include "vm/machine.h"

static int pci_none_io(void *opaque, uint64_t offset, void *data, uint32_t len, int is_write)
{
	return 0; /* reads keep the bus's all-ones; writes are dropped */
}

int hw_pci_none_attach(struct machine *m, struct cabin_err **err)
{
	int ret = bus_register_pio(&m->bus, HW_PCI_CONFIG_PORT, 8, pci_none_io, m, "no-pci");

	if (ret < 0)
		return cabin_err_make(err, -ret, "claim the PCI configuration ports `0x%x`",
				      HW_PCI_CONFIG_PORT);
	return 0;
}
