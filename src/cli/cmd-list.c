/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "ctr/container.h"
#include "lib/cleanup.h"
#include "lib/error.h"

static const char usage[] = "usage: cabin list [--format table|json] [-q]\n"
			    "List the containers under --root.\n";

int cmd_list(int argc, char **argv, struct cabin_err **err)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *format = "table";
	int c, quiet = 0;
	cleanup_json json_t *arr = NULL;
	json_t *e;
	size_t i;

	while ((c = getopt_long(argc, argv, "+f:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format = optarg;
			if (strcmp(format, "table") && strcmp(format, "json"))
				return cabin_err_make(
					err, 0, "list: --format must be table or json, not `%s`",
					format);
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return cabin_err_make(err, 0, "list: bad option (see `cabin list --help`)");
		}
	}
	if (optind != argc)
		return cabin_err_make(err, 0, "list: unexpected argument `%s`", argv[optind]);
	if (ctr_list(cabin_globals.root, &arr, err) < 0)
		return -1;
	if (quiet) {
		json_array_foreach(arr, i, e) puts(json_string_value(json_object_get(e, "id")));
	} else if (!strcmp(format, "json")) {
		/* runc's `list --format json` object: its own key order, pid before status */
		static const char *const keys[] = { "ociVersion", "id",		 "pid",
						    "status",	  "bundle",	 "rootfs",
						    "created",	  "annotations", "owner" };
		cleanup_json json_t *out = json_array();
		char *s;

		json_array_foreach(arr, i, e)
		{
			json_t *o = json_object();

			for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
				if (json_object_get(e, keys[k]))
					json_object_set(o, keys[k], json_object_get(e, keys[k]));
			json_array_append_new(out, o);
		}
		s = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
		puts(s ? s : "[]");
		free(s);
	} else {
		printf("%-24s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
		json_array_foreach(arr, i, e)
			printf("%-24s %-8lld %-10s %-40s %s\n",
			       json_string_value(json_object_get(e, "id")),
			       (long long)json_integer_value(json_object_get(e, "pid")),
			       json_string_value(json_object_get(e, "status")),
			       json_string_value(json_object_get(e, "bundle")),
			       json_string_value(json_object_get(e, "created")) ?: "");
	}
	return 0;
}
