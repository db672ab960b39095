/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ACPI sleep control, sleep status and reset registers of a
 * hardware-reduced machine (see acpi-pm.h). Linux powers off by writing
 * (SLP_TYP << 2) | SLP_EN to the sleep control register after clearing
 * WAK_STS in the status register (acpi_hw_extended_sleep), and reboots with
 * reboot=acpi by writing RESET_VALUE to the reset register (acpi_reboot).
 * Anything else a guest writes is ignored: no sleep state but S5 exists.
 */
#include <string.h>

#include "hw/acpi-pm.h"
#include "lib/error.h"
#include "vm/machine.h"

#define SLP_EN 0x20
#define SLP_TYP_SHIFT 2
#define SLP_TYP_MASK 0x1c

static int acpi_pm_io(void *opaque, uint64_t offset, void *data, uint32_t len, int is_write)
{
	struct machine *m = opaque;
	uint8_t v;

	if (!is_write) {
		memset(data, 0, len);
		return 0;
	}
	v = *(const uint8_t *)data; /* byte registers: a wider write counts by its low byte */
	switch (offset) {
	case HW_ACPI_SLEEP_CTL - HW_ACPI_PM_PORT:
		if ((v & SLP_EN) && (v & SLP_TYP_MASK) >> SLP_TYP_SHIFT == HW_ACPI_SLP_TYP_S5)
			machine_stop(m, 0);
		break;
	case HW_ACPI_RESET - HW_ACPI_PM_PORT:
		if (v == HW_ACPI_RESET_VALUE)
			machine_stop(m, 0);
		break;
	default:
		break;
	}
	return 0;
}

int hw_acpi_pm_attach(struct machine *m, struct cabin_err **err)
{
	int ret;

	/* Idempotent: loading a kernel again into the same machine keeps the ports. */
	for (unsigned int i = 0; i < m->bus.nr[BUS_PIO]; i++) {
		const struct bus_range *r = &m->bus.ranges[BUS_PIO][i];

		if (r->base == HW_ACPI_PM_PORT && r->fn == acpi_pm_io && r->opaque == m)
			return 0;
	}
	ret = bus_register_pio(&m->bus, HW_ACPI_PM_PORT, HW_ACPI_PM_LEN, acpi_pm_io, m, "acpi-pm");
	if (ret < 0)
		return cabin_err_make(err, -ret, "claim the ACPI power ports `0x%x`",
				      HW_ACPI_PM_PORT);
	return 0;
}
