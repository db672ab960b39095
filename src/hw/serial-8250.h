/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_HW_SERIAL_8250_H
#define CABIN_HW_SERIAL_8250_H

#include <stdint.h>

struct cabin_err;
struct machine;

#define HW_SERIAL_COM1_PORT 0x3f8
#define HW_SERIAL_COM1_IRQ 4

/**
 * hw_serial_attach() - an 8250/16550A UART at port @port (8 registers) raising @irq,
 * transmitting to @out_fd and, when @in_fd >= 0, receiving what a reader thread
 * reads from @in_fd. The device is recorded with machine_dev_add(); its fini
 * stops the reader. Return: 0, or <0 with @err set.
 */
int hw_serial_attach(struct machine *m, uint16_t port, unsigned int irq, int in_fd, int out_fd,
		     struct cabin_err **err);

#endif
