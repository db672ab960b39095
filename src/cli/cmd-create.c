/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "ctr/container.h"
#include "lib/error.h"

static const char usage[] =
	"usage: cabin create [--bundle DIR] [--pid-file FILE] [--console-socket SOCK] [--no-pivot] "
	"ID\n"
	"Create a container from the bundle DIR (default: .); `cabin start ID` runs it.\n";

int cmd_parse_fds(const char *arg, unsigned *out, struct cabin_err **err)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (end == arg || *end || v > 4096)
		return cabin_err_make(err, 0, "--preserve-fds `%s` must be a number (0..4096)",
				      arg);
	*out = (unsigned)v;
	return 0;
}

int cmd_parse_create(const char *verb, const char *usage_text, int argc, char **argv,
		     struct ctr_create_opts *o, struct cabin_err **err)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "detach", no_argument, NULL, 'd' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "console-socket", required_argument, NULL, 'c' },
		{ "no-pivot", no_argument, NULL, 'P' },
		{ "no-new-keyring", no_argument, NULL, 'k' },
		{ "preserve-fds", required_argument, NULL, 'f' },
		{ "keep", no_argument, NULL, 'K' },
		{ "no-subreaper", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int is_run = !strcmp(verb, "run");
	int c;

	while ((c = getopt_long(argc, argv, is_run ? "+b:dh" : "+b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->bundle = optarg;
			break;
		case 'd':
			/* `create` always detaches; only `run` has a foreground. */
			if (!is_run)
				return cabin_err_make(err, 0, "create: --detach is only for `run`");
			o->detach = 1;
			break;
		case 'p':
			o->pid_file = optarg;
			break;
		case 'c':
			o->console_socket = optarg;
			break;
		case 'P':
			o->no_pivot = 1;
			break;
		case 'k':
			break; /* keyrings are not namespaced: nothing to create */
		case 'K':
		case 'S':
			if (!is_run)
				return cabin_err_make(err, 0, "create: --%s is only for `run`",
						      c == 'K' ? "keep" : "no-subreaper");
			if (c == 'K')
				o->keep = 1;
			else
				o->no_subreaper = 1;
			break;
		case 'f':
			if (cmd_parse_fds(optarg, &o->preserve_fds, err) < 0)
				return -1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		default:
			return cabin_err_make(err, 0, "%s: bad option (see `cabin %s --help`)",
					      verb, verb);
		}
	}
	if (optind + 1 != argc)
		return cabin_err_make(err, 0, "%s: exactly one container ID is required", verb);
	o->id = argv[optind];
	o->no_cgroups = cabin_globals.no_cgroups;
	return 0;
}

int cmd_create(int argc, char **argv, struct cabin_err **err)
{
	struct ctr_create_opts o = { .root = cabin_globals.root, .detach = 1 };
	int ret = cmd_parse_create("create", usage, argc, argv, &o, err);

	if (ret != 0)
		return ret < 0 ? ret : 0;
	return ctr_create(&o, err);
}
