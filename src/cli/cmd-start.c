/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "cli/cmd.h"
#include "ctr/container.h"
#include "lib/error.h"

static const char usage[] = "usage: cabin start ID\nRelease the init of a created container: it "
			    "runs the process of config.json.\n";

int cmd_start(int argc, char **argv, struct cabin_err **err)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			return 0;
		}
		return cabin_err_make(err, 0, "start: bad option (see `cabin start --help`)");
	}
	if (optind + 1 != argc)
		return cabin_err_make(err, 0, "start: exactly one container ID is required");
	return ctr_start(cabin_globals.root, argv[optind], err);
}
