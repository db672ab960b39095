/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "ctr/container.h"
#include "lib/error.h"

static const char usage[] = "usage: cabin update --resources FILE ID\n"
			    "Apply new linux.resources (JSON; FILE `-` reads stdin).\n";

int cmd_update(int argc, char **argv, struct cabin_err **err)
{
	static const struct option opts[] = {
		{ "resources", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *file = NULL;
	json_error_t jerr;
	json_t *res;
	int c, ret;

	while ((c = getopt_long(argc, argv, "+r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			file = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return cabin_err_make(err, 0,
					      "update: bad option (see `cabin update --help`)");
		}
	}
	if (optind + 1 != argc)
		return cabin_err_make(err, 0, "update: exactly one container ID is required");
	if (!file)
		return cabin_err_make(err, 0, "update: --resources FILE is required");
	res = !strcmp(file, "-") ? json_loadf(stdin, 0, &jerr) : json_load_file(file, 0, &jerr);
	if (!res)
		return cabin_err_make(err, 0, "update: `%s`: invalid JSON at line %d: %s", file,
				      jerr.line, jerr.text);
	if (!json_is_object(res)) {
		json_decref(res);
		return cabin_err_make(err, 0, "update: `%s` must hold a JSON object", file);
	}
	ret = ctr_update(cabin_globals.root, argv[optind], res, err);
	json_decref(res);
	return ret;
}
