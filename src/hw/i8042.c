/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A minimal i8042 keyboard controller: no keyboard, no mouse; enough for
 * Linux's probe (status and command bytes, `i8042.noaux i8042.nomux
 * i8042.dumbkbd` on the command line) and for the reboot path, where
 * `reboot=k` makes the kernel write 0xFE (pulse the reset line) to port 0x64.
 * That request ends the VM with exit status 0, as in Firecracker.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hw/legacy.h"
#include "lib/error.h"
#include "vm/machine.h"

#define I8042_DATA 0x60
#define I8042_PORTB 0x61
#define I8042_CMD 0x64
#define I8042_CMD_READ_CTR 0x20
#define I8042_CMD_WRITE_CTR 0x60
#define I8042_CMD_SELF_TEST 0xaa
#define I8042_CMD_RESET 0xfe
#define I8042_STR_OBF 0x01
#define I8042_STR_SYS 0x04

struct i8042 {
	struct machine *m;
	pthread_mutex_t lock;
	uint8_t ctr; /* controller configuration byte */
	uint8_t out; /* output buffer */
	int out_full;
	int expect_ctr; /* next data write is the configuration byte */
	uint8_t portb;
};

static int i8042_io(void *opaque, uint64_t offset, void *data, uint32_t len, int is_write)
{
	struct i8042 *k = opaque;
	uint8_t *b = data;
	int reset = 0;

	pthread_mutex_lock(&k->lock);
	if (offset == I8042_CMD - I8042_DATA) {
		if (is_write) {
			switch (b[0]) {
			case I8042_CMD_READ_CTR:
				k->out = k->ctr, k->out_full = 1;
				break;
			case I8042_CMD_WRITE_CTR:
				k->expect_ctr = 1;
				break;
			case I8042_CMD_SELF_TEST:
				k->out = 0x55, k->out_full = 1;
				break;
			case I8042_CMD_RESET:
				reset = 1;
				break;
			default:
				break;
			}
		} else {
			memset(b, 0, len);
			b[0] = I8042_STR_SYS | (k->out_full ? I8042_STR_OBF : 0);
		}
	} else if (offset == I8042_PORTB - I8042_DATA) {
		if (is_write) {
			k->portb = b[0] & 0x0f;
		} else {
			/* Bit 5 (PIT output 2) toggles so that calibration loops progress. */
			k->portb ^= 0x20;
			memset(b, 0, len);
			b[0] = k->portb;
		}
	} else if (offset == 0) {
		if (is_write) {
			if (k->expect_ctr)
				k->ctr = b[0];
			k->expect_ctr = 0;
		} else {
			memset(b, 0, len);
			b[0] = k->out;
			k->out_full = 0;
		}
	}
	pthread_mutex_unlock(&k->lock);
	if (reset)
		machine_stop(k->m, 0);
	return 0;
}

static void i8042_fini(void *opaque)
{
	struct i8042 *k = opaque;

	bus_unregister(&k->m->bus, BUS_PIO, I8042_DATA);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

int hw_i8042_attach(struct machine *m, struct cabin_err **err)
{
	struct i8042 *k = calloc(1, sizeof(*k));
	struct machine_dev d = { .name = "i8042", .opaque = k, .fini = i8042_fini };
	int ret;

	if (!k)
		return cabin_err_make(err, ENOMEM, "allocate the i8042");
	k->m = m;
	k->ctr = 0x47;
	pthread_mutex_init(&k->lock, NULL);
	/* One range for 0x60-0x64; 0x62 and 0x63 read as zero. */
	ret = bus_register_pio(&m->bus, I8042_DATA, 5, i8042_io, k, "i8042");
	if (ret < 0) {
		pthread_mutex_destroy(&k->lock);
		free(k);
		return cabin_err_make(err, -ret, "claim ports `0x60`-`0x64` for the i8042");
	}
	ret = machine_dev_add(m, &d);
	if (ret < 0) {
		i8042_fini(k);
		return cabin_err_make(err, -ret, "record the i8042");
	}
	return 0;
}
