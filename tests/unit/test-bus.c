/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "unit/tap.h"
#include "vm/bus.h"

struct dev {
	uint64_t last_off;
	uint32_t last_len;
	int last_write;
	int calls;
	uint8_t val;
};

static int dev_io(void *opaque, uint64_t off, void *data, uint32_t len, int is_write)
{
	struct dev *d = opaque;

	d->last_off = off;
	d->last_len = len;
	d->last_write = is_write;
	d->calls++;
	if (!is_write)
		memset(data, d->val, len);
	return 0;
}

int main(void)
{
	static struct vm_bus bus;
	struct dev a = { .val = 0xaa }, b = { .val = 0xbb }, c = { .val = 0xcc };
	uint8_t buf[8];
	int ret;

	tap_plan(24);
	tap_ok(bus_register(&bus, BUS_PIO, 0x3f8, 8, dev_io, &a, "a") == 0, "register pio range");
	tap_ok(bus_register(&bus, BUS_PIO, 0x3fc, 8, dev_io, &b, "b") == -EEXIST,
	       "overlap with the end of a range is refused");
	tap_ok(bus_register(&bus, BUS_PIO, 0x3f0, 9, dev_io, &b, "b") == -EEXIST,
	       "overlap with the start of a range is refused");
	tap_ok(bus_register(&bus, BUS_PIO, 0x3f0, 8, dev_io, &b, "b") == 0,
	       "an adjacent range below is accepted");
	tap_ok(bus_register(&bus, BUS_PIO, 0x400, 1, dev_io, &c, "c") == 0,
	       "an adjacent range above is accepted");
	tap_ok(bus_register(&bus, BUS_MMIO, 0, 0, dev_io, &c, "zero") == -EINVAL,
	       "an empty range is refused");
	tap_ok(bus_register(&bus, BUS_MMIO, UINT64_MAX - 1, 4, dev_io, &c, "wrap") == -EINVAL,
	       "a range wrapping past 2^64 is refused");

	ret = bus_access(&bus, BUS_PIO, 0x3fd, buf, 1, 0);
	tap_ok(ret == 0 && a.calls == 1 && a.last_off == 5 && buf[0] == 0xaa,
	       "read dispatched to the owner with the offset inside its range");
	buf[0] = 0x41;
	ret = bus_access(&bus, BUS_PIO, 0x3f0, buf, 1, 1);
	tap_ok(ret == 0 && b.calls == 1 && b.last_off == 0 && b.last_write,
	       "write dispatched to the range below");
	ret = bus_access(&bus, BUS_PIO, 0x400, buf, 1, 0);
	tap_ok(ret == 0 && c.calls == 1 && buf[0] == 0xcc, "range above");

	memset(buf, 0, sizeof(buf));
	ret = bus_access(&bus, BUS_PIO, 0x1234, buf, 4, 0);
	tap_ok(ret == -ENOENT, "unclaimed access returns -ENOENT");
	tap_ok(buf[0] == 0xff && buf[3] == 0xff, "unclaimed read returns all ones");
	tap_ok(bus.unclaimed[BUS_PIO] == 1, "unclaimed accesses are counted");
	ret = bus_access(&bus, BUS_PIO, 0x3ff, buf, 4, 0);
	tap_ok(ret == -ENOENT && a.calls == 1,
	       "an access straddling the end of a range is unclaimed");
	ret = bus_access(&bus, BUS_MMIO, 0x3f8, buf, 1, 0);
	tap_ok(ret == -ENOENT && a.calls == 1, "the port and MMIO spaces are separate");

	tap_ok(bus_unregister(&bus, BUS_PIO, 0x3f8) == 0, "unregister");
	ret = bus_access(&bus, BUS_PIO, 0x3f8, buf, 1, 0);
	tap_ok(ret == -ENOENT && a.calls == 1, "unregistered range is no longer dispatched");
	tap_ok(bus_unregister(&bus, BUS_PIO, 0x3f8) == -ENOENT, "second unregister fails");
	ret = bus_access(&bus, BUS_PIO, 0x3f7, buf, 1, 0);
	tap_ok(ret == 0 && b.calls == 2 && b.last_off == 7, "neighbours are still found");

	/* Fill the MMIO table: binary search must still find every range. */
	int fill_ok = 1;

	for (unsigned int i = 0; i < BUS_MAX_RANGES; i++)
		if (bus_register(&bus, BUS_MMIO, 0xd0000000ull + (BUS_MAX_RANGES - i) * 0x1000ull,
				 0x1000, dev_io, &c, "slot") != 0)
			fill_ok = 0;
	tap_ok(fill_ok, "%d MMIO ranges registered out of order", BUS_MAX_RANGES);
	tap_ok(bus_register(&bus, BUS_MMIO, 0xe0000000ull, 1, dev_io, &c, "x") == -ENOSPC,
	       "one more is -ENOSPC");
	int found = 1;

	for (unsigned int i = 1; i <= BUS_MAX_RANGES; i++) {
		c.last_off = ~0ull;
		if (bus_access(&bus, BUS_MMIO, 0xd0000000ull + i * 0x1000ull + 0x70, buf, 4, 0) ||
		    c.last_off != 0x70)
			found = 0;
	}
	tap_ok(found, "every MMIO range is found with the right offset");
	tap_ok(bus_access(&bus, BUS_MMIO, 0xd0000000ull, buf, 4, 0) == -ENOENT,
	       "the gap below the first range is unclaimed");
	tap_ok(bus_access(&bus, BUS_MMIO, UINT64_MAX, buf, 1, 0) == -ENOENT,
	       "the top of the address space is unclaimed");
	return tap_done();
}
