/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The exit port: how a guest reports its result to the VMM.
 *
 *   outb %al, $0x501      (or outw / outl with %ax / %eax, port in %dx)
 *
 * ends the VM; `cabin vm run` then exits with status N, the value written.
 * A byte write gives N in 0..255 directly. For a word or dword write, values
 * above 255 cannot be a process exit status, so they are reported as 255
 * rather than truncated (a truncated 256 would read as success). Reads
 * return 0. The first report wins: a later write, a reboot request or a
 * triple fault does not change the status.
 *
 * Test guests and cabin's Linux guest init use it to pass the exit status of
 * the command they ran. Unlike QEMU's isa-debug-exit, the value is not
 * shifted: writing 0 means success.
 */
#include <errno.h>
#include <string.h>

#include "hw/legacy.h"
#include "lib/error.h"
#include "vm/machine.h"

static int exit_port_io(void *opaque, uint64_t offset, void *data, uint32_t len, int is_write)
{
	struct machine *m = opaque;
	uint32_t v = 0;

	if (!is_write) {
		memset(data, 0, len);
		return 0;
	}
	/* The range is 4 bytes wide so outw/outl fit, but only 0x501 itself is the port. */
	if (offset != 0)
		return 0;
	memcpy(&v, data, len > 4 ? 4 : len);
	machine_stop(m, v > 255 ? 255 : (int)v);
	return 0;
}

int hw_exit_port_attach(struct machine *m, struct cabin_err **err)
{
	int ret = bus_register_pio(&m->bus, HW_EXIT_PORT, 4, exit_port_io, m, "exit-port");

	if (ret < 0)
		return cabin_err_make(err, -ret, "claim the exit port `0x%x`", HW_EXIT_PORT);
	return 0;
}

static int debug_port_io(void *opaque, uint64_t offset, void *data, uint32_t len, int is_write)
{
	return 0; /* reads keep the bus's all-ones */
}

int hw_debug_port_attach(struct machine *m, struct cabin_err **err)
{
	int ret = bus_register_pio(&m->bus, 0x80, 1, debug_port_io, m, "debug-port");

	if (ret < 0)
		return cabin_err_make(err, -ret, "claim port `0x80`");
	return 0;
}
