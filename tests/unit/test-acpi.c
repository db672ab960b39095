/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ACPI tables without a guest: build them for N vCPUs and M virtio-mmio
 * devices, then check them the way a kernel reads them: find the RSDP,
 * follow the XSDT, verify every signature, length and checksum, walk the
 * MADT's entries and decode the DSDT's AML (an independent decoder for the
 * subset the builder emits) down to each device's _HID, _UID and resources.
 * Finally the boot path: a bzImage load puts the tables at 0xe0000 and their
 * address in the zero page.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/error.h"
#include "unit/tap.h"
#include "vm/bus.h"
#include "vm/machine.h"
#include "vm/x86/acpi.h"
#include "vm/x86/boot.h"

#define GPA 0xe0000u
#define CAP 0x10000u

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static int sums_to_zero(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s == 0;
}

/* The table at guest address @gpa inside @buf (mapped at GPA), or NULL when out of range. */
static const uint8_t *table_at(const uint8_t *buf, uint64_t gpa, const char *sig)
{
	if (gpa < GPA || gpa - GPA + 36 > CAP)
		return NULL;
	const uint8_t *t = buf + (gpa - GPA);

	if (memcmp(t, sig, 4) || get32(t + 4) < 36 || gpa - GPA + get32(t + 4) > CAP)
		return NULL;
	return t;
}

static int table_ok(const uint8_t *t)
{
	return t && sums_to_zero(t, get32(t + 4));
}

/* ---- a minimal AML decoder for what the builder writes ---- */

#define MAX_DEVS 32

struct res_dec {
	unsigned int nr_io, nr_mem, nr_irq;
	uint16_t io[4], io_len[4];
	uint32_t mem[2], mem_len[2];
	uint32_t irq[4];
	uint8_t irq_flags[4];
	int end_ok;
};

struct dev_dec {
	char name[5];
	char hid[16];
	int has_uid;
	uint64_t uid;
	uint64_t cca;
	struct res_dec res;
};

struct dsdt_dec {
	int nr_devs;
	struct dev_dec devs[MAX_DEVS];
	int sb_scope;
	int nr_s5;
	uint64_t s5[8];
};

static int pkglen(const uint8_t **pp, const uint8_t *end, size_t *len)
{
	const uint8_t *p = *pp;
	unsigned int n;
	size_t v;

	if (p >= end)
		return -1;
	n = p[0] >> 6;
	if (n == 0) {
		v = p[0] & 0x3f;
	} else {
		if (p[0] & 0x30 || (size_t)(end - p) < n + 1)
			return -1;
		v = p[0] & 0xf;
		for (unsigned int i = 0; i < n; i++)
			v |= (size_t)p[1 + i] << (4 + 8 * i);
	}
	if (v < n + 1 || v > (size_t)(end - p))
		return -1;
	*pp = p + n + 1;
	*len = v - (n + 1); /* bytes after the PkgLength */
	return 0;
}

static int integer(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	const uint8_t *p = *pp;
	size_t n;

	if (p >= end)
		return -1;
	switch (p[0]) {
	case 0x00:
		*v = 0, n = 0;
		break;
	case 0x01:
		*v = 1, n = 0;
		break;
	case 0x0a:
		n = 1;
		break;
	case 0x0b:
		n = 2;
		break;
	case 0x0c:
		n = 4;
		break;
	case 0x0e:
		n = 8;
		break;
	default:
		return -1;
	}
	if ((size_t)(end - p) < n + 1)
		return -1;
	if (n) {
		*v = 0;
		for (size_t i = 0; i < n; i++)
			*v |= (uint64_t)p[1 + i] << (8 * i);
	}
	*pp = p + 1 + n;
	return 0;
}

static void eisa_text(uint32_t id, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	uint8_t b0 = (uint8_t)id, b1 = (uint8_t)(id >> 8), b2 = (uint8_t)(id >> 16),
		b3 = (uint8_t)(id >> 24);

	out[0] = (char)('@' + ((b0 >> 2) & 0x1f));
	out[1] = (char)('@' + (((b0 & 3) << 3) | b1 >> 5));
	out[2] = (char)('@' + (b1 & 0x1f));
	out[3] = hex[b2 >> 4];
	out[4] = hex[b2 & 0xf];
	out[5] = hex[b3 >> 4];
	out[6] = hex[b3 & 0xf];
	out[7] = 0;
}

static int resources(const uint8_t *p, size_t n, struct res_dec *r)
{
	size_t i = 0;

	memset(r, 0, sizeof(*r));
	while (i < n) {
		uint8_t tag = p[i];

		if (tag & 0x80) {
			if (i + 3 > n)
				return -1;
			size_t len = get16(p + i + 1);
			const uint8_t *d = p + i + 3;

			if (i + 3 + len > n)
				return -1;
			if (tag == 0x86 && len == 9 && r->nr_mem < 2) {
				r->mem[r->nr_mem] = get32(d + 1);
				r->mem_len[r->nr_mem++] = get32(d + 5);
			} else if (tag == 0x89 && len >= 6 && d[1] == 1 && r->nr_irq < 4) {
				r->irq_flags[r->nr_irq] = d[0];
				r->irq[r->nr_irq++] = get32(d + 2);
			} else {
				return -1;
			}
			i += 3 + len;
		} else {
			size_t len = tag & 7;
			const uint8_t *d = p + i + 1;

			if (i + 1 + len > n)
				return -1;
			if (tag == 0x47 && r->nr_io < 4) {
				if (get16(d + 1) != get16(d + 3))
					return -1;
				r->io[r->nr_io] = get16(d + 1);
				r->io_len[r->nr_io++] = d[6];
			} else if (tag == 0x79) {
				r->end_ok = i + 2 == n;
				return r->end_ok ? 0 : -1;
			} else {
				return -1;
			}
			i += 1 + len;
		}
	}
	return -1; /* no end tag */
}

static int name_obj(const uint8_t **pp, const uint8_t *end, struct dev_dec *d)
{
	const uint8_t *p = *pp;
	char seg[5] = { 0 };
	uint64_t v;

	if (end - p < 5)
		return -1;
	memcpy(seg, p + 1, 4);
	p += 5;
	if (p < end && p[0] == 0x0d) { /* String */
		const uint8_t *z = memchr(p + 1, 0, (size_t)(end - p - 1));

		if (!z || (size_t)(z - p - 1) >= sizeof(d->hid))
			return -1;
		if (!strcmp(seg, "_HID"))
			memcpy(d->hid, p + 1, (size_t)(z - p));
		p = z + 1;
	} else if (p < end && p[0] == 0x11) { /* Buffer */
		size_t len;
		const uint8_t *body;

		p++;
		if (pkglen(&p, end, &len) < 0)
			return -1;
		body = p;
		if (integer(&p, body + len, &v) < 0 || v != (uint64_t)(body + len - p))
			return -1;
		if (strcmp(seg, "_CRS") || resources(p, (size_t)v, &d->res) < 0)
			return -1;
		p = body + len;
	} else {
		if (integer(&p, end, &v) < 0)
			return -1;
		if (!strcmp(seg, "_HID"))
			eisa_text((uint32_t)v, d->hid);
		else if (!strcmp(seg, "_UID"))
			d->has_uid = 1, d->uid = v;
		else if (!strcmp(seg, "_CCA"))
			d->cca = v;
	}
	*pp = p;
	return 0;
}

static int term_list(const uint8_t *p, const uint8_t *end, struct dsdt_dec *dd, struct dev_dec *cur)
{
	while (p < end) {
		size_t len;
		const uint8_t *body;

		if (p[0] == 0x10) { /* Scope */
			p++;
			if (pkglen(&p, end, &len) < 0)
				return -1;
			body = p;
			if (len < 5 || body[0] != '\\' || memcmp(body + 1, "_SB_", 4))
				return -1;
			dd->sb_scope = 1;
			if (term_list(body + 5, body + len, dd, NULL) < 0)
				return -1;
			p = body + len;
		} else if (p[0] == 0x5b && end - p > 1 && p[1] == 0x82) { /* Device */
			p += 2;
			if (pkglen(&p, end, &len) < 0 || len < 4 || dd->nr_devs >= MAX_DEVS)
				return -1;
			body = p;
			struct dev_dec *d = &dd->devs[dd->nr_devs++];

			memcpy(d->name, body, 4);
			if (term_list(body + 4, body + len, dd, d) < 0)
				return -1;
			p = body + len;
		} else if (p[0] == 0x08 && cur) {
			if (name_obj(&p, end, cur) < 0)
				return -1;
		} else if (p[0] == 0x08 && end - p > 6 && !memcmp(p + 1, "_S5_", 4) &&
			   p[5] == 0x12) { /* Name(_S5_, Package() {...}) */
			p += 6;
			if (pkglen(&p, end, &len) < 0 || len < 1)
				return -1;
			body = p;
			unsigned int num = body[0];
			const uint8_t *q = body + 1;

			for (unsigned int i = 0; i < num && i < 8; i++)
				if (integer(&q, body + len, &dd->s5[dd->nr_s5++]) < 0)
					return -1;
			if (q != body + len)
				return -1;
			p = body + len;
		} else {
			return -1;
		}
	}
	return 0;
}

static const struct dev_dec *find_dev(const struct dsdt_dec *dd, const char *name)
{
	for (int i = 0; i < dd->nr_devs; i++)
		if (!strcmp(dd->devs[i].name, name))
			return &dd->devs[i];
	return NULL;
}

/* ---- the checks ---- */

struct found {
	const uint8_t *rsdp, *xsdt, *fadt, *madt, *dsdt;
};

/* Scan like Linux (16-byte steps, both checksums) and follow every pointer. */
static int follow(const uint8_t *buf, struct found *f)
{
	memset(f, 0, sizeof(*f));
	for (size_t off = 0; off + 36 <= CAP; off += 16)
		if (!memcmp(buf + off, "RSD PTR ", 8) && sums_to_zero(buf + off, 20) &&
		    sums_to_zero(buf + off, 36)) {
			f->rsdp = buf + off;
			break;
		}
	if (!f->rsdp)
		return -1;
	f->xsdt = table_at(buf, get64(f->rsdp + 24), "XSDT");
	if (!table_ok(f->xsdt))
		return -1;
	for (uint32_t i = 36; i + 8 <= get32(f->xsdt + 4); i += 8) {
		uint64_t a = get64(f->xsdt + i);

		if (table_at(buf, a, "FACP"))
			f->fadt = table_at(buf, a, "FACP");
		else if (table_at(buf, a, "APIC"))
			f->madt = table_at(buf, a, "APIC");
		else
			return -1;
	}
	if (!f->fadt || !f->madt)
		return -1;
	f->dsdt = table_at(buf, get64(f->fadt + 140), "DSDT");
	return f->dsdt ? 0 : -1;
}

static void check_tables(const uint8_t *buf, unsigned int ncpu, unsigned int nmmio)
{
	struct found f;
	struct dsdt_dec dd = { 0 };

	tap_diag("%u vCPUs, %u virtio-mmio devices", ncpu, nmmio);
	tap_ok(follow(buf, &f) == 0, "RSDP found by scan; XSDT -> FADT, MADT; FADT -> DSDT");
	if (!f.dsdt) {
		for (int i = 0; i < 15; i++)
			tap_ok(0, "(no tables)");
		return;
	}
	tap_ok(f.rsdp == buf && f.rsdp[15] == 2 && get32(f.rsdp + 20) == 36 &&
		       get32(f.rsdp + 16) == 0,
	       "RSDP at the start, revision 2, length 36, XSDT only");
	tap_ok(table_ok(f.xsdt) && get32(f.xsdt + 4) == 36 + 16, "XSDT: 2 entries, checksum");
	tap_ok(table_ok(f.fadt) && get32(f.fadt + 4) == 276 && f.fadt[8] == 6,
	       "FADT: revision 6, 276 bytes, checksum");
	tap_ok((get32(f.fadt + 112) & (1u << 20)) && (get16(f.fadt + 109) & 2) &&
		       get32(f.fadt + 40) == get64(f.fadt + 140) && get32(f.fadt + 76) == 0 &&
		       get16(f.fadt + 46) == 0,
	       "FADT: HW_REDUCED_ACPI, 8042 present, DSDT == X_DSDT, no PM timer, no SCI");
	/* GAS: SystemIO, 8 bits wide, byte access, at the port. */
	static const uint8_t gas[4] = { 1, 8, 0, 1 };

	tap_ok(!memcmp(f.fadt + 244, gas, 4) && get64(f.fadt + 248) == 0x600 &&
		       !memcmp(f.fadt + 256, gas, 4) && get64(f.fadt + 260) == 0x601 &&
		       !memcmp(f.fadt + 116, gas, 4) && get64(f.fadt + 120) == 0x602 &&
		       f.fadt[128] == 0x42 && (get32(f.fadt + 112) & (1u << 10)),
	       "FADT: sleep control/status at ports 0x600/0x601, reset register 0x602 = 0x42");

	/* MADT */
	const uint8_t *m = f.madt;
	uint32_t mlen = get32(m + 4), off = 44;
	unsigned int nlapic = 0, nioapic = 0, niso = 0, nnmi = 0, ids_ok = 1, walk_ok = 1;

	tap_ok(table_ok(m) && get32(m + 36) == X86_LAPIC_ADDR && (get32(m + 40) & 1),
	       "MADT: checksum, LAPIC at 0xfee00000, PCAT_COMPAT");
	while (off < mlen) {
		const uint8_t *e = m + off;

		if (off + 2 > mlen || e[1] < 2 || off + e[1] > mlen) {
			walk_ok = 0;
			break;
		}
		switch (e[0]) {
		case 0:
			if (e[1] != 8 || e[3] != nlapic || e[2] != nlapic || get32(e + 4) != 1)
				ids_ok = 0;
			nlapic++;
			break;
		case 1:
			if (e[1] == 12 && get32(e + 4) == X86_IOAPIC_ADDR && get32(e + 8) == 0 &&
			    e[2] >= ncpu)
				nioapic++;
			break;
		case 2:
			if (e[1] == 10 && e[2] == 0 && e[3] == 0 && get32(e + 4) == 2)
				niso++;
			break;
		case 4:
			if (e[1] == 6 && e[2] == 0xff && e[5] == 1)
				nnmi++;
			break;
		default:
			walk_ok = 0;
		}
		off += e[1];
	}
	tap_ok(walk_ok && off == mlen, "MADT: entries fill the table exactly");
	tap_ok(nlapic == ncpu && ids_ok, "MADT: %u enabled local APICs, IDs 0..%u", nlapic,
	       ncpu - 1);
	tap_ok(nioapic == 1 && niso == 1 && nnmi == 1,
	       "MADT: IOAPIC at 0xfec00000 GSI base 0, IRQ0 -> GSI 2 override, LINT1 NMI");

	/* DSDT */
	uint32_t dlen = get32(f.dsdt + 4);

	tap_ok(table_ok(f.dsdt) && f.dsdt[8] == 2, "DSDT: revision 2, checksum");
	tap_ok(term_list(f.dsdt + 36, f.dsdt + dlen, &dd, NULL) == 0 && dd.sb_scope,
	       "DSDT: AML decodes completely (Scope \\_SB_ with Devices)");
	tap_ok(dd.nr_s5 == 4 && dd.s5[0] == 5 && !dd.s5[1] && !dd.s5[2] && !dd.s5[3],
	       "DSDT: \\_S5 = Package { 5, 0, 0, 0 }");

	const struct dev_dec *com1 = find_dev(&dd, "COM1"), *kbd = find_dev(&dd, "PS2K"),
			     *rtc = find_dev(&dd, "RTC_");

	tap_ok(com1 && !strcmp(com1->hid, "PNP0501") && com1->res.nr_io == 1 &&
		       com1->res.io[0] == 0x3f8 && com1->res.io_len[0] == 8 &&
		       com1->res.nr_irq == 1 && com1->res.irq[0] == 4,
	       "DSDT: COM1 PNP0501, IO 0x3f8/8, IRQ 4");
	tap_ok(kbd && !strcmp(kbd->hid, "PNP0303") && kbd->res.nr_io == 2 &&
		       kbd->res.io[0] == 0x60 && kbd->res.io[1] == 0x64 && kbd->res.irq[0] == 1 &&
		       rtc && !strcmp(rtc->hid, "PNP0B00") && rtc->res.io[0] == 0x70 &&
		       rtc->res.io_len[0] == 2,
	       "DSDT: i8042 PNP0303 at 0x60/0x64 IRQ 1, RTC PNP0B00 at 0x70");

	unsigned int nvirt = 0, virt_ok = 1;

	for (int i = 0; i < dd.nr_devs; i++) {
		const struct dev_dec *d = &dd.devs[i];

		if (strcmp(d->hid, "LNRO0005"))
			continue;
		unsigned int k = nvirt++;
		char want[5] = { 'V', 'R', (char)('0' + k / 10), (char)('0' + k % 10), 0 };

		if (strcmp(d->name, want) || !d->has_uid || d->uid != k || d->cca != 1 ||
		    d->res.nr_mem != 1 || d->res.mem[0] != 0xd0000000u + 0x1000u * k ||
		    d->res.mem_len[0] != 0x1000 || d->res.nr_irq != 1 || d->res.irq[0] != 5 + k ||
		    d->res.irq_flags[0] != 0x03 || !d->res.end_ok)
			virt_ok = 0;
	}
	tap_ok(nvirt == nmmio && virt_ok,
	       "DSDT: %u LNRO0005 devices VRnn, _UID n, 4 KiB at 0xd0000000 + n * 0x1000, "
	       "GSI 5 + n edge/high/exclusive",
	       nvirt);
}

static void fill(struct x86_acpi_config *cfg, unsigned int ncpu, unsigned int nmmio)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->nr_cpus = ncpu;
	cfg->nr_mmio = nmmio;
	for (unsigned int i = 0; i < nmmio; i++) {
		cfg->mmio[i].base = MACHINE_MMIO_BASE + i * MACHINE_MMIO_SLOT_SIZE;
		cfg->mmio[i].size = MACHINE_MMIO_SLOT_SIZE;
		cfg->mmio[i].gsi = MACHINE_MMIO_GSI_BASE + i;
	}
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

/* A minimal bzImage (boot protocol 2.15): 4 setup sectors + 1, then 16 KiB of kernel. */
static char *write_bzimage(void)
{
	static char path[] = "/tmp/cabin-test-acpi-XXXXXX";
	size_t len = 5 * 512 + 0x4000;
	uint8_t *b = calloc(1, len);
	int fd = mkstemp(path);
	int ok;

	if (!b || fd < 0) {
		free(b);
		return NULL;
	}
	b[0x1f1] = 4;
	put16(b + 0x1fe, 0xaa55);
	b[0x200] = 0xeb;
	b[0x201] = 0x6a;
	memcpy(b + 0x202, "HdrS", 4);
	put16(b + 0x206, 0x020f);
	b[0x211] = 0x01;
	put32(b + 0x22c, 0x7fffffff);
	put16(b + 0x236, 0x1);
	put32(b + 0x238, 2048);
	put32(b + 0x260, 0x20000);
	ok = write(fd, b, len) == (ssize_t)len;
	close(fd);
	free(b);
	return ok ? path : NULL;
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/*
 * A minimal vmlinux: ELF64 with one PT_LOAD (paddr 2 MiB, entry at its start)
 * and, with @pvh, a PT_NOTE holding Xen's PHYS32_ENTRY (type 18).
 */
static char *write_elf(int pvh)
{
	static char path[] = "/tmp/cabin-test-acpi-elf-XXXXXX";
	uint8_t b[0x1100] = { 0 };
	uint8_t *ph = b + 64, *note = b + 0x200;
	int fd, ok;

	memcpy(path + strlen(path) - 6, "XXXXXX", 6);
	fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	memcpy(b, "\177ELF", 4);
	b[4] = 2;	   /* ELFCLASS64 */
	b[5] = 1;	   /* little-endian */
	put16(b + 18, 62); /* x86-64 */
	put64(b + 24, 0x200000);
	put64(b + 32, 64); /* e_phoff */
	put16(b + 54, 56); /* e_phentsize */
	put16(b + 56, pvh ? 2 : 1);
	put32(ph, 1); /* PT_LOAD */
	put64(ph + 8, 0x1000);
	put64(ph + 16, 0x200000);
	put64(ph + 24, 0x200000);
	put64(ph + 32, 0x100);
	put64(ph + 40, 0x1000);
	if (pvh) {
		ph += 56;
		put32(ph, 4); /* PT_NOTE */
		put64(ph + 8, 0x200);
		put64(ph + 32, 20);
		put32(note, 4);	     /* namesz */
		put32(note + 4, 4);  /* descsz */
		put32(note + 8, 18); /* XEN_ELFNOTE_PHYS32_ENTRY */
		memcpy(note + 12, "Xen", 4);
		put32(note + 16, 0x200000);
	}
	ok = write(fd, b, sizeof(b)) == (ssize_t)sizeof(b);
	close(fd);
	return ok ? path : NULL;
}

int main(void)
{
	static uint8_t buf[CAP];
	struct x86_acpi_config cfg;
	struct x86_acpi_layout lay;
	struct cabin_err *err = NULL;
	int ret;

	tap_plan(4 * 16 + 18);

	fill(&cfg, 1, 0);
	memset(buf, 0xaa, sizeof(buf));
	ret = x86_acpi_build(&cfg, buf, CAP, GPA, &lay, &err);
	if (ret < 0)
		tap_diag("%s", err->msg);
	cabin_err_release(&err);
	check_tables(buf, 1, 0);

	fill(&cfg, 3, 4);
	memset(buf, 0x55, sizeof(buf));
	ret = x86_acpi_build(&cfg, buf, CAP, GPA, &lay, &err);
	cabin_err_release(&err);
	check_tables(buf, 3, 4);

	/* The largest machine: the \_SB_ scope needs a multi-byte PkgLength. */
	fill(&cfg, MACHINE_MAX_VCPUS, MACHINE_MMIO_SLOTS);
	memset(buf, 0, sizeof(buf));
	ret = x86_acpi_build(&cfg, buf, CAP, GPA, &lay, &err);
	cabin_err_release(&err);
	check_tables(buf, MACHINE_MAX_VCPUS, MACHINE_MMIO_SLOTS);
	tap_ok(ret == 0 && lay.len <= CAP && lay.dsdt + get32(buf + lay.dsdt + 4) == lay.len,
	       "largest machine fits in %u bytes (%zu used)", CAP, lay.len);

	/* With a VT-d unit: a third XSDT entry, the DMAR table; the others unchanged. */
	fill(&cfg, 2, 3);
	cfg.vtd_base = 0xfed90000;
	cfg.vtd_intremap = 1;
	memset(buf, 0, sizeof(buf));
	ret = x86_acpi_build(&cfg, buf, CAP, GPA, &lay, &err);
	cabin_err_release(&err);
	{
		const uint8_t *xsdt = table_at(buf, GPA + lay.xsdt, "XSDT");
		const uint8_t *dmar = xsdt ? table_at(buf, get64(xsdt + 36 + 16), "DMAR") : NULL;

		tap_ok(ret == 0 && table_ok(xsdt) && get32(xsdt + 4) == 36 + 24 && table_ok(dmar) &&
			       table_ok(table_at(buf, get64(xsdt + 36 + 8), "APIC")),
		       "DMAR: the XSDT's third entry, checksum");
		tap_ok(dmar && dmar[36] == 47 && dmar[37] == 3 && get16(dmar + 48) == 0 &&
			       dmar[52] == 1 && get64(dmar + 56) == 0xfed90000 && dmar[64] == 3 &&
			       dmar[68] == 2 && dmar[69] == 0xff,
		       "DMAR: 48-bit, IR with x2APIC opted out, one DRHD for all PCI at "
		       "0xfed90000, "
		       "IOAPIC 2 at ff:00.0");
		cfg.vtd_intremap = 0;
		ret = x86_acpi_build(&cfg, buf, CAP, GPA, &lay, &err);
		cabin_err_release(&err);
		tap_ok(ret == 0 && dmar && dmar[37] == 0 && table_ok(dmar),
		       "DMAR of a unit without interrupt remapping: no INTR_REMAP flag");
	}
	/* With a PCI host: Device(PCI0), PNP0A03, its window and a _PRT, in a valid DSDT. */
	fill(&cfg, 2, 3);
	cfg.pci = 1;
	memset(buf, 0, sizeof(buf));
	ret = x86_acpi_build(&cfg, buf, CAP, GPA, &lay, &err);
	cabin_err_release(&err);
	{
		const uint8_t *d = buf + lay.dsdt;
		size_t n = get32(d + 4);
		static const uint8_t hid[] = { 0x41, 0xd0, 0x0a, 0x03 }; /* EISAID PNP0A03 */
		static const uint8_t win[] = { 0x00, 0x00, 0x00, 0xfe, 0xff, 0xff, 0xbf, 0xfe };

		tap_ok(ret == 0 && table_ok(d) && memmem(d, n, "PCI0", 4) &&
			       memmem(d, n, hid, sizeof(hid)) && memmem(d, n, "_PRT", 4) &&
			       memmem(d, n, win, sizeof(win)),
		       "DSDT with a PCI host: PCI0 (PNP0A03), window 0xfe000000-0xfebfffff, _PRT");
	}

	/* Bad configurations are refused with an error naming the value. */
	fill(&cfg, 0, 0);
	ret = x86_acpi_build(&cfg, buf, CAP, GPA, NULL, &err);
	tap_ok(ret < 0 && err && strstr(err->msg, "`0` vCPUs"), "0 vCPUs refused");
	cabin_err_release(&err);
	fill(&cfg, MACHINE_MAX_VCPUS + 1, 0);
	ret = x86_acpi_build(&cfg, buf, CAP, GPA, NULL, &err);
	tap_ok(ret < 0, "%d vCPUs refused", MACHINE_MAX_VCPUS + 1);
	cabin_err_release(&err);
	fill(&cfg, 1, 1);
	cfg.mmio[0].gsi = 24;
	ret = x86_acpi_build(&cfg, buf, CAP, GPA, NULL, &err);
	tap_ok(ret < 0 && err && strstr(err->msg, "`24`"), "GSI 24 (no IOAPIC pin) refused");
	cabin_err_release(&err);
	fill(&cfg, 1, 1);
	cfg.mmio[0].base = 0xfffff800;
	ret = x86_acpi_build(&cfg, buf, CAP, GPA, NULL, &err);
	tap_ok(ret < 0, "window crossing 4 GiB refused");
	cabin_err_release(&err);
	fill(&cfg, 2, 18);
	ret = x86_acpi_build(&cfg, buf, 600, GPA, NULL, &err);
	tap_ok(ret < 0 && err && strstr(err->msg, "does not fit"),
	       "a buffer too small for the DSDT is an error, not an overrun");
	cabin_err_release(&err);

	/* The boot path: vm_mem + a loaded bzImage. */
	struct machine m;
	struct x86_boot_state bs;
	char *kpath = write_bzimage();

	memset(&m, 0, sizeof(m));
	m.nr_vcpus = 2;
	m.next_mmio_slot = 3;
	tap_ok(kpath && vm_mem_init(&m.mem, 64ull << 20, 0, &err) == 0, "64 MiB guest");
	ret = x86_boot_load(&m, kpath, NULL, "console=ttyS0", NULL, NULL, NULL, 0, &bs, &err);
	tap_ok(ret == 0, "bzImage load (%s)", err ? err->msg : "ok");
	cabin_err_release(&err);
	if (kpath)
		unlink(kpath);
	tap_ok(ret == 0 && get64(m.mem.base + X86_ZERO_PAGE_ADDR + 0x70) == X86_ACPI_ADDR &&
		       !memcmp(m.mem.base + X86_ACPI_ADDR, "RSD PTR ", 8),
	       "zero page acpi_rsdp_addr = 0xe0000, where the RSDP is");
	if (ret == 0) {
		memcpy(buf, m.mem.base + X86_ACPI_ADDR, CAP);
		check_tables(buf, 2, 3);
	} else {
		for (int i = 0; i < 16; i++)
			tap_ok(0, "(load failed)");
	}

	/* The power registers the FADT names answer on the bus. */
	uint8_t v = (3 << 2) | 0x20; /* S3: not a state this machine has */

	bus_access(&m.bus, BUS_PIO, 0x600, &v, 1, 1);
	v = 0x01;
	bus_access(&m.bus, BUS_PIO, 0x602, &v, 1, 1);
	tap_ok(!m.stopping, "entering S3 or a wrong reset value leaves the VM running");
	v = (5 << 2) | 0x20;
	bus_access(&m.bus, BUS_PIO, 0x600, &v, 1, 1);
	tap_ok(m.stopping && m.exit_status == 0, "SLP_TYP 5 | SLP_EN powers off with status 0");
	m.stopping = 0;
	v = 0x42;
	bus_access(&m.bus, BUS_PIO, 0x602, &v, 1, 1);
	tap_ok(m.stopping && m.exit_status == 0, "the reset value ends the VM with status 0");
	vm_mem_fini(&m.mem);

	/* The other entry points: PVH start info's rsdp_paddr, the ELF 64-bit zero page. */
	for (int pvh = 1; pvh >= 0; pvh--) {
		char *epath = write_elf(pvh);

		memset(&m, 0, sizeof(m));
		m.nr_vcpus = 1;
		ret = epath && vm_mem_init(&m.mem, 64ull << 20, 0, &err) == 0
			      ? x86_boot_load(&m, epath, NULL, "", NULL, NULL, NULL, 0, &bs, &err)
			      : -1;
		if (epath)
			unlink(epath);
		if (err)
			tap_diag("%s", err->msg);
		cabin_err_release(&err);
		if (pvh)
			tap_ok(ret == 0 && bs.mode == X86_BOOT_PROT32 &&
				       get64(m.mem.base + X86_PVH_INFO_ADDR + 32) == X86_ACPI_ADDR,
			       "PVH: hvm_start_info.rsdp_paddr = 0xe0000");
		else
			tap_ok(ret == 0 && bs.mode == X86_BOOT_LONG64 &&
				       get64(m.mem.base + X86_ZERO_PAGE_ADDR + 0x70) ==
					       X86_ACPI_ADDR,
			       "ELF 64-bit entry: zero page acpi_rsdp_addr = 0xe0000");
		vm_mem_fini(&m.mem);
	}
	return tap_done();
}
