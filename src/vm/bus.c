/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "vm/bus.h"

int bus_register(struct vm_bus *bus, enum bus_space space, uint64_t base, uint64_t len,
		 bus_io_fn fn, void *opaque, const char *name)
{
	struct bus_range *r = bus->ranges[space];
	unsigned int n = bus->nr[space], pos = 0;

	if (!len || base + len < base)
		return -EINVAL;
	if (n >= BUS_MAX_RANGES)
		return -ENOSPC;
	while (pos < n && r[pos].base < base)
		pos++;
	if ((pos > 0 && r[pos - 1].base + r[pos - 1].len > base) ||
	    (pos < n && base + len > r[pos].base))
		return -EEXIST;
	memmove(&r[pos + 1], &r[pos], (n - pos) * sizeof(*r));
	r[pos] = (struct bus_range){ base, len, fn, opaque, name };
	bus->nr[space] = n + 1;
	return 0;
}

int bus_unregister(struct vm_bus *bus, enum bus_space space, uint64_t base)
{
	struct bus_range *r = bus->ranges[space];
	unsigned int n = bus->nr[space];

	for (unsigned int i = 0; i < n; i++) {
		if (r[i].base == base) {
			memmove(&r[i], &r[i + 1], (n - i - 1) * sizeof(*r));
			bus->nr[space] = n - 1;
			return 0;
		}
	}
	return -ENOENT;
}

int bus_access(struct vm_bus *bus, enum bus_space space, uint64_t addr, void *data, uint32_t len,
	       int is_write)
{
	const struct bus_range *r = bus->ranges[space];
	unsigned int lo = 0, hi = bus->nr[space];

	if (!is_write)
		memset(data, 0xff, len);
	/* Binary search over the sorted, non-overlapping ranges. */
	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (addr < r[mid].base) {
			hi = mid;
		} else if (addr - r[mid].base >= r[mid].len) {
			lo = mid + 1;
		} else {
			if (len > r[mid].len - (addr - r[mid].base))
				break; /* straddles the end of the range */
			return r[mid].fn(r[mid].opaque, addr - r[mid].base, data, len, is_write);
		}
	}
	__atomic_fetch_add(&bus->unclaimed[space], 1, __ATOMIC_RELAXED);
	return -ENOENT;
}
