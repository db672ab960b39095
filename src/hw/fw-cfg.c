/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QEMU's fw_cfg, the port I/O interface only (docs/specs/fw_cfg.rst): a 16-bit
 * write to port 0x510 selects an item, byte reads of port 0x511 return its
 * bytes in order, then zeros. No DMA (the ID item says so) and no file
 * directory: only the numeric items a guest asks a PC about, the machine's
 * RAM size and CPU count. kvm-unit-tests reads its CPU count here.
 *
 * Writes to the data port are ignored, as on QEMU machines since 2.4.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hw/legacy.h"
#include "lib/endian.h"
#include "lib/error.h"
#include "vm/machine.h"

#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NOGRAPHIC 0x04
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_MAX_CPUS 0x0f
#define FW_CFG_ITEM_MAX 8

struct fw_cfg {
	struct machine *m;
	pthread_mutex_t lock;
	uint16_t key;
	uint32_t off;
	uint8_t item[FW_CFG_ITEM_MAX];
	uint32_t item_len;
};

/* Called with f->lock held: fill f->item for the key just selected. */
static void select_item(struct fw_cfg *f, uint16_t key)
{
	f->key = key;
	f->off = 0;
	f->item_len = 0;
	memset(f->item, 0, sizeof(f->item));
	switch (key) {
	case FW_CFG_SIGNATURE:
		memcpy(f->item, "QEMU", 4);
		f->item_len = 4;
		break;
	case FW_CFG_ID:
		put_le32(f->item, 1); /* traditional interface, no DMA */
		f->item_len = 4;
		break;
	case FW_CFG_RAM_SIZE:
		put_le64(f->item, f->m->mem.ram_size);
		f->item_len = 8;
		break;
	case FW_CFG_NOGRAPHIC:
		put_le16(f->item, 1);
		f->item_len = 2;
		break;
	case FW_CFG_NB_CPUS:
	case FW_CFG_MAX_CPUS:
		put_le16(f->item, (uint16_t)f->m->nr_vcpus);
		f->item_len = 2;
		break;
	default:
		break; /* unknown items read as zeros */
	}
}

static int fw_cfg_io(void *opaque, uint64_t offset, void *data, uint32_t len, int is_write)
{
	struct fw_cfg *f = opaque;
	uint8_t *b = data;

	pthread_mutex_lock(&f->lock);
	if (offset == 0) {
		if (is_write && len >= 2)
			select_item(f, get_le16(b));
		else if (is_write)
			select_item(f, b[0]);
		else
			memset(b, 0, len);
	} else if (is_write) {
		/* the data port is read-only */
	} else {
		for (uint32_t i = 0; i < len; i++, f->off++)
			b[i] = f->off < f->item_len ? f->item[f->off] : 0;
	}
	pthread_mutex_unlock(&f->lock);
	return 0;
}

static void fw_cfg_fini(void *opaque)
{
	struct fw_cfg *f = opaque;

	bus_unregister(&f->m->bus, BUS_PIO, HW_FW_CFG_PORT);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

int hw_fw_cfg_attach(struct machine *m, struct cabin_err **err)
{
	struct fw_cfg *f = calloc(1, sizeof(*f));
	struct machine_dev d = { .name = "fw_cfg", .opaque = f, .fini = fw_cfg_fini };
	int ret;

	if (!f)
		return cabin_err_make(err, ENOMEM, "allocate fw_cfg");
	f->m = m;
	pthread_mutex_init(&f->lock, NULL);
	ret = bus_register_pio(&m->bus, HW_FW_CFG_PORT, 2, fw_cfg_io, f, "fw_cfg");
	if (ret < 0) {
		pthread_mutex_destroy(&f->lock);
		free(f);
		return cabin_err_make(err, -ret, "claim ports `0x%x`-`0x%x` for fw_cfg",
				      HW_FW_CFG_PORT, HW_FW_CFG_PORT + 1);
	}
	ret = machine_dev_add(m, &d);
	if (ret < 0) {
		fw_cfg_fini(f);
		return cabin_err_make(err, -ret, "record fw_cfg");
	}
	return 0;
}
