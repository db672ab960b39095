/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/xalloc.h"
#include "net/net.h"

static const char usage[] =
	"usage: cabin network COMMAND\n\n"
	"  create NAME [--subnet CIDR] [--gateway IP]   a user-defined bridge network\n"
	"  ls [-q]                                      list networks\n"
	"  rm NAME...                                   remove networks with no container\n"
	"  inspect NAME...                              print networks as JSON\n"
	"  connect [--netns PATH] [-p [IP:]HOST:CTR[/udp]]... [--name N] [--hostname H]\n"
	"          NETWORK ID                           attach a network namespace as ID\n"
	"  disconnect ID...                             undo connect\n"
	"  files ID                                     create ID's hosts, resolv.conf and\n"
	"                                               hostname files (to bind-mount)\n\n"
	"State lives under --data-root (default /var/lib/cabin)/network.\n";

static int want_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
	}
	return 0;
}

static int net_create(int argc, char **argv, struct cabin_err **err)
{
	static const struct option opts[] = {
		{ "subnet", required_argument, NULL, 's' },
		{ "gateway", required_argument, NULL, 'g' },
		{ "driver", required_argument, NULL, 'd' },
		{ 0 },
	};
	const char *subnet = NULL, *gateway = NULL;
	char id[65];
	int c;

	optind = 0; /* 0, not 1: glibc re-reads the ordering (options after NAME, as docker) */
	while ((c = getopt_long(argc, argv, "d:", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			subnet = optarg;
			break;
		case 'g':
			gateway = optarg;
			break;
		case 'd':
			if (strcmp(optarg, "bridge"))
				return cabin_err_make(
					err, 0,
					"network create: driver `%s` is not supported "
					"(only bridge)",
					optarg);
			break;
		default:
			return cabin_err_make(err, 0, "network create: bad option");
		}
	}
	if (optind + 1 != argc)
		return cabin_err_make(err, 0, "network create: exactly one NAME is required");
	if (net_network_create(cabin_globals.data_root, argv[optind], subnet, gateway, id, err) < 0)
		return -1;
	printf("%s\n", id);
	return 0;
}

static int net_ls(int argc, char **argv, struct cabin_err **err)
{
	cleanup_json json_t *arr = NULL;
	json_t *n;
	int quiet = 0;
	size_t i;

	for (int k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "-q") || !strcmp(argv[k], "--quiet"))
			quiet = 1;
		else
			return cabin_err_make(err, 0, "network ls: unexpected argument `%s`",
					      argv[k]);
	}
	if (net_network_list(cabin_globals.data_root, NULL, &arr, err) < 0)
		return -1;
	if (!quiet)
		printf("%-14s %-20s %-8s %-18s %s\n", "NETWORK ID", "NAME", "DRIVER", "SUBNET",
		       "CONTAINERS");
	json_array_foreach(arr, i, n)
	{
		const char *name = json_string_value(json_object_get(n, "Name"));
		const char *id = json_string_value(json_object_get(n, "Id"));
		const char *sub = json_string_value(json_object_get(n, "Subnet"));
		if (quiet) {
			printf("%s\n", name);
			continue;
		}
		printf("%-14.12s %-20s %-8s %-18s %zu\n", id, name,
		       json_string_value(json_object_get(n, "Driver")), sub ? sub : "-",
		       json_object_size(json_object_get(n, "Containers")));
	}
	return 0;
}

static int net_rm(int argc, char **argv, struct cabin_err **err)
{
	int failed = 0;

	if (argc < 2)
		return cabin_err_make(err, 0, "network rm: at least one NAME is required");
	for (int i = 1; i < argc; i++) {
		cleanup_err struct cabin_err *e = NULL;
		if (net_network_rm(cabin_globals.data_root, argv[i], &e) < 0) {
			fprintf(stderr, "cabin: %s\n", cabin_err_msg(e));
			failed = 1;
			continue;
		}
		printf("%s\n", argv[i]);
	}
	return failed;
}

static int net_inspect(int argc, char **argv, struct cabin_err **err)
{
	cleanup_json json_t *all = json_array();
	char *text;

	if (argc < 2)
		return cabin_err_make(err, 0, "network inspect: at least one NAME is required");
	for (int i = 1; i < argc; i++) {
		cleanup_json json_t *one = NULL;

		if (net_network_list(cabin_globals.data_root, argv[i], &one, err) < 0)
			return -1;
		json_array_extend(all, one);
	}
	text = json_dumps(all, JSON_INDENT(4));
	printf("%s\n", text ? text : "[]");
	free(text);
	return 0;
}

static int net_connect(int argc, char **argv, struct cabin_err **err)
{
	static const struct option opts[] = {
		{ "netns", required_argument, NULL, 'n' },
		{ "publish", required_argument, NULL, 'p' },
		{ "name", required_argument, NULL, 'N' },
		{ "hostname", required_argument, NULL, 'H' },
		{ 0 },
	};
	cleanup_free struct net_port *ports = NULL;
	struct net_cfg cfg = { .data_root = cabin_globals.data_root };
	struct net_lease lease;
	const char *netns = NULL;
	size_t n = 0;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+p:", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			netns = optarg;
			break;
		case 'p':
			if (n >= 1024)
				return cabin_err_make(err, 0, "network connect: too many ports");
			ports = xrealloc(ports, (n + 1) * sizeof(*ports));
			if (net_port_parse(optarg, &ports[n], err) < 0)
				return -1;
			n++;
			break;
		case 'N':
			cfg.name = optarg;
			break;
		case 'H':
			cfg.hostname = optarg;
			break;
		default:
			return cabin_err_make(err, 0, "network connect: bad option");
		}
	}
	if (optind + 2 != argc)
		return cabin_err_make(err, 0, "network connect: NETWORK and ID are required");
	cfg.network = argv[optind];
	cfg.id = argv[optind + 1];
	cfg.ports = ports;
	cfg.n_ports = n;
	if (net_attach(&cfg, netns, &lease, err) < 0)
		return -1;
	printf("ip %s/%u gateway %s veth %s\nhosts %s\nresolv.conf %s\nhostname %s\n",
	       *lease.ip ? lease.ip : "-", lease.prefix, *lease.gateway ? lease.gateway : "-",
	       *lease.veth ? lease.veth : "-", lease.hosts_path, lease.resolv_path,
	       lease.hostname_path);
	return 0;
}

static int net_disconnect(int argc, char **argv, struct cabin_err **err)
{
	if (argc < 2)
		return cabin_err_make(err, 0, "network disconnect: at least one ID is required");
	for (int i = 1; i < argc; i++)
		if (net_detach(cabin_globals.data_root, argv[i], err) < 0)
			return -1;
	return 0;
}

static int net_files(int argc, char **argv, struct cabin_err **err)
{
	struct net_lease l;

	if (argc != 2)
		return cabin_err_make(err, 0, "network files: exactly one ID is required");
	if (net_files_prepare(cabin_globals.data_root, argv[1], &l, err) < 0)
		return -1;
	printf("%s\n%s\n%s\n", l.hosts_path, l.resolv_path, l.hostname_path);
	return 0;
}

int cmd_network(int argc, char **argv, struct cabin_err **err)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **, struct cabin_err **);
	} subs[] = {
		{ "create", net_create },   { "ls", net_ls },
		{ "list", net_ls },	    { "rm", net_rm },
		{ "remove", net_rm },	    { "inspect", net_inspect },
		{ "connect", net_connect }, { "disconnect", net_disconnect },
		{ "files", net_files },
	};

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (strcmp(argv[1], subs[i].name))
			continue;
		if (want_help(argc - 1, argv + 1)) {
			fputs(usage, stdout);
			return 0;
		}
		return subs[i].fn(argc - 1, argv + 1, err);
	}
	return cabin_err_make(err, 0, "network: unknown command `%s` (see `cabin network --help`)",
			      argv[1]);
}
