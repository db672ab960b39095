/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "ctr/spec.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fs.h"

static const char usage[] = "usage: cabin spec [--bundle DIR] [--rootless]\n"
			    "Write a default config.json into DIR (default: .), as `runc spec`.\n";

int cmd_spec(int argc, char **argv, struct cabin_err **err)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "rootless", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *bundle = ".";
	cleanup_close int dfd = -1;
	int c, rootless = 0, ret;
	cleanup_json json_t *j = NULL;
	char *s;

	while ((c = getopt_long(argc, argv, "+b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			bundle = optarg;
			break;
		case 'r':
			rootless = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return cabin_err_make(err, 0, "spec: bad option (see `cabin spec --help`)");
		}
	}
	if (optind != argc)
		return cabin_err_make(err, 0, "spec: unexpected argument `%s`", argv[optind]);
	dfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return cabin_err_make(err, errno, "spec: bundle `%s`", bundle);
	if (faccessat(dfd, "config.json", F_OK, 0) == 0)
		return cabin_err_make(err, EEXIST, "spec: `%s/config.json` already exists", bundle);
	j = ctr_spec_default(rootless);
	s = json_dumps(j, JSON_INDENT(2));
	if (!s)
		return cabin_err_make(err, ENOMEM, "spec: encode");
	ret = fs_write_file_atomic(dfd, "config.json", s, strlen(s), 0644, FS_ATOMIC_FSYNC, err);
	free(s);
	return ret < 0 ? cabin_err_wrap(err, "spec") : 0;
}
