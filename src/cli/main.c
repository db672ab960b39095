/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "ctr/cloned-binary.h"
#include "lib/error.h"
#include "lib/log.h"

struct cabin_globals cabin_globals = {
	.root = NULL,
	.data_root = CABIN_DEFAULT_DATA_ROOT,
};

/*
 * The state directory when --root is not given: /run/cabin for root. An unprivileged
 * user cannot write there, so, as runc and crun do, they get $XDG_RUNTIME_DIR/cabin.
 */
static const char *default_root(void)
{
	static char buf[4096];
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (geteuid() != 0 && xdg && *xdg &&
	    (size_t)snprintf(buf, sizeof(buf), "%s/cabin", xdg) < sizeof(buf))
		return buf;
	return CABIN_DEFAULT_ROOT;
}

/*
 * cabin manages cgroups through cgroupfs only. A caller that asks for the systemd
 * manager expects the scope to be owned by systemd; ignoring the request would leave it
 * with cgroups it does not know about, so it is refused (exit 1) instead.
 */
static void refuse_systemd(const char *how)
{
	fprintf(stderr,
		"cabin: %s: the systemd cgroup manager is not supported; cabin manages "
		"cgroups through cgroupfs (use `--cgroup-manager cgroupfs` or `disabled`)\n",
		how);
	exit(1);
}

static void usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "cabin: %s `%s`\nTry `cabin --help`.\n", msg, arg);
	exit(2);
}

/*
 * Global options come before the command, as with runc and crun. Long options
 * may be given as --opt=value or --opt value; callers (podman, containerd) use both.
 */
int main(int argc, char **argv)
{
	enum {
		OPT_ROOT = 256,
		OPT_LOG,
		OPT_LOG_FORMAT,
		OPT_DEBUG,
		OPT_SYSTEMD,
		OPT_ROOTLESS,
		OPT_DATA_ROOT,
		OPT_CGMGR,
		OPT_CRIU,
	};
	static const struct option opts[] = {
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "data-root", required_argument, NULL, OPT_DATA_ROOT },
		{ "log", required_argument, NULL, OPT_LOG },
		{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
		{ "debug", no_argument, NULL, OPT_DEBUG },
		{ "systemd-cgroup", no_argument, NULL, OPT_SYSTEMD },
		{ "rootless", required_argument, NULL, OPT_ROOTLESS },
		{ "cgroup-manager", required_argument, NULL, OPT_CGMGR },
		{ "criu", required_argument, NULL, OPT_CRIU },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ 0 },
	};
	struct cabin_err *err = NULL;
	const struct cmd *cmd;
	int c, ret;

	/* '+': stop at the first non-option, the command name. */
	while ((c = getopt_long(argc, argv, "+hv", opts, NULL)) != -1) {
		switch (c) {
		case OPT_ROOT:
			cabin_globals.root = optarg;
			break;
		case OPT_DATA_ROOT:
			cabin_globals.data_root = optarg;
			break;
		case OPT_LOG:
			cabin_globals.log = optarg;
			break;
		case OPT_LOG_FORMAT:
			if (strcmp(optarg, "text") && strcmp(optarg, "json"))
				usage_error("--log-format must be text or json, not", optarg);
			cabin_globals.log_format = optarg;
			break;
		case OPT_DEBUG:
			cabin_globals.debug = 1;
			break;
		case OPT_SYSTEMD:
			refuse_systemd("--systemd-cgroup");
			break;
		case OPT_CGMGR:
			if (!strcmp(optarg, "systemd"))
				refuse_systemd("--cgroup-manager systemd");
			else if (!strcmp(optarg, "disabled"))
				cabin_globals.no_cgroups = 1;
			else if (strcmp(optarg, "cgroupfs"))
				usage_error(
					"--cgroup-manager must be cgroupfs, systemd or disabled, "
					"not",
					optarg);
			break;
		case OPT_CRIU:
			cabin_globals.criu = optarg;
			break;
		case OPT_ROOTLESS:
			break;
		case 'h':
			cmd_print_help();
			return 0;
		case 'v':
			printf("cabin version %s\nspec: %s\n", CABIN_VERSION, CABIN_OCI_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try `cabin --help`.\n");
			return 2;
		}
	}
	if (optind >= argc) {
		cmd_print_help();
		return 2;
	}
	if (!cabin_globals.root)
		cabin_globals.root = default_root();
	/*
	 * `exec` runs the process it starts from a sealed copy of the binary: a
	 * `#!/proc/self/exe` script would otherwise execute the host binary inside the
	 * container (CVE-2019-5736, see ctr/cloned-binary.c; create and run decide once
	 * they know the container). First, before the log or anything else is opened: the
	 * re-exec starts over from main().
	 */
	if (!strcmp(argv[optind], "exec")) {
		if (ctr_cloned_binary_ensure(&err) < 0) {
			fprintf(stderr, "cabin: %s\n", cabin_err_msg(err));
			cabin_err_release(&err);
			return 255; /* exec: cabin's own failure */
		}
	}
	ret = log_init(cabin_globals.log,
		       cabin_globals.log_format && !strcmp(cabin_globals.log_format, "json")
			       ? LOG_FMT_JSON
			       : LOG_FMT_TEXT,
		       cabin_globals.debug);
	if (ret < 0) {
		fprintf(stderr, "cabin: open log `%s`: %s\n", cabin_globals.log, strerror(-ret));
		return 1;
	}
	cmd = cmd_find(argv[optind]);
	if (!cmd && optind + 1 < argc &&
	    (!strcmp(argv[optind + 1], "-h") || !strcmp(argv[optind + 1], "--help"))) {
		/* runc's words (urfave/cli): its callers and its test suite match them */
		fprintf(stderr, "No help topic for '%s'\n", argv[optind]);
		return 3;
	}
	if (!cmd)
		usage_error("unknown command", argv[optind]);

	argc -= optind;
	argv += optind;
	optind = 0; /* reset getopt for the command's own parsing */
	ret = cmd->fn(argc, argv, &err);
	if (ret < 0) {
		log_error("%s", cabin_err_msg(err));
		cabin_err_release(&err);
		return (cmd->flags & CMD_ERR_255) ? 255 : 1;
	}
	/* Commands return their exit status (run, exec, vm run pass the payload's through). */
	return ret;
}
