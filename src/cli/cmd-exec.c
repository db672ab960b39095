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
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/util.h"
#include "lib/xalloc.h"

static const char usage[] =
	"usage: cabin exec [--tty] [--detach] [--process FILE] [--cwd DIR] [--env K=V]...\n"
	"                  [--user UID[:GID]] [--additional-gids GID]... [--cap CAP]...\n"
	"                  [--no-new-privs] [--apparmor PROFILE] [--process-label LABEL]\n"
	"                  [--cgroup [CONTROLLER[,CONTROLLER]:]PATH]... [--ignore-paused]\n"
	"                  [--pid-file FILE] [--console-socket SOCK] [--preserve-fds N] ID "
	"[CMD...]\n"
	"Run a process in a running container: CMD, or the process object of FILE (whose\n"
	"user defaults to 0:0). Without --process, the container's own process is the\n"
	"template (env, user, caps). --cap adds a capability to the bounding, effective and\n"
	"permitted sets; --cgroup puts the process in a sub-cgroup of the container's.\n"
	"A paused container is refused unless --ignore-paused. Exit status: the process's,\n"
	"or 255 when cabin itself fails.\n";

static int parse_id(const char *s, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return (errno || end == s || *end || *out > 0xfffffffeUL) ? -1 : 0;
}

/* Append @val to the string array @key of the object @obj (created if missing). */
static void append_string(json_t *obj, const char *key, const char *val)
{
	json_t *a = json_object_get(obj, key);

	if (!json_is_array(a)) {
		a = json_array();
		json_object_set_new(obj, key, a);
	}
	json_array_append_new(a, json_string(val));
}

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
		{ "console-socket", required_argument, NULL, 'S' },
		{ "no-new-privs", no_argument, NULL, 'n' },
		{ "preserve-fds", required_argument, NULL, 'f' },
		{ "cap", required_argument, NULL, 'c' },
		{ "additional-gids", required_argument, NULL, 'g' },
		{ "ignore-paused", no_argument, NULL, 'I' },
		{ "cgroup", required_argument, NULL, 'G' },
		{ "apparmor", required_argument, NULL, 'A' },
		{ "process-label", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ctr_exec_opts o = { .root = cabin_globals.root };
	const char *process_file = NULL, *cwd = NULL, *user = NULL, *apparmor = NULL, *label = NULL;
	cleanup_free char *src = NULL;
	const char *envs[256], *caps[64], *cgroups[64];
	unsigned long gids[64];
	size_t n_env = 0, n_caps = 0, n_gids = 0;
	int c, tty = 0, nnp = 0;
	cleanup_json json_t *proc = NULL;

	o.cgroups = cgroups;
	while ((c = getopt_long(argc, argv, "+tdp:w:e:u:c:g:h", opts, NULL)) != -1) {
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
		case 'S':
			o.console_socket = optarg;
			break;
		case 'n':
			nnp = 1;
			break;
		case 'f':
			if (cmd_parse_fds(optarg, &o.preserve_fds, err) < 0)
				return -1;
			break;
		case 'c':
			if (n_caps == ARRAY_SIZE(caps))
				return cabin_err_make(err, 0, "exec: too many --cap");
			caps[n_caps++] = optarg;
			break;
		case 'g':
			if (n_gids == ARRAY_SIZE(gids))
				return cabin_err_make(err, 0, "exec: too many --additional-gids");
			if (parse_id(optarg, &gids[n_gids++]) < 0)
				return cabin_err_make(
					err, 0, "exec: --additional-gids `%s` must be a number",
					optarg);
			break;
		case 'I':
			o.ignore_paused = 1;
			break;
		case 'G':
			if (o.n_cgroups == ARRAY_SIZE(cgroups))
				return cabin_err_make(err, 0, "exec: too many --cgroup");
			cgroups[o.n_cgroups++] = optarg;
			break;
		case 'A':
			apparmor = optarg;
			break;
		case 'L':
			label = optarg;
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
		/* runc runs a process file without `user` as root (0:0) */
		if (json_is_object(proc) && !json_object_get(proc, "user"))
			json_object_set_new(proc, "user",
					    json_pack("{s:i,s:i}", "uid", 0, "gid", 0));
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
	if (user && set_user(proc, user, err) < 0)
		return -1;
	if (n_gids) {
		json_t *u = json_object_get(proc, "user");

		if (!json_is_object(u)) {
			u = json_object();
			json_object_set_new(proc, "user", u);
		}
		for (size_t i = 0; i < n_gids; i++) {
			json_t *a = json_object_get(u, "additionalGids");

			if (!json_is_array(a)) {
				a = json_array();
				json_object_set_new(u, "additionalGids", a);
			}
			json_array_append_new(a, json_integer((json_int_t)gids[i]));
		}
	}
	if (n_caps) {
		json_t *pc = json_object_get(proc, "capabilities");

		if (!json_is_object(pc)) {
			pc = json_object();
			json_object_set_new(proc, "capabilities", pc);
		}
		for (size_t i = 0; i < n_caps; i++) {
			append_string(pc, "bounding", caps[i]);
			append_string(pc, "effective", caps[i]);
			append_string(pc, "permitted", caps[i]);
			/*
			 * An ambient capability must also be inheritable; as runc, only raise
			 * it when the process already has an inheritable set.
			 */
			if (json_object_get(pc, "inheritable"))
				append_string(pc, "ambient", caps[i]);
		}
	}
	if (apparmor)
		json_object_set_new(proc, "apparmorProfile", json_string(apparmor));
	if (label)
		json_object_set_new(proc, "selinuxLabel", json_string(label));
	o.process = proc;
	if (process_file)
		o.process_src = src = xasprintf("--process `%s`", process_file);
	return ctr_exec(&o, err);
}
