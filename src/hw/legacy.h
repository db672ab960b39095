/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_HW_LEGACY_H
#define CABIN_HW_LEGACY_H

#include <stdint.h>

struct cabin_err;
struct machine;

/*
 * The small PC devices a microVM keeps. Each claims its ports on m->bus and
 * records itself with machine_dev_add(); each returns 0 or <0 with @err set.
 */

/**
 * hw_i8042_attach() - keyboard controller at ports 0x60/0x64, only as far as a
 * guest needs it to reboot: command 0xFE (pulse reset) written to port 0x64
 * ends the VM with status 0, as Firecracker does. Also claims port 0x61
 * (system control port B), which Linux reads while calibrating.
 */
int hw_i8042_attach(struct machine *m, struct cabin_err **err);

/** hw_rtc_attach() - MC146818 CMOS/RTC at ports 0x70/0x71, reading the host's UTC time. */
int hw_rtc_attach(struct machine *m, struct cabin_err **err);

#define HW_EXIT_PORT 0x501

/**
 * hw_exit_port_attach() - the exit port at HW_EXIT_PORT: a guest write of N
 * ends the VM with exit status N (see exit-port.c).
 */
int hw_exit_port_attach(struct machine *m, struct cabin_err **err);

/** hw_debug_port_attach() - port 0x80 (POST codes / I/O delay): writes are ignored quietly. */
int hw_debug_port_attach(struct machine *m, struct cabin_err **err);

#define HW_PCI_CONFIG_PORT 0xcf8

/**
 * hw_pci_none_attach() - ports 0xcf8-0xcff of a machine without a PCI host bridge:
 * reads return all ones, writes are ignored, quietly (see pci-none.c).
 */
int hw_pci_none_attach(struct machine *m, struct cabin_err **err);

#define HW_FW_CFG_PORT 0x510

/**
 * hw_fw_cfg_attach() - QEMU's fw_cfg at ports 0x510/0x511 (selector, data),
 * offering the signature, RAM size and CPU count (see fw-cfg.c).
 */
int hw_fw_cfg_attach(struct machine *m, struct cabin_err **err);

/**
 * hw_testdev_attach() - QEMU's isa-debug-exit at @exit_port (a write of V ends
 * the VM with status (V << 1) | 1) and pc-testdev (ports 0xe0-0xe7, 0x2000-0x2017),
 * the devices kvm-unit-tests talks to (see testdev.c).
 */
int hw_testdev_attach(struct machine *m, uint16_t exit_port, struct cabin_err **err);

#endif
