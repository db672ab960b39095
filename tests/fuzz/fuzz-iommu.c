/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: the VT-d unit's registers and table walks, the PCI host's
 * configuration ports and the edu device, driven by random register accesses,
 * guest-memory contents, DMAs and interrupt requests. Built with
 * -fsanitize=fuzzer,address,undefined: a read or write outside guest RAM or the
 * models' own state, UB, a leak or a crash is a finding. Each input starts from a
 * fresh machine (devices attached anew, the low RAM cleared).
 *
 * Input: a stream of operations, each a byte (op % 8) and its operands (see run_op()).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/edu.h"
#include "hw/intel-iommu.h"
#include "hw/pci.h"
#include "lib/error.h"
#include "lib/log.h"
#include "vm/machine.h"

#define RAM (1ull << 20)

static struct machine M;

static int fake_irq_line(struct machine *m, unsigned int gsi, int level)
{
	return 0;
}

static int fake_msi(struct machine *m, uint64_t addr, uint32_t data)
{
	return 0;
}

static const struct accel_ops fake_accel = {
	.name = "fuzz",
	.irq_line = fake_irq_line,
	.msi = fake_msi,
};

struct in {
	const uint8_t *p;
	size_t n;
};

static uint64_t take(struct in *in, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < bytes; i++) {
		v |= (uint64_t)(in->n ? *in->p : 0) << (8 * i);
		if (in->n)
			in->p++, in->n--;
	}
	return v;
}

/* A small address most of the time (inside RAM), a raw 64-bit one otherwise. */
static uint64_t addr(struct in *in)
{
	uint8_t kind = (uint8_t)take(in, 1);

	return kind & 1 ? take(in, 8) : take(in, 3) % RAM;
}

static void run_op(struct in *in)
{
	uint8_t op = (uint8_t)take(in, 1);
	uint64_t v, a;
	uint8_t buf[256];
	unsigned int len;

	switch (op % 8) {
	case 0: /* VT-d register write: offset, size, value */
	case 1: /* ... or read */
		a = take(in, 2) % (HW_VTD_SIZE + 16);
		len = take(in, 1) & 1 ? 8 : 4;
		v = op % 8 == 0 ? addr(in) : 0;
		bus_access(&M.bus, BUS_MMIO, HW_VTD_BASE + a, &v, len, op % 8 == 0);
		break;
	case 2: /* guest RAM: 8 bytes at an address inside RAM */
		a = take(in, 3) % (RAM - 8);
		v = take(in, 8);
		vm_mem_write(&M.mem, a, &v, 8);
		break;
	case 3: /* a DMA of requester sid */
		v = take(in, 2);
		a = addr(in);
		len = (unsigned int)take(in, 1);
		memset(buf, 0x5a, sizeof(buf));
		machine_dma_rw(&M, (uint16_t)v, a, buf, len, (int)(take(in, 1) & 1));
		break;
	case 4: { /* an interrupt request */
		int sid = (int)take(in, 2);

		a = 0xfee00000ull | take(in, 3) % 0x100000;
		if (take(in, 1) & 1)
			sid = MACHINE_SID_NONE;
		machine_msi(&M, sid, a, (uint32_t)take(in, 4));
		break;
	}
	case 5: /* PCI configuration: address register, then a data port access */
		v = 0x80000000u | (uint32_t)take(in, 2);
		bus_access(&M.bus, BUS_PIO, 0xcf8, &v, 4, 1);
		a = take(in, 1) & 3;
		len = 1u << (take(in, 1) % 3);
		v = take(in, 4);
		bus_access(&M.bus, BUS_PIO, 0xcfc + a, &v, len, (int)(take(in, 1) & 1));
		break;
	case 6: /* the PCI memory window (the edu BAR sits at its start) */
		a = take(in, 3) % (2 << 20);
		len = take(in, 1) & 1 ? 8 : 4;
		v = addr(in);
		bus_access(&M.bus, BUS_MMIO, HW_PCI_MMIO_BASE + a, &v, len, (int)(take(in, 1) & 1));
		break;
	default: /* a DMA the edu runs: bus master on, then a command */
		v = 0x80000000u | 0x0804u;
		bus_access(&M.bus, BUS_PIO, 0xcf8, &v, 4, 1);
		v = 6;
		bus_access(&M.bus, BUS_PIO, 0xcfc, &v, 2, 1);
		v = addr(in);
		bus_access(&M.bus, BUS_MMIO, HW_PCI_MMIO_BASE + 0x80, &v, 8, 1);
		v = 0x40000 + take(in, 2) % 0x1100;
		bus_access(&M.bus, BUS_MMIO, HW_PCI_MMIO_BASE + 0x88, &v, 8, 1);
		v = take(in, 2) % 0x1100;
		bus_access(&M.bus, BUS_MMIO, HW_PCI_MMIO_BASE + 0x90, &v, 8, 1);
		v = 1 | (take(in, 1) & 6);
		bus_access(&M.bus, BUS_MMIO, HW_PCI_MMIO_BASE + 0x98, &v, 4, 1);
		break;
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct cabin_err *err = NULL;

	log_set_quiet(1);
	pthread_mutex_init(&M.lock, NULL);
	M.accel = &fake_accel;
	if (vm_mem_init(&M.mem, RAM, 0, &err) < 0) {
		fprintf(stderr, "%s\n", cabin_err_msg(err));
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	struct cabin_err *err = NULL;

	memset(vm_mem_ptr(&M.mem, 0, RAM), 0, RAM);
	/* bit 7 of the first operation byte: a unit without interrupt remapping */
	if (hw_pci_attach(&M, &err) < 0 || hw_vtd_attach(&M, !(size && data[0] & 0x80), &err) < 0 ||
	    hw_edu_attach(&M, &err) < 0) {
		fprintf(stderr, "%s\n", cabin_err_msg(err));
		abort();
	}
	for (unsigned int i = 0; i < 512 && in.n; i++)
		run_op(&in);
	machine_devs_fini(&M);
	if (M.bus.nr[BUS_MMIO] || M.bus.nr[BUS_PIO] || M.iommu)
		abort(); /* teardown must release everything */
	return 0;
}
