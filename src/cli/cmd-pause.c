/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>

#include "cli/cmd.h"
#include "ctr/container.h"
#include "lib/error.h"

static const char usage[] = "usage: cabin pause ID\nFreeze every process of a container.\n";

int cmd_pause(int argc, char **argv, struct cabin_err **err)
{
	const char *id = NULL;
	int ret = cmd_parse_id("pause", usage, argc, argv, &id, err);

	if (ret != 0)
		return ret < 0 ? ret : 0;
	return ctr_pause(cabin_globals.root, id, 1, err);
}
