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
	"                 [--no-pivot] ID\n"
	"Create and start a container; in the foreground, wait for it, delete it and exit\n"
	"with its status (128+N when killed by signal N).\n";

static int parse_fds(const char *arg, unsigned *out, struct cabin_err **err)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (end == arg || *end || v > 4096)
		return cabin_err_make(err, 0, "--preserve-fds `%s` must be a number (0..4096)",
				      arg);
	*out = (unsigned)v;
	return 0;
}

int cmd_run(int argc, char **argv, struct cabin_err **err)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "detach", no_argument, NULL, 'd' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "console-socket", required_argument, NULL, 'c' },
		{ "no-pivot", no_argument, NULL, 'P' },
		{ "no-new-keyring", no_argument, NULL, 'k' },
		{ "preserve-fds", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ctr_create_opts o = { .root = cabin_globals.root };
	int c;

	while ((c = getopt_long(argc, argv, "+b:dh", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o.bundle = optarg;
			break;
		case 'd':
			o.detach = 1;
			break;
		case 'p':
			o.pid_file = optarg;
			break;
		case 'c':
			o.console_socket = optarg;
			break;
		case 'P':
			o.no_pivot = 1;
			break;
		case 'k':
			break; /* keyrings are not namespaced: nothing to create */
		case 'f':
			if (parse_fds(optarg, &o.preserve_fds, err) < 0)
				return -1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return cabin_err_make(err, 0, "run: bad option (see `cabin run --help`)");
		}
	}
	if (optind + 1 != argc)
		return cabin_err_make(err, 0, "run: exactly one container ID is required");
	o.id = argv[optind];
	return ctr_run(&o, err);
}
