/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>

#include "cli/cmd.h"
#include "ctr/container.h"
#include "lib/error.h"

static const char usage[] = "usage: cabin resume ID\nThaw a paused container.\n";

int cmd_resume(int argc, char **argv, struct cabin_err **err)
{
	const char *id = NULL;
	int ret = cmd_parse_id("resume", usage, argc, argv, &id, err);

	if (ret != 0)
		return ret < 0 ? ret : 0;
	return ctr_pause(cabin_globals.root, id, 0, err);
}
