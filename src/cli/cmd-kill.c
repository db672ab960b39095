/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>

#include "cli/cmd.h"
#include "ctr/container.h"
#include "ctr/spec.h"
#include "lib/error.h"

static const char usage[] =
	"usage: cabin kill [--all] ID [SIGNAL]\n"
	"Send SIGNAL (default TERM; KILL, SIGKILL or 9) to the container's init,\n"
	"or with --all to every process of the container. Signal 0 only checks that\n"
	"the init is alive (exit 0) or not (exit 1), as kill(1).\n";

int cmd_kill(int argc, char **argv, struct cabin_err **err)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, all = 0, sig = SIGTERM;

	while ((c = getopt_long(argc, argv, "+ah", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			all = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return cabin_err_make(err, 0, "kill: bad option (see `cabin kill --help`)");
		}
	}
	if (optind >= argc || argc - optind > 2)
		return cabin_err_make(err, 0, "kill: usage: kill [--all] ID [SIGNAL]");
	if (argc - optind == 2) {
		sig = ctr_signal_parse(argv[optind + 1]);
		if (sig < 0)
			return cabin_err_make(err, 0, "kill: unknown signal `%s`",
					      argv[optind + 1]);
	}
	return ctr_kill(cabin_globals.root, argv[optind], sig, all, err);
}
