/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QEMU's test devices, which kvm-unit-tests expects next to the PC
 * (hw/misc/pc-testdev.c and hw/misc/debugexit.c):
 *
 *   isa-debug-exit at PORT (4 ports): a write of V ends the VM with exit
 *     status (V << 1) | 1, so a guest can never fake success (0), and a
 *     test reporting 0 ("all passed") gives 1, as under QEMU;
 *   pc-testdev: port 0xe0 (4 ports) keeps what is written and reads it back
 *     (the port I/O tests), port 0xe4 takes a page address to flush (nothing
 *     to do here: the emulator's TLB does not cache host mappings), and
 *     ports 0x2000-0x2017 drive interrupt lines 0-23 (write 0 or 1), and
 *     64 KiB of device memory at 0xff000000 that reads back what was written
 *     (the MMIO forms of kvm-unit-tests' emulator and lam tests).
 *
 * They are attached only when asked (`--debug-exit PORT`): a production
 * guest must not be able to end its VM with a status of its choosing through
 * a port it does not know about.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hw/legacy.h"
#include "lib/error.h"
#include "vm/machine.h"

#define TESTDEV_IOPORT 0xe0
#define TESTDEV_FLUSH 0xe4
#define TESTDEV_IRQ 0x2000
#define TESTDEV_IRQ_LINES 24
#define TESTDEV_IOMEM 0xff000000ULL
#define TESTDEV_IOMEM_LEN 0x10000u

struct testdev {
	struct machine *m;
	uint16_t exit_port;
	uint32_t ioport_data;	    /* accessed with atomics: vCPUs may race on it */
	pthread_mutex_t iomem_lock; /* vCPUs may access the device memory at once */
	uint8_t iomem[TESTDEV_IOMEM_LEN];
};

static int debug_exit_io(void *opaque, uint64_t offset, void *data, uint32_t len, int is_write)
{
	struct testdev *t = opaque;
	uint32_t v = 0;

	if (!is_write) {
		memset(data, 0xff, len);
		return 0;
	}
	memcpy(&v, data, len > 4 ? 4 : len);
	/* QEMU calls exit((V << 1) | 1); the process status keeps the low 8 bits. */
	machine_stop(t->m, (int)(((v << 1) | 1) & 0xff));
	return 0;
}

static int ioport_io(void *opaque, uint64_t offset, void *data, uint32_t len, int is_write)
{
	struct testdev *t = opaque;
	uint32_t v;

	if (offset == TESTDEV_FLUSH - TESTDEV_IOPORT) {
		if (!is_write)
			memset(data, 0xff, len);
		return 0;
	}
	if (is_write) {
		v = 0;
		memcpy(&v, data, len > 4 ? 4 : len);
		__atomic_store_n(&t->ioport_data, v, __ATOMIC_SEQ_CST);
	} else {
		v = __atomic_load_n(&t->ioport_data, __ATOMIC_SEQ_CST);
		memset(data, 0, len);
		memcpy(data, &v, len > 4 ? 4 : len);
	}
	return 0;
}

static int irq_io(void *opaque, uint64_t offset, void *data, uint32_t len, int is_write)
{
	struct testdev *t = opaque;

	if (!is_write) {
		memset(data, 0, len);
		return 0;
	}
	if (offset < TESTDEV_IRQ_LINES)
		machine_irq_line(t->m, (unsigned int)offset, *(const uint8_t *)data ? 1 : 0);
	return 0;
}

static int iomem_io(void *opaque, uint64_t offset, void *data, uint32_t len, int is_write)
{
	struct testdev *t = opaque;

	/* the bus keeps an access inside the range; check anyway, the guest picks both */
	if (offset >= TESTDEV_IOMEM_LEN || len > TESTDEV_IOMEM_LEN - offset) {
		if (!is_write)
			memset(data, 0xff, len);
		return 0;
	}
	pthread_mutex_lock(&t->iomem_lock);
	if (is_write)
		memcpy(&t->iomem[offset], data, len);
	else
		memcpy(data, &t->iomem[offset], len);
	pthread_mutex_unlock(&t->iomem_lock);
	return 0;
}

static void testdev_fini(void *opaque)
{
	struct testdev *t = opaque;

	bus_unregister(&t->m->bus, BUS_MMIO, TESTDEV_IOMEM);
	pthread_mutex_destroy(&t->iomem_lock);
	bus_unregister(&t->m->bus, BUS_PIO, TESTDEV_IRQ);
	bus_unregister(&t->m->bus, BUS_PIO, TESTDEV_IOPORT);
	bus_unregister(&t->m->bus, BUS_PIO, t->exit_port);
	free(t);
}

int hw_testdev_attach(struct machine *m, uint16_t exit_port, struct cabin_err **err)
{
	struct testdev *t = calloc(1, sizeof(*t));
	struct machine_dev d = { .name = "testdev", .opaque = t, .fini = testdev_fini };
	int ret;

	if (!t)
		return cabin_err_make(err, ENOMEM, "allocate the test devices");
	t->m = m;
	t->exit_port = exit_port;
	ret = bus_register_pio(&m->bus, exit_port, 4, debug_exit_io, t, "debug-exit");
	if (ret < 0) {
		free(t);
		return cabin_err_make(err, -ret,
				      "--debug-exit: claim ports `0x%x`-`0x%x` (taken by another "
				      "device?)",
				      exit_port, exit_port + 3);
	}
	ret = bus_register_pio(&m->bus, TESTDEV_IOPORT, 8, ioport_io, t, "pc-testdev");
	if (ret >= 0)
		ret = bus_register_pio(&m->bus, TESTDEV_IRQ, TESTDEV_IRQ_LINES, irq_io, t,
				       "pc-testdev-irq");
	if (ret < 0) {
		bus_unregister(&m->bus, BUS_PIO, TESTDEV_IOPORT);
		bus_unregister(&m->bus, BUS_PIO, exit_port);
		free(t);
		return cabin_err_make(err, -ret,
				      "--debug-exit: claim the pc-testdev ports `0xe0`-`0xe7` and "
				      "`0x2000`-`0x2017`");
	}
	pthread_mutex_init(&t->iomem_lock, NULL);
	ret = bus_register_mmio(&m->bus, TESTDEV_IOMEM, TESTDEV_IOMEM_LEN, iomem_io, t,
				"pc-testdev-iomem");
	if (ret < 0) {
		bus_unregister(&m->bus, BUS_PIO, TESTDEV_IRQ);
		bus_unregister(&m->bus, BUS_PIO, TESTDEV_IOPORT);
		bus_unregister(&m->bus, BUS_PIO, exit_port);
		pthread_mutex_destroy(&t->iomem_lock);
		free(t);
		return cabin_err_make(err, -ret,
				      "--debug-exit: claim the pc-testdev memory `0x%llx`-`0x%llx`",
				      TESTDEV_IOMEM, TESTDEV_IOMEM + TESTDEV_IOMEM_LEN - 1);
	}
	ret = machine_dev_add(m, &d);
	if (ret < 0) {
		testdev_fini(t);
		return cabin_err_make(err, -ret, "record the test devices");
	}
	return 0;
}
