/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>

#include "cli/cmd.h"
#include "ctr/container.h"
#include "lib/error.h"

static const char usage[] = "usage: cabin start ID\nRelease the init of a created container: it "
			    "runs the process of config.json.\n";

int cmd_start(int argc, char **argv, struct cabin_err **err)
{
	const char *id = NULL;
	int ret = cmd_parse_id("start", usage, argc, argv, &id, err);

	if (ret != 0)
		return ret < 0 ? ret : 0;
	return ctr_start(cabin_globals.root, id, err);
}
