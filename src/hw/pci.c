/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A conventional PCI bus 0 with configuration mechanism #1 (PCI Local Bus 3.0,
 * 3.2.2.3.2): a dword write with bit 31 set to port 0xcf8 selects bus, device,
 * function and register; ports 0xcfc-0xcff then read or write that register's
 * bytes. Only bus 0, function 0 of each slot exists; everything else reads as all
 * ones, as an absent device does.
 *
 * Each device's 256-byte type 0 header is kept here with a mask of the bits the
 * guest may write and a mask of the bits it clears by writing ones (the status
 * errors), so that no device model parses configuration writes. cabin places the
 * memory BARs as firmware would (the guest may be a bare kernel with no BIOS to do
 * it) and turns memory decoding on; accesses to the host's MMIO window are then
 * routed to whichever enabled BAR covers them, looked up at access time, so a BAR
 * the guest sizes (writes all ones) or moves never needs the bus to be
 * re-registered under the vCPUs' feet.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hw/legacy.h"
#include "hw/pci.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "vm/machine.h"

#define CFG_VENDOR 0x00
#define CFG_COMMAND 0x04
#define CFG_STATUS 0x06
#define CFG_REVISION 0x08
#define CFG_CACHE_LINE 0x0c
#define CFG_HEADER 0x0e
#define CFG_BAR0 0x10
#define CFG_SUBSYS_VENDOR 0x2c
#define CFG_CAP_PTR 0x34
#define CFG_INT_LINE 0x3c
#define CFG_INT_PIN 0x3d

#define CMD_IO (1u << 0)
#define CMD_MEM (1u << 1)
#define CMD_MASTER (1u << 2)
#define CMD_PARITY (1u << 6)
#define CMD_SERR (1u << 8)
#define CMD_INTX_OFF (1u << 10)
#define STATUS_INTX (1u << 3)
#define STATUS_CAPS (1u << 4)
#define STATUS_ERRORS 0xf900u /* parity, SERR, master/target aborts: write 1 to clear */

#define MSI_CAP 0x40 /* id, next, control (enable bit 0, 64-bit bit 7), address, data */
#define MSI_CTRL (MSI_CAP + 2)
#define MSI_ADDR_LO (MSI_CAP + 4)
#define MSI_ADDR_HI (MSI_CAP + 8)
#define MSI_DATA (MSI_CAP + 12)

struct pci_dev {
	struct pci_bus *bus;
	struct pci_dev_info info;
	uint8_t devfn;
	int intx; /* what the device asks for; the line also needs INTx enabled */
	uint8_t cfg[256];
	uint8_t wmask[256];
	uint8_t w1cmask[256];
};

struct pci_bus {
	struct machine *m;
	pthread_mutex_t lock; /* the address register, every header, the INTx line */
	uint32_t addr;	      /* port 0xcf8 */
	int line;	      /* the level last driven on MACHINE_PCI_INTX_GSI */
	uint64_t next_bar;    /* placement of the next BAR inside the window */
	struct pci_dev *slot[HW_PCI_MAX_SLOTS];
};

static uint32_t cfg_get(const struct pci_dev *d, unsigned int off, unsigned int len)
{
	uint32_t v = 0;

	memcpy(&v, d->cfg + off, len);
	return v;
}

static void cfg_set(uint8_t *a, unsigned int off, uint32_t v, unsigned int len)
{
	memcpy(a + off, &v, len);
}

/* Called with the lock held: drive the shared line with the OR of every device's INTx. */
static void intx_update(struct pci_bus *b)
{
	int level = 0;

	for (unsigned int i = 0; i < HW_PCI_MAX_SLOTS; i++) {
		struct pci_dev *d = b->slot[i];

		if (d && d->intx && !(cfg_get(d, CFG_COMMAND, 2) & CMD_INTX_OFF))
			level = 1;
	}
	if (level != b->line) {
		b->line = level;
		machine_irq_line(b->m, MACHINE_PCI_INTX_GSI, level);
	}
}

static void cfg_write(struct pci_dev *d, unsigned int off, uint32_t v, unsigned int len)
{
	for (unsigned int i = 0; i < len; i++) {
		unsigned int o = off + i;
		uint8_t b = (uint8_t)(v >> (8 * i));

		d->cfg[o] = (uint8_t)((d->cfg[o] & ~d->wmask[o]) | (b & d->wmask[o]));
		d->cfg[o] &= (uint8_t) ~(b & d->w1cmask[o]);
	}
}

static int config_io(void *opaque, uint64_t offset, void *data, uint32_t len, int is_write)
{
	struct pci_bus *b = opaque;
	uint32_t v = 0;

	pthread_mutex_lock(&b->lock);
	if (offset == 0) {
		/* the address register answers dword accesses only */
		if (len == 4 && is_write) {
			memcpy(&b->addr, data, 4);
			b->addr &= 0x80ffffffu;
		} else if (len == 4) {
			memcpy(data, &b->addr, 4);
		}
	} else if (offset >= 4) {
		/*
		 * As QEMU's host bridge (and so as kvm-unit-tests expects), the register's
		 * low two bits in 0xcf8 are ORed with the data port's byte offset.
		 */
		unsigned int reg = (b->addr & 0xff) | (unsigned int)(offset - 4);
		unsigned int bus = (b->addr >> 16) & 0xff, devfn = (b->addr >> 8) & 0xff;
		struct pci_dev *d = NULL;

		if ((b->addr & 0x80000000u) && bus == 0 && (devfn & 7) == 0 && reg + len <= 256)
			d = b->slot[devfn >> 3];
		if (d && is_write) {
			memcpy(&v, data, len);
			cfg_write(d, reg, v, len);
			if (reg < CFG_COMMAND + 2 && reg + len > CFG_COMMAND + 1)
				intx_update(b); /* INTx disable may have changed */
		} else if (d) {
			v = cfg_get(d, reg, len);
			memcpy(data, &v, len);
		}
	}
	pthread_mutex_unlock(&b->lock);
	return 0;
}

/* The memory window: find the enabled BAR that covers @offset, then call its device. */
static int window_io(void *opaque, uint64_t offset, void *data, uint32_t len, int is_write)
{
	struct pci_bus *b = opaque;
	uint64_t addr = HW_PCI_MMIO_BASE + offset;
	bus_io_fn fn = NULL;
	void *dev_opaque = NULL;
	uint64_t at = 0;

	pthread_mutex_lock(&b->lock);
	for (unsigned int i = 0; i < HW_PCI_MAX_SLOTS && !fn; i++) {
		struct pci_dev *d = b->slot[i];
		uint64_t base, size;

		if (!d || !d->info.bar0_size || !(cfg_get(d, CFG_COMMAND, 2) & CMD_MEM))
			continue;
		size = d->info.bar0_size;
		base = cfg_get(d, CFG_BAR0, 4) & ~0xfu;
		if (addr >= base && addr - base < size && len <= size - (addr - base)) {
			fn = d->info.bar0_fn;
			dev_opaque = d->info.opaque;
			at = addr - base;
		}
	}
	pthread_mutex_unlock(&b->lock);
	/* the device runs without the bus lock: it may assert INTx or send an MSI */
	if (!fn)
		return -ENOENT;
	return fn(dev_opaque, at, data, len, is_write);
}

static struct pci_dev *dev_new(struct pci_bus *b, const struct pci_dev_info *info, uint8_t devfn)
{
	struct pci_dev *d = xcalloc(1, sizeof(*d));

	d->bus = b;
	d->info = *info;
	d->devfn = devfn;
	cfg_set(d->cfg, CFG_VENDOR, info->vendor_id | (uint32_t)info->device_id << 16, 4);
	cfg_set(d->cfg, CFG_REVISION, info->revision | info->class_code << 8, 4);
	cfg_set(d->cfg, CFG_SUBSYS_VENDOR, info->vendor_id | 0x1100u << 16, 4);
	cfg_set(d->wmask, CFG_COMMAND,
		CMD_IO | CMD_MEM | CMD_MASTER | CMD_PARITY | CMD_SERR | CMD_INTX_OFF, 2);
	cfg_set(d->w1cmask, CFG_STATUS, STATUS_ERRORS, 2);
	d->wmask[CFG_CACHE_LINE] = 0xff;
	d->wmask[CFG_CACHE_LINE + 1] = 0xff; /* latency timer */
	if (info->irq_pin) {
		d->cfg[CFG_INT_PIN] = info->irq_pin;
		d->cfg[CFG_INT_LINE] = MACHINE_PCI_INTX_GSI;
		d->wmask[CFG_INT_LINE] = 0xff; /* firmware's note to the OS; nothing decodes it */
	}
	if (info->msi) {
		cfg_set(d->cfg, CFG_STATUS, STATUS_CAPS, 2);
		d->cfg[CFG_CAP_PTR] = MSI_CAP;
		cfg_set(d->cfg, MSI_CAP, 0x05 | 0x80u << 16, 4); /* MSI, last, 64-bit, 1 vector */
		cfg_set(d->wmask, MSI_CTRL, 0x0001, 2);		 /* enable; one vector only */
		cfg_set(d->wmask, MSI_ADDR_LO, 0xfffffffcu, 4);
		cfg_set(d->wmask, MSI_ADDR_HI, 0xffffffffu, 4);
		cfg_set(d->wmask, MSI_DATA, 0xffff, 2);
	}
	if (info->bar0_size) {
		uint64_t size = info->bar0_size;

		b->next_bar = (b->next_bar + size - 1) & ~(size - 1);
		cfg_set(d->cfg, CFG_BAR0, (uint32_t)(HW_PCI_MMIO_BASE + b->next_bar), 4);
		cfg_set(d->wmask, CFG_BAR0, ~(uint32_t)(size - 1), 4);
		b->next_bar += size;
		/* what firmware leaves behind: memory decoding on, bus mastering off */
		cfg_set(d->cfg, CFG_COMMAND, CMD_MEM, 2);
	}
	return d;
}

static void pci_fini(void *opaque)
{
	struct pci_bus *b = opaque;

	bus_unregister(&b->m->bus, BUS_MMIO, HW_PCI_MMIO_BASE);
	bus_unregister(&b->m->bus, BUS_PIO, HW_PCI_CONFIG_PORT);
	for (unsigned int i = 0; i < HW_PCI_MAX_SLOTS; i++)
		free(b->slot[i]);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

int hw_pci_attach(struct machine *m, struct cabin_err **err)
{
	static const struct pci_dev_info host = {
		.name = "host-bridge",
		.vendor_id = 0x8086,
		.device_id = 0x0d57,
		.class_code = 0x060000, /* bridge, host */
	};
	struct pci_bus *b = xcalloc(1, sizeof(*b));
	int ret;

	b->m = m;
	pthread_mutex_init(&b->lock, NULL);
	b->slot[0] = dev_new(b, &host, 0);
	ret = bus_register_pio(&m->bus, HW_PCI_CONFIG_PORT, 8, config_io, b, "pci-config");
	if (ret < 0) {
		pci_fini(b);
		return cabin_err_make(err, -ret, "claim the PCI configuration ports `0x%x`",
				      HW_PCI_CONFIG_PORT);
	}
	ret = bus_register_mmio(&m->bus, HW_PCI_MMIO_BASE, HW_PCI_MMIO_SIZE, window_io, b,
				"pci-window");
	if (ret < 0) {
		pci_fini(b);
		return cabin_err_make(err, -ret, "claim the PCI memory window `0x%llx`",
				      (unsigned long long)HW_PCI_MMIO_BASE);
	}
	ret = machine_dev_add(
		m, &(struct machine_dev){ .name = "pci", .opaque = b, .fini = pci_fini });
	if (ret < 0) {
		pci_fini(b);
		return cabin_err_make(err, -ret, "add the PCI host");
	}
	m->pci = b;
	return 0;
}

int hw_pci_dev_add(struct machine *m, const struct pci_dev_info *info, struct pci_dev **out,
		   struct cabin_err **err)
{
	struct pci_bus *b = m->pci;
	unsigned int slot;
	uint32_t size = info->bar0_size;

	if (!b)
		return cabin_err_make(err, ENODEV, "`%s` needs a PCI host", info->name);
	if (size && (size < 4096 || (size & (size - 1))))
		return cabin_err_make(err, EINVAL, "`%s`: BAR size `%u` is not a power of two",
				      info->name, size);
	pthread_mutex_lock(&b->lock);
	for (slot = 1; slot < HW_PCI_MAX_SLOTS && b->slot[slot]; slot++)
		;
	if (slot == HW_PCI_MAX_SLOTS ||
	    ((b->next_bar + size - 1) & ~((uint64_t)size - 1)) + size > HW_PCI_MMIO_SIZE) {
		pthread_mutex_unlock(&b->lock);
		return cabin_err_make(err, ENOSPC, "no room on the PCI bus for `%s`", info->name);
	}
	b->slot[slot] = dev_new(b, info, (uint8_t)(slot << 3));
	*out = b->slot[slot];
	pthread_mutex_unlock(&b->lock);
	return 0;
}

uint16_t hw_pci_dev_sid(const struct pci_dev *d)
{
	return d->devfn; /* bus 0 */
}

void hw_pci_set_irq(struct pci_dev *d, int level)
{
	struct pci_bus *b = d->bus;

	pthread_mutex_lock(&b->lock);
	d->intx = !!level;
	if (level)
		d->cfg[CFG_STATUS] |= STATUS_INTX;
	else
		d->cfg[CFG_STATUS] &= (uint8_t)~STATUS_INTX;
	intx_update(b);
	pthread_mutex_unlock(&b->lock);
}

int hw_pci_msi_enabled(struct pci_dev *d)
{
	int on;

	if (!d->info.msi)
		return 0;
	pthread_mutex_lock(&d->bus->lock);
	on = cfg_get(d, MSI_CTRL, 2) & 1;
	pthread_mutex_unlock(&d->bus->lock);
	return on;
}

int hw_pci_msi_notify(struct pci_dev *d)
{
	struct pci_bus *b = d->bus;
	uint64_t addr;
	uint32_t data;
	int master;

	pthread_mutex_lock(&b->lock);
	master = cfg_get(d, CFG_COMMAND, 2) & CMD_MASTER;
	addr = cfg_get(d, MSI_ADDR_LO, 4) | (uint64_t)cfg_get(d, MSI_ADDR_HI, 4) << 32;
	data = cfg_get(d, MSI_DATA, 2);
	pthread_mutex_unlock(&b->lock);
	/* an MSI is a memory write of the device: it needs bus mastering */
	if (!master)
		return -EPERM;
	if ((addr >> 20) != 0xfee) {
		static unsigned long bad_msi;

		if (hw_log_ratelimit(&bad_msi))
			log_warn("pci %02x.%x: MSI address `0x%llx` is not an interrupt address; "
				 "dropped",
				 d->devfn >> 3, d->devfn & 7, (unsigned long long)addr);
		return -EINVAL;
	}
	return machine_msi(b->m, hw_pci_dev_sid(d), addr, data);
}

int hw_pci_dma(struct pci_dev *d, uint64_t addr, void *buf, uint64_t len, int is_write)
{
	int master;

	pthread_mutex_lock(&d->bus->lock);
	master = cfg_get(d, CFG_COMMAND, 2) & CMD_MASTER;
	pthread_mutex_unlock(&d->bus->lock);
	if (!master)
		return -EPERM;
	return machine_dma_rw(d->bus->m, hw_pci_dev_sid(d), addr, buf, len, is_write);
}
