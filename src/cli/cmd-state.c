/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cmd.h"
#include "ctr/container.h"
#include "lib/cleanup.h"
#include "lib/error.h"

static const char usage[] = "usage: cabin state ID\n"
			    "Print the state of a container as the runtime-spec defines it.\n";

int cmd_state(int argc, char **argv, struct cabin_err **err)
{
	cleanup_json json_t *j = NULL;
	char *s;
	const char *id = NULL;
	int ret = cmd_parse_id("state", usage, argc, argv, &id, err);

	if (ret != 0)
		return ret < 0 ? ret : 0;
	if (ctr_state_get(cabin_globals.root, id, &j, err) < 0)
		return -1;
	s = json_dumps(j, JSON_INDENT(2));
	if (!s)
		return cabin_err_make(err, ENOMEM, "state: encode");
	puts(s);
	free(s);
	return 0;
}
