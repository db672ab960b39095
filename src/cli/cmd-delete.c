/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "cli/cmd.h"
#include "ctr/container.h"
#include "lib/error.h"

static const char usage[] = "usage: cabin delete [--force] ID\n"
			    "Delete a stopped or created container; --force kills a running one.\n";

int cmd_delete(int argc, char **argv, struct cabin_err **err)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, force = 0;

	while ((c = getopt_long(argc, argv, "+fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return cabin_err_make(err, 0,
					      "delete: bad option (see `cabin delete --help`)");
		}
	}
	if (optind + 1 != argc)
		return cabin_err_make(err, 0, "delete: exactly one container ID is required");
	return ctr_delete(cabin_globals.root, argv[optind], force, err);
}
