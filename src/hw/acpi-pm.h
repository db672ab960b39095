/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_HW_ACPI_PM_H
#define CABIN_HW_ACPI_PM_H

struct cabin_err;
struct machine;

/*
 * Hardware-reduced ACPI's power registers (ACPI 6.5 4.8.3.6-4.8.3.7), as
 * byte-wide I/O ports the FADT points to:
 *   HW_ACPI_SLEEP_CTL  sleep control: SLP_EN (bit 5) with SLP_TYP (bits 4-2) = 5,
 *                      i.e. entering S5, ends the VM with status 0 (power off)
 *   HW_ACPI_SLEEP_STS  sleep status: reads 0 (never woken), writes ignored
 *   HW_ACPI_RESET      reset register: HW_ACPI_RESET_VALUE ends the VM with
 *                      status 0, like the i8042 reset
 */
#define HW_ACPI_PM_PORT 0x600
#define HW_ACPI_SLEEP_CTL (HW_ACPI_PM_PORT + 0)
#define HW_ACPI_SLEEP_STS (HW_ACPI_PM_PORT + 1)
#define HW_ACPI_RESET (HW_ACPI_PM_PORT + 2)
#define HW_ACPI_PM_LEN 3
#define HW_ACPI_RESET_VALUE 0x42
#define HW_ACPI_SLP_TYP_S5 5 /* the value the DSDT's \_S5 package gives */

/**
 * hw_acpi_pm_attach() - claim the ports above on @m's bus.
 * Return: 0, or <0 with @err set.
 */
int hw_acpi_pm_attach(struct machine *m, struct cabin_err **err);

#endif
