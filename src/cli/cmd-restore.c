/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "ctr/checkpoint.h"
#include "lib/error.h"

static const char usage[] =
	"usage: cabin restore [--image-path DIR] [--work-path DIR] [--bundle DIR] [--detach]\n"
	"                     [--pid-file FILE] [--console-socket SOCK] [--no-subreaper]\n"
	"                     [--no-pivot] [--tcp-established] [--ext-unix-sk] [--shell-job]\n"
	"                     [--file-locks] [--auto-dedup] [--lazy-pages]\n"
	"                     [--manage-cgroups-mode soft|full|strict] [--empty-ns network]\n"
	"                     [--lsm-profile TYPE:NAME] [--lsm-mount-context CONTEXT] ID\n"
	"Create container ID from the bundle (default .) and restore its processes from a\n"
	"`cabin checkpoint` (or runc) image in --image-path (default ./checkpoint). In the\n"
	"foreground, wait for it, delete it and exit with its status, as `run`. Needs\n"
	"`criu check` to pass.\n";

int cmd_restore(int argc, char **argv, struct cabin_err **err)
{
	enum {
		O_IMAGE = 256,
		O_WORK,
		O_CONSOLE,
		O_TCP,
		O_UNIX,
		O_SHELL,
		O_LOCKS,
		O_CGMODE,
		O_PIDFILE,
		O_NOSUB,
		O_NOPIVOT,
		O_EMPTY,
		O_DEDUP,
		O_LAZY,
		O_LSM,
		O_LSMMNT,
	};
	static const struct option opts[] = {
		{ "image-path", required_argument, NULL, O_IMAGE },
		{ "work-path", required_argument, NULL, O_WORK },
		{ "console-socket", required_argument, NULL, O_CONSOLE },
		{ "tcp-established", no_argument, NULL, O_TCP },
		{ "ext-unix-sk", no_argument, NULL, O_UNIX },
		{ "shell-job", no_argument, NULL, O_SHELL },
		{ "file-locks", no_argument, NULL, O_LOCKS },
		{ "manage-cgroups-mode", required_argument, NULL, O_CGMODE },
		{ "bundle", required_argument, NULL, 'b' },
		{ "detach", no_argument, NULL, 'd' },
		{ "pid-file", required_argument, NULL, O_PIDFILE },
		{ "no-subreaper", no_argument, NULL, O_NOSUB },
		{ "no-pivot", no_argument, NULL, O_NOPIVOT },
		{ "empty-ns", required_argument, NULL, O_EMPTY },
		{ "auto-dedup", no_argument, NULL, O_DEDUP },
		{ "lazy-pages", no_argument, NULL, O_LAZY },
		{ "lsm-profile", required_argument, NULL, O_LSM },
		{ "lsm-mount-context", required_argument, NULL, O_LSMMNT },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ctr_restore_opts o = { .root = cabin_globals.root };
	int c;

	o.c.criu = cabin_globals.criu;
	o.no_cgroups = cabin_globals.no_cgroups;
	while ((c = getopt_long(argc, argv, "+b:dh", opts, NULL)) != -1) {
		switch (c) {
		case O_IMAGE:
			o.c.image_path = optarg;
			break;
		case O_WORK:
			o.c.work_path = optarg;
			break;
		case O_CONSOLE:
			o.console_socket = optarg;
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
		case O_LOCKS:
			o.c.file_locks = 1;
			break;
		case O_CGMODE:
			if (cmd_parse_cgroups_mode(optarg, &o.c.manage_cgroups_mode, err) < 0)
				return -1;
			break;
		case 'b':
			o.bundle = optarg;
			break;
		case 'd':
			o.detach = 1;
			break;
		case O_PIDFILE:
			o.pid_file = optarg;
			break;
		case O_NOSUB:
			o.no_subreaper = 1;
			break;
		case O_NOPIVOT:
			/* CRIU restores the root as it was: there is no pivot_root to skip */
			o.no_pivot = 1;
			break;
		case O_EMPTY:
			if (cmd_parse_empty_ns(optarg, &o.c.empty_ns, err) < 0)
				return -1;
			break;
		case O_DEDUP:
			o.c.auto_dedup = 1;
			break;
		case O_LAZY:
			o.c.lazy_pages = 1;
			break;
		case O_LSM:
			if (!strchr(optarg, ':'))
				return cabin_err_make(
					err, 0,
					"--lsm-profile `%s`: use TYPE:NAME (apparmor:P, "
					"selinux:LABEL)",
					optarg);
			o.lsm_profile = optarg;
			break;
		case O_LSMMNT:
			o.lsm_mount_context = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return cabin_err_make(err, 0,
					      "restore: bad option (see `cabin restore --help`)");
		}
	}
	if (optind + 1 != argc)
		return cabin_err_make(err, 0, "restore: exactly one container ID is required");
	o.id = argv[optind];
	return ctr_restore(&o, err);
}
