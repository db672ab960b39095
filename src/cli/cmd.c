/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "lib/error.h"
#include "lib/util.h"

/* The command table (crun commands[], kvmtool kvm_commands[]). */
static const struct cmd commands[] = {
	{ "create", cmd_create, "create a container from an OCI bundle", 0 },
	{ "start", cmd_start, "start the user process of a created container", 0 },
	{ "state", cmd_state, "print the state of a container as JSON", 0 },
	{ "kill", cmd_kill, "send a signal to a container's init (or all processes)", 0 },
	{ "delete", cmd_delete, "delete a container and everything it holds", 0 },
	{ "run", cmd_run, "create, start and wait for a container", 0 },
	{ "exec", cmd_exec, "run a new process inside a running container", CMD_ERR_255 },
	{ "ps", cmd_ps, "list the processes of a container (no ID: `container ps`)", 0 },
	{ "list", cmd_list, "list containers", 0 },
	{ "pause", cmd_pause, "freeze every process of a container", 0 },
	{ "resume", cmd_resume, "thaw a paused container", 0 },
	{ "update", cmd_update, "change the resource limits of a container", 0 },
	{ "spec", cmd_spec, "write a default config.json", 0 },
	{ "features", cmd_features, "print what this runtime supports, as JSON", 0 },
	{ "events", cmd_events, "print stats and OOM events of a container, as JSON lines", 0 },
	{ "checkpoint", cmd_checkpoint, "save a running container with CRIU", 0 },
	{ "restore", cmd_restore, "restore a container from a checkpoint", 0 },
	{ "help", cmd_help, "show the options of a command: help COMMAND", 0 },
	{ "vm", cmd_vm, "microVMs: run, initrd, ls, stop, pause, resume", 0 },
	{ "network", cmd_network, "container networks: create, ls, rm, inspect", 0 },
	{ "image", cmd_image, "images: pull, load, ls, rm, inspect, tag", 0 },
	{ "pull", cmd_pull, "pull an image (`image pull`)", 0 },
	{ "images", cmd_images, "list images (`image ls`)", 0 },
	{ "login", cmd_login, "store credentials for a registry", 0 },
	{ "logout", cmd_logout, "remove the credentials for a registry", 0 },
	{ "system", cmd_system, "the image store: df, prune", 0 },
	{ "container", cmd_container,
	  "containers from images: run, ps, logs, exec, stop, kill, rm, inspect, wait", 0 },
	{ "volume", cmd_volume, "named volumes: create, ls, rm, inspect", 0 },
};

const struct cmd *cmd_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

void cmd_print_help(void)
{
	printf("usage: cabin [--root DIR] [--data-root DIR] [--log FILE] [--log-format text|json] "
	       "[--debug]\n             COMMAND [ARGS]\n\n"
	       "cabin runs containers (an OCI runtime) and microVMs from one binary.\n\n"
	       "commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!(commands[i].flags & CMD_HIDDEN))
			printf("  %-10s %s\n", commands[i].name, commands[i].summary);
	printf("\nRun `cabin COMMAND --help` for the options of a command.\n");
}

int cmd_parse_id(const char *verb, const char *usage_text, int argc, char **argv, const char **id,
		 struct cabin_err **err)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			return 1;
		}
		return cabin_err_make(err, 0, "%s: bad option (see `cabin %s --help`)", verb, verb);
	}
	if (optind + 1 != argc)
		return cabin_err_make(err, 0, "%s: exactly one container ID is required", verb);
	*id = argv[optind];
	return 0;
}

int cmd_help(int argc, char **argv, struct cabin_err **err)
{
	const struct cmd *cmd;
	char *args[3];

	if (argc < 2) {
		cmd_print_help();
		return 0;
	}
	cmd = cmd_find(argv[1]);
	/* runc's words (urfave/cli): its callers and its test suite match them */
	if (!cmd)
		return cabin_err_make(err, 0, "No help topic for '%s'", argv[1]);
	if (cmd->fn == cmd_help) {
		cmd_print_help();
		return 0;
	}
	args[0] = argv[1];
	args[1] = (char *)"--help";
	args[2] = NULL;
	optind = 0;
	return cmd->fn(2, args, err);
}
