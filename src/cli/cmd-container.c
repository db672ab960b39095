/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `cabin container ...` and `cabin volume ...`: containers made from images. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "box/box.h"
#include "cli/cmd.h"
#include "img/store.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/strv.h"
#include "lib/util.h"
#include "lib/xalloc.h"
#include "net/net.h"

int cmd_container_df(struct img_store *s, size_t *total, size_t *running, uint64_t *size);
int cmd_container_prune(struct img_store *s, uint64_t *freed);
int cmd_volume_df(struct img_store *s, size_t *total, size_t *active, uint64_t *size);

static const char *data_root(void)
{
	return cabin_globals.data_root && *cabin_globals.data_root ? cabin_globals.data_root
								   : IMG_DEFAULT_ROOT;
}

static int bad_opt(const char *verb, struct cabin_err **err)
{
	return cabin_err_make(err, 0, "container %s: bad option (see `cabin container %s --help`)",
			      verb, verb);
}

/* 512m, 1g, 100k, 1048576: bytes */
static int parse_size(const char *s, int64_t *out, const char *what, struct cabin_err **err)
{
	char *end;
	double v = strtod(s, &end);
	int64_t mul = 1;

	switch (tolower((unsigned char)*end)) {
	case 'k':
		mul = 1024;
		end++;
		break;
	case 'm':
		mul = 1024 * 1024;
		end++;
		break;
	case 'g':
		mul = 1024LL * 1024 * 1024;
		end++;
		break;
	case 'b':
		end++;
		break;
	default:
		break;
	}
	if (tolower((unsigned char)*end) == 'b')
		end++;
	if (end == s || *end || v <= 0 || v * (double)mul > 9e18)
		return cabin_err_make(err, 0, "%s `%s`: expected a size such as 512m or 1g", what,
				      s);
	*out = (int64_t)(v * (double)mul);
	return 0;
}

static int read_env_file(const char *path, char ***env, struct cabin_err **err)
{
	cleanup_fclose FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return cabin_err_make(err, errno, "--env-file `%s`", path);
	while ((n = getline(&line, &cap, f)) > 0) {
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (!n || line[0] == '#')
			continue;
		if (strchr(line, '='))
			strv_append(env, line);
		else if (getenv(line)) {
			/* `KEY` alone takes the value from our environment, as Docker does */
			cleanup_free char *kv = xasprintf("%s=%s", line, getenv(line));

			strv_append(env, kv);
		}
	}
	free(line);
	return 0;
}

/* RFC 1123 host names: letters, digits, `-` and `.`, not starting with `-` or `.` */
static int hostname_ok(const char *h)
{
	size_t n = strlen(h);

	if (!n || n > 63 || h[0] == '-' || h[0] == '.')
		return 0;
	for (const char *p = h; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
			return 0;
	return 1;
}

static int ip_ok(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* --add-host HOST:IP (Docker also takes HOST=IP, and [v6] in brackets) */
static int add_host_ok(const char *spec, struct cabin_err **err)
{
	cleanup_free char *host = NULL, *ip = NULL;

	if (box_add_host_split(spec, &host, &ip) < 0 || !hostname_ok(host) ||
	    (strcmp(ip, "host-gateway") && !ip_ok(ip)))
		return cabin_err_make(err, 0,
				      "--add-host `%s`: expected HOST:IP (IP an address or "
				      "host-gateway)",
				      spec);
	return 0;
}

static int parse_security_opt(const char *v, struct box_run_opts *o, struct cabin_err **err)
{
	const char *sep = strpbrk(v, "=:");
	size_t klen = sep ? (size_t)(sep - v) : strlen(v);
	const char *val = sep ? sep + 1 : NULL;

	if (klen == 17 && !strncmp(v, "no-new-privileges", 17)) {
		if (!val || !strcmp(val, "true"))
			o->no_new_privs = 1;
		else if (!strcmp(val, "false"))
			o->no_new_privs = 0;
		else
			return cabin_err_make(err, 0,
					      "--security-opt `%s`: no-new-privileges takes true "
					      "or false",
					      v);
		return 0;
	}
	if (klen == 7 && !strncmp(v, "seccomp", 7) && val && *val) {
		o->seccomp = val;
		return 0;
	}
	/* this host kind has neither: Docker on such a host accepts these and does nothing */
	if ((klen == 8 && !strncmp(v, "apparmor", 8) && val && !strcmp(val, "unconfined")) ||
	    (klen == 5 && !strncmp(v, "label", 5) && val && !strcmp(val, "disable")))
		return 0;
	return cabin_err_make(err, 0,
			      "--security-opt `%s`: no-new-privileges[=true|false] or "
			      "seccomp=unconfined|PROFILE.json",
			      v);
}

static int parse_restart(const char *v, struct box_run_opts *o, struct cabin_err **err)
{
	o->restart_max = 0;
	if (!strcmp(v, "no") || !strcmp(v, "always") || !strcmp(v, "unless-stopped") ||
	    !strcmp(v, "on-failure")) {
		o->restart = v;
		return 0;
	}
	if (!strncmp(v, "on-failure:", 11)) {
		char *end;
		long n = strtol(v + 11, &end, 10);

		if (end != v + 11 && !*end && n >= 0 && n < 1000000) {
			o->restart = "on-failure";
			o->restart_max = (int)n;
			return 0;
		}
	}
	return cabin_err_make(err, 0,
			      "--restart `%s`: no, on-failure[:MAX-RETRIES], always or "
			      "unless-stopped",
			      v);
}

static int read_label_file(const char *path, char ***labels, struct cabin_err **err)
{
	cleanup_fclose FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return cabin_err_make(err, errno, "--label-file `%s`", path);
	while ((n = getline(&line, &cap, f)) > 0) {
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (!n || line[0] == '#')
			continue;
		strv_append(labels, line);
	}
	free(line);
	return 0;
}

static const char run_usage[] =
	"usage: cabin container run [OPTIONS] IMAGE [COMMAND [ARG...]]\n"
	"Create a container from IMAGE (pulled if missing) and run it under a monitor process.\n"
	"  --rm                 remove the container when it exits\n"
	"  -d, --detach         print the ID and return; the container keeps running\n"
	"  --name NAME          a unique name\n"
	"  -e, --env K=V        set an environment variable; --env-file FILE: one per line\n"
	"  -w, --workdir DIR    working directory\n"
	"  -u, --user U[:G]     user and group, names looked up in the image\n"
	"  --entrypoint CMD     replace the image's Entrypoint (and its Cmd)\n"
	"  -p, --publish [IP:]HOST:CTR[/udp]   publish a port\n"
	"  --network bridge|none|host|NAME     default bridge (cabin0)\n"
	"  -v, --volume SRC:DST[:ro]           a named volume or a host path\n"
	"  --mount type=bind|volume|tmpfs,source=S,target=D[,readonly]\n"
	"  --tmpfs DST[:OPTS]   a tmpfs\n"
	"  -m, --memory SIZE, --cpus N, --pids-limit N, --read-only\n"
	"  -i, --interactive    keep stdin open; -t, --tty: a pseudo-terminal\n"
	"  --log-driver json-file|k8s-file, --log-opt max-size=10m,max-file=3\n"
	"  --platform OS/ARCH, --pull missing|always|never\n"
	"  -h, --hostname NAME  the container's host name\n"
	"  --add-host HOST:IP   an /etc/hosts entry (IP may be host-gateway)\n"
	"  --dns IP, --dns-search DOMAIN, --dns-option OPT   resolv.conf, instead of the host's\n"
	"  --cap-add CAP, --cap-drop CAP   change Docker's default capabilities (CAP may be ALL)\n"
	"  --privileged         every capability and host device, no masked or read-only paths\n"
	"  --security-opt no-new-privileges[=true|false] | seccomp=unconfined|PROFILE.json\n"
	"                       (without seccomp=: the default profile, see the README)\n"
	"  --device HOST[:CTR[:rwm]]   a host device node\n"
	"  --group-add GROUP    a supplementary group (name in the image's /etc/group or GID)\n"
	"  --ulimit NAME=SOFT[:HARD]   a resource limit (nofile, nproc, core, stack...)\n"
	"  --shm-size SIZE      the size of /dev/shm (default 64m)\n"
	"  --stop-signal SIG, --stop-timeout SECONDS   how `container stop` ends it (-1: "
	"no limit)\n"
	"  -l, --label K=V      a label (--label-file FILE: one per line)\n"
	"  --restart no|on-failure[:N]|always|unless-stopped   run it again when it exits\n"
	"  --init               a small init as PID 1 that reaps zombies and forwards signals\n";

static int container_run(int argc, char **argv, int create, struct cabin_err **err)
{
	enum {
		OPT_RM = 256,
		OPT_NAME,
		OPT_ENVFILE,
		OPT_ENTRY,
		OPT_NET,
		OPT_MOUNT,
		OPT_TMPFS,
		OPT_CPUS,
		OPT_PIDS,
		OPT_RO,
		OPT_LOGDRV,
		OPT_LOGOPT,
		OPT_PLATFORM,
		OPT_PULL,
		OPT_ADDHOST,
		OPT_DNS,
		OPT_DNSSEARCH,
		OPT_DNSOPT,
		OPT_CAPADD,
		OPT_CAPDROP,
		OPT_PRIV,
		OPT_SECOPT,
		OPT_DEVICE,
		OPT_GROUPADD,
		OPT_ULIMIT,
		OPT_SHM,
		OPT_STOPSIG,
		OPT_STOPTIME,
		OPT_LABELFILE,
		OPT_RESTART,
		OPT_INIT,
		OPT_HELP,
	};
	static const struct option opts[] = {
		{ "rm", no_argument, NULL, OPT_RM },
		{ "detach", no_argument, NULL, 'd' },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "env", required_argument, NULL, 'e' },
		{ "env-file", required_argument, NULL, OPT_ENVFILE },
		{ "workdir", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' },
		{ "entrypoint", required_argument, NULL, OPT_ENTRY },
		{ "publish", required_argument, NULL, 'p' },
		{ "network", required_argument, NULL, OPT_NET },
		{ "net", required_argument, NULL, OPT_NET },
		{ "volume", required_argument, NULL, 'v' },
		{ "mount", required_argument, NULL, OPT_MOUNT },
		{ "tmpfs", required_argument, NULL, OPT_TMPFS },
		{ "memory", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "pids-limit", required_argument, NULL, OPT_PIDS },
		{ "read-only", no_argument, NULL, OPT_RO },
		{ "interactive", no_argument, NULL, 'i' },
		{ "tty", no_argument, NULL, 't' },
		{ "log-driver", required_argument, NULL, OPT_LOGDRV },
		{ "log-opt", required_argument, NULL, OPT_LOGOPT },
		{ "platform", required_argument, NULL, OPT_PLATFORM },
		{ "pull", required_argument, NULL, OPT_PULL },
		{ "hostname", required_argument, NULL, 'h' },
		{ "add-host", required_argument, NULL, OPT_ADDHOST },
		{ "dns", required_argument, NULL, OPT_DNS },
		{ "dns-search", required_argument, NULL, OPT_DNSSEARCH },
		{ "dns-option", required_argument, NULL, OPT_DNSOPT },
		{ "dns-opt", required_argument, NULL, OPT_DNSOPT },
		{ "cap-add", required_argument, NULL, OPT_CAPADD },
		{ "cap-drop", required_argument, NULL, OPT_CAPDROP },
		{ "privileged", no_argument, NULL, OPT_PRIV },
		{ "security-opt", required_argument, NULL, OPT_SECOPT },
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "group-add", required_argument, NULL, OPT_GROUPADD },
		{ "ulimit", required_argument, NULL, OPT_ULIMIT },
		{ "shm-size", required_argument, NULL, OPT_SHM },
		{ "stop-signal", required_argument, NULL, OPT_STOPSIG },
		{ "stop-timeout", required_argument, NULL, OPT_STOPTIME },
		{ "label", required_argument, NULL, 'l' },
		{ "label-file", required_argument, NULL, OPT_LABELFILE },
		{ "restart", required_argument, NULL, OPT_RESTART },
		{ "init", no_argument, NULL, OPT_INIT },
		{ "help", no_argument, NULL, OPT_HELP },
		{ 0 },
	};
	struct box_run_opts o = { .data_root = data_root(),
				  .runtime_root = cabin_globals.root,
				  .log_max_file = 1,
				  .stop_timeout = BOX_TIMEOUT_UNSET,
				  .create_only = create };
	cleanup_strv char **env = NULL, **vols = NULL, **mounts = NULL, **tmpfs = NULL;
	cleanup_strv char **publish = NULL, **addh = NULL, **dns = NULL, **dnss = NULL;
	cleanup_strv char **dnso = NULL, **capa = NULL, **capd = NULL, **devs = NULL;
	cleanup_strv char **grps = NULL, **ulim = NULL, **labels = NULL;
	cleanup_free struct net_port *ports = NULL;
	char id[65];
	int c, ret;

	while ((c = getopt_long(argc, argv, "+de:w:u:p:v:m:ith:l:", opts, NULL)) != -1) {
		switch (c) {
		case OPT_RM:
			o.rm = 1;
			break;
		case 'd':
			o.detach = 1;
			break;
		case OPT_NAME:
			o.name = optarg;
			break;
		case 'e':
			if (strchr(optarg, '='))
				strv_append(&env, optarg);
			else if (getenv(optarg)) {
				cleanup_free char *kv = xasprintf("%s=%s", optarg, getenv(optarg));

				strv_append(&env, kv);
			}
			break;
		case OPT_ENVFILE:
			if (read_env_file(optarg, &env, err) < 0)
				return -1;
			break;
		case 'w':
			o.workdir = optarg;
			break;
		case 'u':
			o.user = optarg;
			break;
		case OPT_ENTRY:
			o.entrypoint = optarg;
			o.entrypoint_set = 1;
			break;
		case 'p': {
			struct net_port *np = xrealloc(ports, (o.nports + 1) * sizeof(*ports));

			ports = np;
			if (net_port_parse(optarg, &ports[o.nports], err) < 0)
				return cabin_err_wrap(err, "-p `%s`", optarg);
			o.nports++;
			strv_append(&publish, optarg);
			break;
		}
		case OPT_NET:
			o.network = optarg;
			break;
		case 'v':
			strv_append(&vols, optarg);
			break;
		case OPT_MOUNT:
			strv_append(&mounts, optarg);
			break;
		case OPT_TMPFS:
			strv_append(&tmpfs, optarg);
			break;
		case 'm':
			if (parse_size(optarg, &o.memory, "--memory", err) < 0)
				return -1;
			break;
		case OPT_CPUS: {
			char *end;
			double v = strtod(optarg, &end);

			if (end == optarg || *end || v <= 0 || v > 1024)
				return cabin_err_make(
					err, 0, "--cpus `%s`: a number such as 0.5 or 2", optarg);
			o.cpu_quota = (int64_t)(v * 100000);
			break;
		}
		case OPT_PIDS: {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (end == optarg || *end || v <= 0)
				return cabin_err_make(
					err, 0, "--pids-limit `%s`: a positive number", optarg);
			o.pids_limit = v;
			break;
		}
		case OPT_RO:
			o.read_only = 1;
			break;
		case 'i':
			o.interactive = 1;
			break;
		case 't':
			o.tty = 1;
			break;
		case OPT_LOGDRV:
			if (strcmp(optarg, "json-file") && strcmp(optarg, "k8s-file"))
				return cabin_err_make(
					err, 0, "--log-driver `%s`: json-file or k8s-file", optarg);
			o.log_driver = optarg;
			break;
		case OPT_LOGOPT:
			if (!strncmp(optarg, "max-size=", 9)) {
				int64_t v;

				if (parse_size(optarg + 9, &v, "--log-opt max-size", err) < 0)
					return -1;
				o.log_max_size = (uint64_t)v;
				if (o.log_max_file < 2)
					o.log_max_file = 2;
			} else if (!strncmp(optarg, "max-file=", 9) && atoi(optarg + 9) > 0 &&
				   atoi(optarg + 9) < 100) {
				o.log_max_file = atoi(optarg + 9);
			} else {
				return cabin_err_make(err, 0,
						      "--log-opt `%s`: max-size=SIZE or max-file=N",
						      optarg);
			}
			break;
		case OPT_PLATFORM:
			o.platform = optarg;
			break;
		case OPT_PULL:
			if (strcmp(optarg, "missing") && strcmp(optarg, "always") &&
			    strcmp(optarg, "never"))
				return cabin_err_make(
					err, 0, "--pull `%s`: missing, always or never", optarg);
			o.pull = optarg;
			break;
		case 'h':
			if (!hostname_ok(optarg))
				return cabin_err_make(
					err, 0,
					"--hostname `%s`: letters, digits, `-` and `.`, "
					"at most 63 characters",
					optarg);
			o.hostname = optarg;
			break;
		case OPT_ADDHOST:
			if (add_host_ok(optarg, err) < 0)
				return -1;
			strv_append(&addh, optarg);
			break;
		case OPT_DNS:
			if (!ip_ok(optarg))
				return cabin_err_make(err, 0, "--dns `%s`: not an IP address",
						      optarg);
			strv_append(&dns, optarg);
			break;
		case OPT_DNSSEARCH:
			if (!*optarg || strpbrk(optarg, " \t\n"))
				return cabin_err_make(err, 0, "--dns-search `%s`: a domain name",
						      optarg);
			strv_append(&dnss, optarg);
			break;
		case OPT_DNSOPT:
			if (!*optarg || strpbrk(optarg, " \t\n"))
				return cabin_err_make(
					err, 0, "--dns-option `%s`: an option such as ndots:2",
					optarg);
			strv_append(&dnso, optarg);
			break;
		case OPT_CAPADD:
		case OPT_CAPDROP:
			if (box_cap_normalize(optarg, NULL) < 0)
				return cabin_err_make(err, 0, "--cap-%s `%s`: unknown capability",
						      c == OPT_CAPADD ? "add" : "drop", optarg);
			strv_append(c == OPT_CAPADD ? &capa : &capd, optarg);
			break;
		case OPT_PRIV:
			o.privileged = 1;
			break;
		case OPT_SECOPT:
			if (parse_security_opt(optarg, &o, err) < 0)
				return -1;
			break;
		case OPT_DEVICE:
			strv_append(&devs, optarg);
			break;
		case OPT_GROUPADD:
			strv_append(&grps, optarg);
			break;
		case OPT_ULIMIT:
			strv_append(&ulim, optarg);
			break;
		case OPT_SHM:
			if (parse_size(optarg, &o.shm_size, "--shm-size", err) < 0)
				return -1;
			break;
		case OPT_STOPSIG:
			if (box_signal_parse(optarg) <= 0)
				return cabin_err_make(err, 0, "--stop-signal `%s`: unknown signal",
						      optarg);
			o.stop_signal = optarg;
			break;
		case OPT_STOPTIME: {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (end == optarg || *end || v < -1 || v > 86400 * 365)
				return cabin_err_make(
					err, 0,
					"--stop-timeout `%s`: seconds (0 or more, -1: no limit)",
					optarg);
			o.stop_timeout = (int)v;
			break;
		}
		case 'l':
			if (!*optarg || *optarg == '=')
				return cabin_err_make(err, 0, "--label `%s`: expected KEY=VALUE",
						      optarg);
			strv_append(&labels, optarg);
			break;
		case OPT_LABELFILE:
			if (read_label_file(optarg, &labels, err) < 0)
				return -1;
			break;
		case OPT_RESTART:
			if (parse_restart(optarg, &o, err) < 0)
				return -1;
			break;
		case OPT_INIT:
			o.init = 1;
			break;
		case OPT_HELP:
			if (create)
				fputs("usage: cabin container create [OPTIONS] IMAGE [COMMAND "
				      "[ARG...]]\n"
				      "Create a container as `run` does, without starting it "
				      "(`cabin "
				      "container start`).\nThe options are those of `cabin "
				      "container "
				      "run` but -d, -i and -t are kept for the start.\n",
				      stdout);
			fputs(run_usage, stdout);
			return 0;
		default:
			return bad_opt("run", err);
		}
	}
	if (optind >= argc)
		return cabin_err_make(err, 0, "container %s: an image is required",
				      create ? "create" : "run");
	if (o.rm && o.detach && 0)
		return 0;
	o.image = argv[optind];
	o.cmd = argv + optind + 1;
	o.env = env;
	o.volumes = vols;
	o.mounts = mounts;
	o.tmpfs = tmpfs;
	o.ports = ports;
	o.publish = publish;
	o.add_hosts = addh;
	o.dns = dns;
	o.dns_search = dnss;
	o.dns_options = dnso;
	o.cap_add = capa;
	o.cap_drop = capd;
	o.devices = devs;
	o.group_add = grps;
	o.ulimits = ulim;
	o.labels = labels;
	if (o.network && o.nports && (!strcmp(o.network, "host") || !strcmp(o.network, "none")))
		return cabin_err_make(err, 0, "-p needs a bridge network, not `%s`", o.network);
	if (o.rm && o.restart && strcmp(o.restart, "no"))
		return cabin_err_make(err, 0, "--restart `%s` and --rm: conflicting options",
				      o.restart);
	ret = box_run(&o, id, err);
	if (ret < 0)
		return cabin_err_wrap(err, "container %s", create ? "create" : "run");
	if (o.detach || create)
		printf("%s\n", id);
	return ret;
}

/* Commands that take container names: ps-free helpers. */
static int each_container(const char *verb, int argc, char **argv, int first,
			  int (*fn)(const char *id, const char *ref, void *arg), void *arg,
			  struct cabin_err **err)
{
	int ret = 0;

	if (first >= argc)
		return cabin_err_make(err, 0, "container %s: at least one container is required",
				      verb);
	for (int i = first; i < argc; i++) {
		struct cabin_err *e = NULL;
		char id[65];

		if (box_find(data_root(), argv[i], id, &e) < 0 || fn(id, argv[i], arg) < 0) {
			if (!e)
				e = *(struct cabin_err **)arg;
			fprintf(stderr, "cabin: container %s: %s\n", verb, cabin_err_msg(e));
			if (e != *(struct cabin_err **)arg)
				cabin_err_release(&e);
			ret = 1;
		}
	}
	return ret;
}

struct op_arg {
	struct cabin_err *e; /* first: each_container reads it */
	int force, timeout, sig, attach, interactive;
};

static int do_rm(const char *id, const char *ref, void *a)
{
	struct op_arg *o = a;

	cabin_err_release(&o->e);
	if (box_rm(data_root(), id, o->force, &o->e) < 0)
		return -1;
	printf("%s\n", ref);
	return 0;
}

static int do_stop(const char *id, const char *ref, void *a)
{
	struct op_arg *o = a;

	cabin_err_release(&o->e);
	if (box_stop(data_root(), id, o->timeout, &o->e) < 0)
		return -1;
	printf("%s\n", ref);
	return 0;
}

static int do_kill(const char *id, const char *ref, void *a)
{
	struct op_arg *o = a;

	cabin_err_release(&o->e);
	if (box_kill(data_root(), id, o->sig, &o->e) < 0)
		return -1;
	printf("%s\n", ref);
	return 0;
}

static int do_start(const char *id, const char *ref, void *a)
{
	struct op_arg *o = a;

	cabin_err_release(&o->e);
	if (box_start(data_root(), id, 0, 0, &o->e) < 0)
		return -1;
	printf("%s\n", ref);
	return 0;
}

static int do_wait(const char *id, const char *ref, void *a)
{
	struct op_arg *o = a;

	cabin_err_release(&o->e);
	printf("%d\n", box_wait(data_root(), id, &o->e));
	fflush(stdout);
	return 0;
}

static int simple_opts(const char *verb, const char *usage, const char *shortopts, int argc,
		       char **argv, struct op_arg *oa, struct cabin_err **err)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "time", required_argument, NULL, 't' },
		{ "signal", required_argument, NULL, 's' },
		{ "attach", no_argument, NULL, 'a' },
		{ "interactive", no_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			oa->force = 1;
			break;
		case 'a':
			oa->attach = 1;
			break;
		case 'i':
			oa->interactive = 1;
			break;
		case 't': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (end == optarg || *end || v < -1 || v > 86400 * 365)
				return cabin_err_make(err, 0, "-t `%s`: seconds (-1: no limit)",
						      optarg);
			oa->timeout = (int)v;
			break;
		}
		case 's': {
			const char *s = optarg;

			if (!strncmp(s, "SIG", 3))
				s += 3;
			oa->sig = isdigit((unsigned char)*s) ? atoi(s) : 0;
			for (int i = 1; !oa->sig && i < NSIG; i++)
				if (sigabbrev_np(i) && !strcmp(sigabbrev_np(i), s))
					oa->sig = i;
			if (oa->sig <= 0 || oa->sig >= NSIG)
				return cabin_err_make(err, 0, "unknown signal `%s`", optarg);
			break;
		}
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
			return bad_opt(verb, err);
		}
	}
	return 0;
}

static int container_simple(const char *verb, int argc, char **argv, struct cabin_err **err)
{
	struct op_arg oa = { .timeout = BOX_TIMEOUT_UNSET, .sig = SIGKILL };
	int ret;

	if (!strcmp(verb, "rm")) {
		ret = simple_opts(verb, "usage: cabin container rm [-f] CONTAINER...\n", "+fh",
				  argc, argv, &oa, err);
		if (ret)
			return ret < 0 ? ret : 0;
		ret = each_container(verb, argc, argv, optind, do_rm, &oa, err);
	} else if (!strcmp(verb, "stop")) {
		ret = simple_opts(verb,
				  "usage: cabin container stop [-t SECONDS] CONTAINER...\n"
				  "The --stop-signal or the image's StopSignal (default SIGTERM), "
				  "SIGKILL after\n"
				  "-t seconds (default: --stop-timeout of run, else 10; -1: no "
				  "limit).\n",
				  "+t:h", argc, argv, &oa, err);
		if (ret)
			return ret < 0 ? ret : 0;
		ret = each_container(verb, argc, argv, optind, do_stop, &oa, err);
	} else if (!strcmp(verb, "kill")) {
		ret = simple_opts(verb, "usage: cabin container kill [-s SIGNAL] CONTAINER...\n",
				  "+s:h", argc, argv, &oa, err);
		if (ret)
			return ret < 0 ? ret : 0;
		ret = each_container(verb, argc, argv, optind, do_kill, &oa, err);
	} else if (!strcmp(verb, "start")) {
		ret = simple_opts(
			verb,
			"usage: cabin container start [-a [-i]] CONTAINER...\n"
			"Start created or exited containers, detached; with -a (--attach) "
			"one, in the\n"
			"foreground: its output here (our stdin with -i, --interactive), "
			"signals\n"
			"forwarded, and its exit status as ours.\n",
			"+aih", argc, argv, &oa, err);
		if (ret)
			return ret < 0 ? ret : 0;
		if (oa.attach) {
			char id[65];

			if (argc - optind != 1)
				return cabin_err_make(err, 0,
						      "container start -a: one container, not %d",
						      argc - optind);
			if (box_find(data_root(), argv[optind], id, err) < 0)
				return cabin_err_wrap(err, "container start");
			ret = box_start(data_root(), id, 1, oa.interactive, err);
			return ret < 0 ? cabin_err_wrap(err, "container start") : ret;
		}
		if (oa.interactive)
			return cabin_err_make(err, 0, "container start -i: only with -a");
		ret = each_container(verb, argc, argv, optind, do_start, &oa, err);
	} else {
		ret = simple_opts(verb, "usage: cabin container wait CONTAINER...\n", "+h", argc,
				  argv, &oa, err);
		if (ret)
			return ret < 0 ? ret : 0;
		ret = each_container(verb, argc, argv, optind, do_wait, &oa, err);
	}
	cabin_err_release(&oa.e);
	return ret;
}

static const char *ago(const char *ts, char *buf, size_t len)
{
	struct tm tm = { 0 };
	long d;

	if (!ts || !strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm))
		return "";
	d = (long)(time(NULL) - timegm(&tm));
	if (d < 60)
		snprintf(buf, len, "%ld seconds", d < 1 ? 1 : d);
	else if (d < 3600)
		snprintf(buf, len, "%ld minutes", d / 60);
	else if (d < 172800)
		snprintf(buf, len, "%ld hours", d / 3600);
	else
		snprintf(buf, len, "%ld days", d / 86400);
	return buf;
}

/* Does @rec pass one ps filter KEY=VALUE? */
static int filter_one(json_t *rec, const char *key, const char *val)
{
	if (!strcmp(key, "label")) {
		const char *eq = strchr(val, '=');
		cleanup_free char *k = xstrndup(val, eq ? (size_t)(eq - val) : strlen(val));
		json_t *v = json_object_get(json_object_get(rec, "labels"), k);

		return v && (!eq || !strcmp(json_string_value(v) ?: "", eq + 1));
	}
	if (!strcmp(key, "name"))
		return strstr(json_string_value(json_object_get(rec, "name")) ?: "", val) != NULL;
	if (!strcmp(key, "id"))
		return !strncmp(json_string_value(json_object_get(rec, "id")) ?: "", val,
				strlen(val));
	if (!strcmp(key, "status"))
		return !strcmp(box_status(rec), val);
	return 0;
}

/*
 * Docker's ps filters: the values of one key are alternatives, except label whose values
 * must all match; different keys must all match.
 */
static int filter_match(json_t *rec, char **filters)
{
	static const char *const keys[] = { "label", "name", "id", "status" };

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		size_t klen = strlen(keys[k]);
		int seen = 0, hit = 0, label = !strcmp(keys[k], "label");

		for (size_t i = 0; filters && filters[i]; i++) {
			if (strncmp(filters[i], keys[k], klen) || filters[i][klen] != '=')
				continue;
			seen = 1;
			if (filter_one(rec, keys[k], filters[i] + klen + 1))
				hit = 1;
			else if (label)
				return 0;
		}
		if (seen && !hit)
			return 0;
	}
	return 1;
}

int cmd_container_ps(int argc, char **argv, struct cabin_err **err)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "filter", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *const states[] = { "created", "running", "restarting", "exited" };
	cleanup_json json_t *all = NULL;
	cleanup_strv char **filters = NULL;
	json_t *rec;
	int c, showall = 0, quiet = 0;
	size_t i;

	while ((c = getopt_long(argc, argv, "+aqf:h", opts, NULL)) != -1) {
		if (c == 'a')
			showall = 1;
		else if (c == 'q')
			quiet = 1;
		else if (c == 'f') {
			const char *eq = strchr(optarg, '=');
			size_t kl = eq ? (size_t)(eq - optarg) : 0;
			int ok = eq && eq[1] &&
				 ((kl == 5 && !strncmp(optarg, "label", 5)) ||
				  (kl == 4 && !strncmp(optarg, "name", 4)) ||
				  (kl == 2 && !strncmp(optarg, "id", 2)) ||
				  (kl == 6 && !strncmp(optarg, "status", 6)));

			if (!ok)
				return cabin_err_make(
					err, 0,
					"--filter `%s`: label=KEY[=VALUE], name=NAME, "
					"id=ID or status=STATUS",
					optarg);
			if (kl == 6) {
				size_t k;

				for (k = 0; k < sizeof(states) / sizeof(states[0]); k++)
					if (!strcmp(eq + 1, states[k]))
						break;
				if (k == sizeof(states) / sizeof(states[0]))
					return cabin_err_make(err, 0,
							      "--filter `%s`: status is created, "
							      "running, restarting or exited",
							      optarg);
				showall = 1; /* Docker: a status filter looks at every container */
			}
			strv_append(&filters, optarg);
		} else if (c == 'h') {
			fputs("usage: cabin container ps [-a] [-q] [-f KEY=VALUE]...\n"
			      "List running containers (-a: all). Filters: label=KEY[=VALUE], "
			      "name=NAME, id=ID, status=created|running|restarting|exited.\n",
			      stdout);
			return 0;
		} else
			return bad_opt("ps", err);
	}
	all = box_list(data_root());
	if (!quiet)
		printf("%-12s  %-36s  %-24s  %-14s  %-20s  %-20s  %s\n", "CONTAINER ID", "IMAGE",
		       "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES");
	json_array_foreach(all, i, rec)
	{
		const char *st = box_status(rec);
		char cmd[64] = "", created[32], status[64], since[32], ports[128] = "";
		json_t *v;
		size_t k, n = 0;

		/* Docker's ps lists restarting containers with the running ones */
		if ((!showall && strcmp(st, "running") && strcmp(st, "restarting")) ||
		    !filter_match(rec, filters))
			continue;
		if (quiet) {
			printf("%.12s\n", json_string_value(json_object_get(rec, "id")));
			continue;
		}
		json_array_foreach(json_object_get(rec, "cmd"), k, v) n += (size_t)snprintf(
			cmd + MIN(n, sizeof(cmd) - 1), sizeof(cmd) - MIN(n, sizeof(cmd) - 1),
			"%s%s", k ? " " : "", json_string_value(v));
		json_array_foreach(json_object_get(rec, "ports"), k, v)
		{
			size_t l = strlen(ports);

			snprintf(ports + l, sizeof(ports) - l, "%s%s", k ? "," : "",
				 json_string_value(v));
		}
		ago(json_string_value(json_object_get(rec, "created")), created, sizeof(created));
		if (!strcmp(st, "running"))
			snprintf(status, sizeof(status), "Up %s",
				 ago(json_string_value(json_object_get(rec, "startedAt")), since,
				     sizeof(since)));
		else if (!strcmp(st, "exited") || !strcmp(st, "restarting"))
			snprintf(status, sizeof(status), "%s (%lld) %s ago",
				 !strcmp(st, "exited") ? "Exited" : "Restarting",
				 (long long)json_integer_value(json_object_get(rec, "exitCode")),
				 ago(json_string_value(json_object_get(rec, "finishedAt")), since,
				     sizeof(since)));
		else
			snprintf(status, sizeof(status), "%s", st);
		printf("%.12s  %-36.36s  \"%-.22s\"  %-14s  %-20s  %-20s  %s\n",
		       json_string_value(json_object_get(rec, "id")),
		       json_string_value(json_object_get(rec, "imageName")), cmd,
		       created[0] ? created : "", status, ports,
		       json_string_value(json_object_get(rec, "name")));
	}
	return 0;
}

static int container_logs(int argc, char **argv, struct cabin_err **err)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "tail", required_argument, NULL, 'n' },
		{ "timestamps", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct box_logs_opts o = { .tail = -1 };
	char id[65];
	int c;

	while ((c = getopt_long(argc, argv, "+fn:th", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o.follow = 1;
			break;
		case 'n':
			o.tail = !strcmp(optarg, "all") ? -1 : atol(optarg);
			if (o.tail < -1 || (o.tail == 0 && strcmp(optarg, "0")))
				return cabin_err_make(err, 0, "--tail `%s`: a number or all",
						      optarg);
			break;
		case 't':
			o.timestamps = 1;
			break;
		case 'h':
			fputs("usage: cabin container logs [-f] [--tail N] [-t] CONTAINER\n",
			      stdout);
			return 0;
		default:
			return bad_opt("logs", err);
		}
	}
	if (optind + 1 != argc)
		return cabin_err_make(err, 0, "container logs: one container is required");
	if (box_find(data_root(), argv[optind], id, err) < 0)
		return -1;
	return box_logs(data_root(), id, &o, err);
}

static int container_exec(int argc, char **argv, struct cabin_err **err)
{
	static const struct option opts[] = {
		{ "interactive", no_argument, NULL, 'i' },
		{ "tty", no_argument, NULL, 't' },
		{ "detach", no_argument, NULL, 'd' },
		{ "env", required_argument, NULL, 'e' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	cleanup_strv char **env = NULL;
	const char *wd = NULL, *user = NULL;
	int c, tty = 0, detach = 0;
	char id[65];

	while ((c = getopt_long(argc, argv, "+itde:w:u:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			break; /* stdin is always passed through */
		case 't':
			tty = 1;
			break;
		case 'd':
			detach = 1;
			break;
		case 'e':
			strv_append(&env, optarg);
			break;
		case 'w':
			wd = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'h':
			fputs("usage: cabin container exec [-it] [-d] [-e K=V] [-w DIR] [-u USER] "
			      "CONTAINER CMD [ARG...]\n",
			      stdout);
			return 0;
		default:
			return bad_opt("exec", err);
		}
	}
	if (optind + 2 > argc)
		return cabin_err_make(err, 0,
				      "container exec: a container and a command are "
				      "required");
	if (box_find(data_root(), argv[optind], id, err) < 0)
		return -1;
	return box_exec(data_root(), id, argv + optind + 1, env, wd, user, tty, detach, err);
}

static int container_inspect(int argc, char **argv, struct cabin_err **err)
{
	cleanup_json json_t *out = NULL;
	char *txt;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs("usage: cabin container inspect CONTAINER...\n", stdout);
		return argc < 2 ? cabin_err_make(err, 0,
						 "container inspect: a container is "
						 "required")
				: 0;
	}
	out = json_array();
	for (int i = 1; i < argc; i++) {
		char id[65];
		cleanup_json json_t *rec = NULL;

		if (box_find(data_root(), argv[i], id, err) < 0 ||
		    box_load(data_root(), id, &rec, err) < 0)
			return -1;
		json_array_append_new(out, box_inspect(rec));
	}
	txt = json_dumps(out, JSON_INDENT(4));
	printf("%s\n", txt);
	free(txt);
	return 0;
}

int cmd_container(int argc, char **argv, struct cabin_err **err)
{
	const char *sub = argc >= 2 ? argv[1] : NULL;

	if (!sub || !strcmp(sub, "--help") || !strcmp(sub, "-h")) {
		fputs("usage: cabin container run|create|start|ps|logs|exec|stop|kill|rm|inspect|"
		      "wait ...\n",
		      sub ? stdout : stderr);
		return sub ? 0 : cabin_err_make(err, 0, "container: a subcommand is required");
	}
	optind = 0;
	argc--;
	argv++;
	if (!strcmp(sub, "run") || !strcmp(sub, "create"))
		return container_run(argc, argv, !strcmp(sub, "create"), err);
	if (!strcmp(sub, "ps") || !strcmp(sub, "ls") || !strcmp(sub, "list"))
		return cmd_container_ps(argc, argv, err);
	if (!strcmp(sub, "logs"))
		return container_logs(argc, argv, err);
	if (!strcmp(sub, "exec"))
		return container_exec(argc, argv, err);
	if (!strcmp(sub, "inspect"))
		return container_inspect(argc, argv, err);
	if (!strcmp(sub, "rm") || !strcmp(sub, "stop") || !strcmp(sub, "kill") ||
	    !strcmp(sub, "wait") || !strcmp(sub, "start"))
		return container_simple(sub, argc, argv, err);
	if (!strcmp(sub, "prune")) {
		uint64_t freed = 0;

		return box_prune(data_root(), &freed);
	}
	return cabin_err_make(err, 0, "container: unknown subcommand `%s`", sub);
}

int cmd_volume(int argc, char **argv, struct cabin_err **err)
{
	const char *sub = argc >= 2 ? argv[1] : NULL;

	if (!sub || !strcmp(sub, "--help") || !strcmp(sub, "-h")) {
		fputs("usage: cabin volume create NAME | ls | rm [-f] NAME... | inspect NAME...\n",
		      sub ? stdout : stderr);
		return sub ? 0 : cabin_err_make(err, 0, "volume: a subcommand is required");
	}
	if (!strcmp(sub, "create")) {
		if (argc != 3)
			return cabin_err_make(err, 0, "volume create: one name is required");
		if (box_volume_create(data_root(), argv[2], err) < 0)
			return -1;
		printf("%s\n", argv[2]);
		return 0;
	}
	if (!strcmp(sub, "ls") || !strcmp(sub, "list")) {
		cleanup_json json_t *all = box_volume_list(data_root());
		json_t *v;
		size_t i;

		printf("%-8s %s\n", "DRIVER", "VOLUME NAME");
		json_array_foreach(all, i, v)
			printf("%-8s %s\n", "local", json_string_value(json_object_get(v, "Name")));
		return 0;
	}
	if (!strcmp(sub, "rm") || !strcmp(sub, "inspect")) {
		int force = 0, ret = 0, first = 2;
		cleanup_json json_t *out = json_array();

		if (argc > 2 && (!strcmp(argv[2], "-f") || !strcmp(argv[2], "--force"))) {
			force = 1;
			first = 3;
		}
		if (first >= argc)
			return cabin_err_make(err, 0, "volume %s: a volume name is required", sub);
		for (int i = first; i < argc; i++) {
			if (!strcmp(sub, "rm")) {
				struct cabin_err *e = NULL;

				if (box_volume_rm(data_root(), argv[i], force, &e) < 0) {
					fprintf(stderr, "cabin: volume rm: %s\n", cabin_err_msg(e));
					cabin_err_release(&e);
					ret = 1;
				} else {
					printf("%s\n", argv[i]);
				}
			} else {
				cleanup_json json_t *all = box_volume_list(data_root());
				json_t *v, *hit = NULL;
				size_t k;

				json_array_foreach(
					all, k,
					v) if (!strcmp(json_string_value(json_object_get(v,
											 "Name")),
						       argv[i])) hit = v;
				if (!hit)
					return cabin_err_make(err, 0, "volume `%s` not found",
							      argv[i]);
				json_object_set_new(
					hit, "UsedBy",
					json_integer(box_volume_users(data_root(), argv[i])));
				json_array_append(out, hit);
			}
		}
		if (!strcmp(sub, "inspect")) {
			char *txt = json_dumps(out, JSON_INDENT(4));

			printf("%s\n", txt);
			free(txt);
		}
		return ret;
	}
	return cabin_err_make(err, 0, "volume: unknown subcommand `%s`", sub);
}

/* `system df` and `system prune`: the containers' and volumes' parts. */

int cmd_container_df(struct img_store *s, size_t *total, size_t *running, uint64_t *size)
{
	box_df(s->root, total, running, size);
	return 0;
}

int cmd_container_prune(struct img_store *s, uint64_t *freed)
{
	return box_prune(s->root, freed);
}

int cmd_volume_df(struct img_store *s, size_t *total, size_t *active, uint64_t *size)
{
	cleanup_json json_t *all = box_volume_list(s->root);
	json_t *v;
	size_t i;

	*total = json_array_size(all);
	*active = 0;
	*size = 0;
	json_array_foreach(all, i, v) *active +=
		box_volume_users(s->root, json_string_value(json_object_get(v, "Name"))) > 0;
	return 0;
}
