/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cmd.h"
#include "ctr/container.h"
#include "lib/error.h"

static const char usage[] = "usage: cabin state ID\n"
			    "Print the state of a container as the runtime-spec defines it.\n";

int cmd_state(int argc, char **argv, struct cabin_err **err)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	json_t *j = NULL;
	char *s;
	int c;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			return 0;
		}
		return cabin_err_make(err, 0, "state: bad option (see `cabin state --help`)");
	}
	if (optind + 1 != argc)
		return cabin_err_make(err, 0, "state: exactly one container ID is required");
	if (ctr_state_get(cabin_globals.root, argv[optind], &j, err) < 0)
		return -1;
	s = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	if (!s)
		return cabin_err_make(err, ENOMEM, "state: encode");
	puts(s);
	free(s);
	return 0;
}
