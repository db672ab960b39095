/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "ctr/container.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/xalloc.h"

static const char usage[] =
	"usage: cabin ps [--format table|json] ID [PS-OPTIONS...]\n"
	"       cabin ps [-a] [-q]\n"
	"List the processes of a container (host pids): the output of `ps PS-OPTIONS`\n"
	"(default -ef) restricted to the container's processes, with ps's header.\n"
	"--format json prints a JSON array of the pids.\n"
	"Without an ID, list containers as `cabin container ps` does (Docker's `ps`).\n";

/*
 * runc's `ps` always names a container; Docker's never does. With no argument other
 * than Docker's -a/-q, this is Docker's: an OCI caller (containerd, podman) always
 * passes the ID, so its meaning is unchanged.
 */
static int docker_form(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-a") && strcmp(a, "-q") && strcmp(a, "-aq") && strcmp(a, "-qa") &&
		    strcmp(a, "--all") && strcmp(a, "--quiet"))
			return 0;
	}
	return 1;
}

/* Index of the PID column in ps's header line, or -1. */
static int pid_column(const char *header)
{
	cleanup_free char *h = xstrdup(header);
	char *save = NULL;
	int i = 0;

	for (char *f = strtok_r(h, " \t", &save); f; f = strtok_r(NULL, " \t", &save), i++)
		if (!strcmp(f, "PID"))
			return i;
	return -1;
}

static int in_list(long pid, const pid_t *pids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return 1;
	return 0;
}

/* Field @col of @line as a pid, or -1. */
static long field_pid(const char *line, int col)
{
	cleanup_free char *l = xstrdup(line);
	char *save = NULL, *f = strtok_r(l, " \t", &save), *end;
	long v;

	for (int i = 0; f && i < col; i++)
		f = strtok_r(NULL, " \t", &save);
	if (!f)
		return -1;
	v = strtol(f, &end, 10);
	return *end ? -1 : v;
}

/* Run ps(1) with @args and print its header and the rows of @pids. */
static int ps_filter(char **args, const pid_t *pids, size_t n, struct cabin_err **err)
{
	cleanup_fclose FILE *f = NULL;
	cleanup_free char *line = NULL;
	size_t cap = 0;
	int fds[2], col = -1, status, first = 1;
	pid_t child;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return cabin_err_make(err, errno, "ps: pipe");
	child = fork();
	if (child < 0) {
		close(fds[0]);
		close(fds[1]);
		return cabin_err_make(err, errno, "ps: fork");
	}
	if (child == 0) {
		dup2(fds[1], 1);
		execvp("ps", args);
		dprintf(2, "cabin: ps: exec `ps`: %s\n", strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	if (!f) {
		close(fds[0]);
		waitpid(child, NULL, 0);
		return cabin_err_make(err, errno, "ps: fdopen");
	}
	while (getline(&line, &cap, f) > 0) {
		if (first) {
			first = 0;
			col = pid_column(line);
			fputs(line, stdout);
			continue;
		}
		if (col >= 0 && in_list(field_pid(line, col), pids, n))
			fputs(line, stdout);
	}
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return cabin_err_make(err, 0, "ps: `ps` failed (status %d)",
				      WIFEXITED(status) ? WEXITSTATUS(status)
							: 128 + WTERMSIG(status));
	if (col < 0)
		return cabin_err_make(err, 0, "ps: no PID column in the output of `ps`");
	return 0;
}

int cmd_ps(int argc, char **argv, struct cabin_err **err)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *format = "table";
	cleanup_free pid_t *pids = NULL;
	cleanup_free char **args = NULL;
	size_t n = 0;
	int c;

	if (docker_form(argc, argv))
		return cmd_container_ps(argc, argv, err);
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
	if (optind >= argc)
		return cabin_err_make(err, 0, "ps: a container ID is required");
	if (!strcmp(format, "json") && argc - optind > 1)
		return cabin_err_make(err, 0, "ps: ps options cannot be used with --format json");
	if (ctr_pids(cabin_globals.root, argv[optind], &pids, &n, err) < 0)
		return -1;
	if (!strcmp(format, "json")) {
		putchar('[');
		for (size_t i = 0; i < n; i++)
			printf("%s%d", i ? "," : "", (int)pids[i]);
		puts("]");
		return 0;
	}
	args = xcalloc((size_t)(argc - optind) + 2, sizeof(*args));
	args[0] = (char *)"ps";
	if (argc - optind == 1) {
		args[1] = (char *)"-ef";
	} else {
		for (int i = optind + 1; i < argc; i++)
			args[i - optind] = argv[i];
	}
	fflush(stdout);
	return ps_filter(args, pids, n, err);
}
