/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * acpi-dump - write the ACPI tables that cabin builds, for tools that read them.
 *   acpi-dump OUTDIR NCPUS [BASE:SIZE:GSI]...
 * Each BASE:SIZE:GSI (hex or decimal) is one virtio-mmio device; without any,
 * the devices are cabin's own slots 0-2. Writes OUTDIR/acpi.bin (everything
 * from the RSDP on, as it sits at 0xe0000 in guest memory) and one file per
 * table, OUTDIR/{rsdp,xsdt,facp,apic,dsdt}.dat, for `iasl -d`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/error.h"
#include "vm/x86/acpi.h"

static uint8_t buf[X86_ACPI_SIZE];

static int write_out(const char *dir, const char *name, const uint8_t *p, size_t n)
{
	char path[4096];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	if (!f) {
		fprintf(stderr, "acpi-dump: open `%s`: %s\n", path, strerror(errno));
		return -1;
	}
	ok = fwrite(p, 1, n, f) == n;
	if (fclose(f) != 0 || !ok) {
		fprintf(stderr, "acpi-dump: write `%s` failed\n", path);
		return -1;
	}
	return 0;
}

static uint32_t len_of(const uint8_t *t)
{
	return (uint32_t)t[4] | (uint32_t)t[5] << 8 | (uint32_t)t[6] << 16 | (uint32_t)t[7] << 24;
}

int main(int argc, char **argv)
{
	struct x86_acpi_config cfg = { 0 };
	struct x86_acpi_layout lay;
	struct cabin_err *err = NULL;

	if (argc < 3) {
		fprintf(stderr, "usage: acpi-dump OUTDIR NCPUS [BASE:SIZE:GSI]...\n");
		return 2;
	}
	cfg.nr_cpus = (unsigned int)strtoul(argv[2], NULL, 0);
	for (int i = 3; i < argc; i++) {
		char *e;
		struct x86_acpi_mmio *d;

		if (cfg.nr_mmio >= MACHINE_MMIO_SLOTS) {
			fprintf(stderr, "acpi-dump: too many devices\n");
			return 2;
		}
		d = &cfg.mmio[cfg.nr_mmio++];
		d->base = strtoull(argv[i], &e, 0);
		if (*e++ != ':')
			goto bad;
		d->size = (uint32_t)strtoul(e, &e, 0);
		if (*e++ != ':')
			goto bad;
		d->gsi = (uint32_t)strtoul(e, &e, 0);
		if (*e)
			goto bad;
		continue;
	bad:
		fprintf(stderr, "acpi-dump: `%s` is not BASE:SIZE:GSI\n", argv[i]);
		return 2;
	}
	if (argc == 3)
		for (; cfg.nr_mmio < 3; cfg.nr_mmio++) {
			cfg.mmio[cfg.nr_mmio].base =
				MACHINE_MMIO_BASE + cfg.nr_mmio * MACHINE_MMIO_SLOT_SIZE;
			cfg.mmio[cfg.nr_mmio].size = MACHINE_MMIO_SLOT_SIZE;
			cfg.mmio[cfg.nr_mmio].gsi = MACHINE_MMIO_GSI_BASE + cfg.nr_mmio;
		}
	if (x86_acpi_build(&cfg, buf, sizeof(buf), X86_ACPI_ADDR, &lay, &err) < 0) {
		fprintf(stderr, "acpi-dump: %s\n", err->msg);
		cabin_err_release(&err);
		return 1;
	}
	if (write_out(argv[1], "acpi.bin", buf, lay.len) < 0 ||
	    write_out(argv[1], "rsdp.dat", buf + lay.rsdp, 36) < 0 ||
	    write_out(argv[1], "xsdt.dat", buf + lay.xsdt, len_of(buf + lay.xsdt)) < 0 ||
	    write_out(argv[1], "facp.dat", buf + lay.fadt, len_of(buf + lay.fadt)) < 0 ||
	    write_out(argv[1], "apic.dat", buf + lay.madt, len_of(buf + lay.madt)) < 0 ||
	    write_out(argv[1], "dsdt.dat", buf + lay.dsdt, len_of(buf + lay.dsdt)) < 0)
		return 1;
	return 0;
}
