/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cmd.h"
#include "ctr/container.h"
#include "lib/error.h"

static const char usage[] =
	"usage: cabin run [--bundle DIR] [--detach] [--pid-file FILE] [--console-socket SOCK]\n"
	"                 [--no-pivot] [--keep] [--no-subreaper] ID\n"
	"Create and start a container; in the foreground, wait for it, delete it (unless\n"
	"--keep) and exit with its status (128+N when killed by signal N). In the\n"
	"foreground cabin is the child subreaper of the container's processes unless\n"
	"--no-subreaper.\n";

int cmd_run(int argc, char **argv, struct cabin_err **err)
{
	struct ctr_create_opts o = { .root = cabin_globals.root };
	int ret = cmd_parse_create("run", usage, argc, argv, &o, err);

	if (ret != 0)
		return ret < 0 ? ret : 0;
	return ctr_run(&o, err);
}
