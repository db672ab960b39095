/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "ctr/checkpoint.h"
#include "ctr/criu-rpc.h"
#include "lib/error.h"

static const char usage[] =
	"usage: cabin checkpoint [--image-path DIR] [--work-path DIR] [--parent-path DIR]\n"
	"                        [--leave-running] [--pre-dump] [--tcp-established] "
	"[--ext-unix-sk]\n"
	"                        [--shell-job] [--file-locks] [--auto-dedup] [--lazy-pages]\n"
	"                        [--status-fd FD] [--page-server ADDRESS:PORT]\n"
	"                        [--manage-cgroups-mode soft|full|strict] [--empty-ns network] ID\n"
	"Save a running container's processes with CRIU into --image-path (default\n"
	"./checkpoint); the container is then gone unless --leave-running or --pre-dump.\n"
	"--parent-path is relative to the image directory (a --pre-dump image). CRIU's log\n"
	"goes to --work-path (default: the image directory). Needs `criu check` to pass.\n";

int cmd_parse_cgroups_mode(const char *arg, int *mode, struct cabin_err **err)
{
	if (!strcmp(arg, "soft"))
		*mode = CTR_CRIU_CG_SOFT;
	else if (!strcmp(arg, "full"))
		*mode = CTR_CRIU_CG_FULL;
	else if (!strcmp(arg, "strict"))
		*mode = CTR_CRIU_CG_STRICT;
	else
		return cabin_err_make(
			err, 0, "invalid --manage-cgroups-mode `%s` (soft, full or strict)", arg);
	return 0;
}

int cmd_parse_empty_ns(const char *arg, unsigned *mask, struct cabin_err **err)
{
	/* runc creates only the network namespace empty: it does not manage its devices */
	if (strcmp(arg, "network"))
		return cabin_err_make(err, 0,
				      "--empty-ns: namespace `%s` is not supported (network)", arg);
	*mask |= CLONE_NEWNET;
	return 0;
}

/* ADDRESS:PORT, [IPV6]:PORT */
static int parse_page_server(char *arg, struct ctr_checkpoint_opts *o, struct cabin_err **err)
{
	char *colon = strrchr(arg, ':'), *end;
	long port;

	if (!colon || colon == arg || !colon[1])
		return cabin_err_make(err, 0, "--page-server `%s`: use ADDRESS:PORT", arg);
	port = strtol(colon + 1, &end, 10);
	if (*end || port <= 0 || port > 65535)
		return cabin_err_make(err, 0, "--page-server `%s`: invalid port number", arg);
	*colon = '\0';
	if (arg[0] == '[' && colon[-1] == ']') {
		colon[-1] = '\0';
		arg++;
	}
	o->ps_address = arg;
	o->ps_port = (int)port;
	return 0;
}

int cmd_checkpoint(int argc, char **argv, struct cabin_err **err)
{
	enum {
		O_IMAGE = 256,
		O_WORK,
		O_PARENT,
		O_LEAVE,
		O_TCP,
		O_UNIX,
		O_SHELL,
		O_LAZY,
		O_STATUS,
		O_PS,
		O_LOCKS,
		O_PRE,
		O_CGMODE,
		O_EMPTY,
		O_DEDUP,
	};
	static const struct option opts[] = {
		{ "image-path", required_argument, NULL, O_IMAGE },
		{ "work-path", required_argument, NULL, O_WORK },
		{ "parent-path", required_argument, NULL, O_PARENT },
		{ "leave-running", no_argument, NULL, O_LEAVE },
		{ "tcp-established", no_argument, NULL, O_TCP },
		{ "ext-unix-sk", no_argument, NULL, O_UNIX },
		{ "shell-job", no_argument, NULL, O_SHELL },
		{ "lazy-pages", no_argument, NULL, O_LAZY },
		{ "status-fd", required_argument, NULL, O_STATUS },
		{ "page-server", required_argument, NULL, O_PS },
		{ "file-locks", no_argument, NULL, O_LOCKS },
		{ "pre-dump", no_argument, NULL, O_PRE },
		{ "manage-cgroups-mode", required_argument, NULL, O_CGMODE },
		{ "empty-ns", required_argument, NULL, O_EMPTY },
		{ "auto-dedup", no_argument, NULL, O_DEDUP },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ctr_checkpoint_opts o = { .root = cabin_globals.root, .status_fd = -1 };
	int c;

	o.c.criu = cabin_globals.criu;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case O_IMAGE:
			o.c.image_path = optarg;
			break;
		case O_WORK:
			o.c.work_path = optarg;
			break;
		case O_PARENT:
			o.parent_path = optarg;
			break;
		case O_LEAVE:
			o.leave_running = 1;
			break;
		case O_TCP:
			o.c.tcp_established = 1;
			break;
		case O_UNIX:
			o.c.ext_unix_sk = 1;
			break;
		case O_SHELL:
			o.c.shell_job = 1;
			break;
		case O_LAZY:
			o.c.lazy_pages = 1;
			break;
		case O_STATUS: {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (end == optarg || *end || v < 0 || v > 65535)
				return cabin_err_make(err, 0, "invalid --status-fd `%s`", optarg);
			o.status_fd = (int)v;
			break;
		}
		case O_PS:
			if (parse_page_server(optarg, &o, err) < 0)
				return -1;
			break;
		case O_LOCKS:
			o.c.file_locks = 1;
			break;
		case O_PRE:
			o.pre_dump = 1;
			break;
		case O_CGMODE:
			if (cmd_parse_cgroups_mode(optarg, &o.c.manage_cgroups_mode, err) < 0)
				return -1;
			break;
		case O_EMPTY:
			if (cmd_parse_empty_ns(optarg, &o.c.empty_ns, err) < 0)
				return -1;
			break;
		case O_DEDUP:
			o.c.auto_dedup = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return cabin_err_make(
				err, 0, "checkpoint: bad option (see `cabin checkpoint --help`)");
		}
	}
	if (optind + 1 != argc)
		return cabin_err_make(err, 0, "checkpoint: exactly one container ID is required");
	o.id = argv[optind];
	return ctr_checkpoint(&o, err);
}
