/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_VM_BUS_H
#define CABIN_VM_BUS_H

#include <pthread.h>
#include <stdint.h>

/*
 * The machine's I/O buses: port I/O and MMIO accesses that no RAM backs are
 * dispatched here by whichever accelerator (KVM or the emulator) trapped them.
 * Devices claim ranges; an access is handed to the device with the offset
 * inside its range.
 */
enum bus_space {
	BUS_PIO,
	BUS_MMIO,
};

/**
 * bus_io_fn - a device's access handler
 * @opaque: what the device registered
 * @offset: byte offset inside the claimed range
 * @data: @len bytes to write, or where to put the bytes read (pre-filled with 0xff)
 * @len: 1, 2, 4 or 8
 * @is_write: direction
 *
 * Runs on a vCPU thread; must not block for long. Return: 0, or -errno (logged).
 */
typedef int (*bus_io_fn)(void *opaque, uint64_t offset, void *data, uint32_t len, int is_write);

struct bus_range {
	uint64_t base;
	uint64_t len;
	bus_io_fn fn;
	void *opaque;
	const char *name;
};

#define BUS_MAX_RANGES 64

struct vm_bus {
	struct bus_range ranges[2][BUS_MAX_RANGES]; /* sorted by base, per space */
	unsigned int nr[2];
	unsigned long unclaimed[2]; /* counts accesses nobody claimed */
};

/** bus_register() - claim [@base, @base + @len) in @space. Return: 0, -EEXIST on overlap, -ENOSPC.
 */
int bus_register(struct vm_bus *bus, enum bus_space space, uint64_t base, uint64_t len,
		 bus_io_fn fn, void *opaque, const char *name);

static inline int bus_register_mmio(struct vm_bus *bus, uint64_t base, uint64_t len, bus_io_fn fn,
				    void *opaque, const char *name)
{
	return bus_register(bus, BUS_MMIO, base, len, fn, opaque, name);
}

static inline int bus_register_pio(struct vm_bus *bus, uint16_t base, uint16_t len, bus_io_fn fn,
				   void *opaque, const char *name)
{
	return bus_register(bus, BUS_PIO, base, len, fn, opaque, name);
}

/** bus_unregister() - release the range that starts at @base. */
int bus_unregister(struct vm_bus *bus, enum bus_space space, uint64_t base);

/**
 * bus_access() - dispatch one access
 *
 * An access that no device claims reads as all ones and writes are dropped,
 * as on real hardware. Return: 0, or -ENOENT when unclaimed.
 */
int bus_access(struct vm_bus *bus, enum bus_space space, uint64_t addr, void *data, uint32_t len,
	       int is_write);

#endif
