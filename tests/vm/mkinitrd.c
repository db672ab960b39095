/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mkinitrd - test driver for vm_initrd_build():
 *   mkinitrd OUT INIT [-m MODULES_DIR] [EXTRA[:GUEST]]...
 * and for vm_initrd_modules(): mkinitrd --modules MODULES_DIR (prints the load order).
 */
#include <stdio.h>
#include <string.h>

#include "lib/error.h"
#include "lib/strv.h"
#include "vm/initrd.h"

int main(int argc, char **argv)
{
	cleanup_err struct cabin_err *err = NULL;
	cleanup_strv char **extra = NULL;
	const char *mods = NULL;

	if (argc == 3 && !strcmp(argv[1], "--modules")) {
		cleanup_strv char **order = NULL;
		if (vm_initrd_modules(argv[2], vm_initrd_default_modules, &order, &err) < 0) {
			fprintf(stderr, "mkinitrd: %s\n", cabin_err_msg(err));
			return 1;
		}
		for (char **p = order; *p; p++)
			printf("%s\n", *p);
		return 0;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: mkinitrd OUT INIT [-m MODULES_DIR] [EXTRA[:GUEST]]...\n");
		return 2;
	}
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "-m") && i + 1 < argc)
			mods = argv[++i];
		else
			strv_append(&extra, argv[i]);
	}
	if (vm_initrd_build(argv[1], argv[2], mods, extra, &err) < 0) {
		fprintf(stderr, "mkinitrd: %s\n", cabin_err_msg(err));
		return 1;
	}
	return 0;
}
