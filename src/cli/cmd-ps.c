/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "ctr/container.h"
#include "lib/error.h"

static const char usage[] = "usage: cabin ps [--format table|json] ID\n"
			    "List the processes of a container (host pids).\n";

static void print_row(pid_t pid)
{
	char path[64], comm[64] = "?";
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, comm, sizeof(comm) - 1);
		comm[n > 0 ? n : 0] = '\0';
		comm[strcspn(comm, "\n")] = '\0';
		close(fd);
	}
	printf("%-8d %s\n", (int)pid, comm);
}

int cmd_ps(int argc, char **argv, struct cabin_err **err)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *format = "table";
	pid_t *pids = NULL;
	size_t n = 0;
	int c;

	while ((c = getopt_long(argc, argv, "+f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format = optarg;
			if (strcmp(format, "table") && strcmp(format, "json"))
				return cabin_err_make(
					err, 0, "ps: --format must be table or json, not `%s`",
					format);
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return cabin_err_make(err, 0, "ps: bad option (see `cabin ps --help`)");
		}
	}
	if (optind + 1 != argc)
		return cabin_err_make(err, 0, "ps: exactly one container ID is required");
	if (ctr_pids(cabin_globals.root, argv[optind], &pids, &n, err) < 0)
		return -1;
	if (!strcmp(format, "json")) {
		putchar('[');
		for (size_t i = 0; i < n; i++)
			printf("%s%d", i ? "," : "", (int)pids[i]);
		puts("]");
	} else {
		printf("%-8s %s\n", "PID", "CMD");
		for (size_t i = 0; i < n; i++)
			print_row(pids[i]);
	}
	free(pids);
	return 0;
}
