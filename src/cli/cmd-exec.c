/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "ctr/container.h"
#include "ctr/json.h"
#include "ctr/state.h"
#include "lib/error.h"

static const char usage[] =
	"usage: cabin exec [--tty] [--detach] [--process FILE] [--cwd DIR] [--env K=V]...\n"
	"                  [--user UID[:GID]] [--pid-file FILE] [--console-socket SOCK] ID "
	"[CMD...]\n"
	"Run a process in a running container: CMD, or the process object of FILE.\n"
	"Without --process, the container's own process is the template (env, user, caps).\n";

static int set_user(json_t *proc, const char *spec, struct cabin_err **err)
{
	json_t *user = json_object_get(proc, "user");
	char *end;
	unsigned long uid, gid;

	if (!user) {
		user = json_object();
		json_object_set_new(proc, "user", user);
	}
	uid = strtoul(spec, &end, 10);
	if (end == spec || (*end && *end != ':') || uid > 0xfffffffeUL)
		return cabin_err_make(err, 0, "exec: --user `%s` must be UID[:GID]", spec);
	json_object_set_new(user, "uid", json_integer((json_int_t)uid));
	if (*end == ':') {
		const char *g = end + 1;

		gid = strtoul(g, &end, 10);
		if (end == g || *end || gid > 0xfffffffeUL)
			return cabin_err_make(err, 0, "exec: --user `%s` must be UID[:GID]", spec);
		json_object_set_new(user, "gid", json_integer((json_int_t)gid));
	}
	return 0;
}

int cmd_exec(int argc, char **argv, struct cabin_err **err)
{
	static const struct option opts[] = {
		{ "tty", no_argument, NULL, 't' },
		{ "detach", no_argument, NULL, 'd' },
		{ "process", required_argument, NULL, 'p' },
		{ "cwd", required_argument, NULL, 'w' },
		{ "env", required_argument, NULL, 'e' },
		{ "user", required_argument, NULL, 'u' },
		{ "pid-file", required_argument, NULL, 'P' },
		{ "console-socket", required_argument, NULL, 'c' },
		{ "no-new-privs", no_argument, NULL, 'n' },
		{ "preserve-fds", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ctr_exec_opts o = { .root = cabin_globals.root };
	const char *process_file = NULL, *cwd = NULL, *user = NULL;
	const char *envs[256];
	size_t n_env = 0;
	int c, tty = 0, nnp = 0, ret;
	json_t *proc;

	while ((c = getopt_long(argc, argv, "+tdp:w:e:u:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			tty = 1;
			break;
		case 'd':
			o.detach = 1;
			break;
		case 'p':
			process_file = optarg;
			break;
		case 'w':
			cwd = optarg;
			break;
		case 'e':
			if (n_env == sizeof(envs) / sizeof(envs[0]))
				return cabin_err_make(err, 0, "exec: too many --env");
			envs[n_env++] = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'P':
			o.pid_file = optarg;
			break;
		case 'c':
			o.console_socket = optarg;
			break;
		case 'n':
			nnp = 1;
			break;
		case 'f':
			if (cmd_parse_fds(optarg, &o.preserve_fds, err) < 0)
				return -1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return cabin_err_make(err, 0, "exec: bad option (see `cabin exec --help`)");
		}
	}
	if (optind >= argc)
		return cabin_err_make(err, 0, "exec: a container ID is required");
	o.id = argv[optind++];
	if (process_file) {
		json_error_t jerr;

		proc = ctr_json_load_file(process_file, JSON_REJECT_DUPLICATES, &jerr);
		if (!proc)
			return cabin_err_make(err, 0, "exec: --process `%s`: %s (line %d)",
					      process_file, jerr.text, jerr.line);
	} else {
		struct ctr_state *st = NULL;
		json_t *args = json_array();

		if (optind >= argc)
			return cabin_err_make(err, 0, "exec: a command (or --process) is required");
		if (ctr_state_load(cabin_globals.root, o.id, &st, err) < 0)
			return -1;
		proc = st->process ? json_deep_copy(st->process)
				   : json_pack("{s:{s:i,s:i},s:s}", "user", "uid", 0, "gid", 0,
					       "cwd", "/");
		ctr_state_free(st);
		for (int i = optind; i < argc; i++)
			json_array_append_new(args, json_string(argv[i]));
		json_object_set_new(proc, "args", args);
		json_object_set_new(proc, "terminal", json_boolean(tty));
		json_object_del(proc, "consoleSize");
	}
	if (cwd)
		json_object_set_new(proc, "cwd", json_string(cwd));
	if (nnp)
		json_object_set_new(proc, "noNewPrivileges", json_true());
	if (n_env) {
		json_t *env = json_object_get(proc, "env");

		if (!json_is_array(env)) {
			env = json_array();
			json_object_set_new(proc, "env", env);
		}
		for (size_t i = 0; i < n_env; i++)
			json_array_append_new(env, json_string(envs[i]));
	}
	if (user && set_user(proc, user, err) < 0) {
		json_decref(proc);
		return -1;
	}
	o.process = proc;
	ret = ctr_exec(&o, err);
	json_decref(proc);
	return ret;
}
