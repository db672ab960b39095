/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "ctr/container.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/log.h"

static const char usage[] =
	"usage: cabin update [--resources FILE] [RESOURCE OPTIONS] ID\n"
	"Apply new linux.resources: the JSON object of FILE (`-` reads stdin), or the\n"
	"values of these options (only the ones given change):\n"
	"  --memory BYTES  --memory-swap BYTES  --memory-reservation BYTES  (k, m, g, t\n"
	"                  suffixes; -1 for unlimited)\n"
	"  --cpu-period US  --cpu-quota US  --cpu-share N  --cpu-rt-period US\n"
	"  --cpu-rt-runtime US  --cpuset-cpus LIST  --cpuset-mems LIST\n"
	"  --pids-limit N  --blkio-weight N\n";

enum {
	OPT_MEMORY = 256,
	OPT_SWAP,
	OPT_RESERVATION,
	OPT_KMEM,
	OPT_KMEM_TCP,
	OPT_PERIOD,
	OPT_QUOTA,
	OPT_SHARES,
	OPT_RT_PERIOD,
	OPT_RT_RUNTIME,
	OPT_CPUS,
	OPT_MEMS,
	OPT_PIDS,
	OPT_BLKIO,
	OPT_L3,
	OPT_MBA,
};

/* A byte count as runc takes it: "-1", "1024", "10k", "64M", "1.5g", "2GiB". */
static int parse_bytes(const char *s, int64_t *out)
{
	char *end;
	double v, mul = 1;

	if (!strcmp(s, "-1")) {
		*out = -1;
		return 0;
	}
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	switch (tolower((unsigned char)*end)) {
	case 'k':
		mul = 1024.0;
		break;
	case 'm':
		mul = 1024.0 * 1024;
		break;
	case 'g':
		mul = 1024.0 * 1024 * 1024;
		break;
	case 't':
		mul = 1024.0 * 1024 * 1024 * 1024;
		break;
	case 'p':
		mul = 1024.0 * 1024 * 1024 * 1024 * 1024;
		break;
	case '\0':
		break;
	default:
		return -1;
	}
	if (*end) {
		end++;
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'b' || *end == 'B')
			end++;
		if (*end)
			return -1;
	}
	v *= mul;
	if (v > (double)INT64_MAX)
		return -1;
	*out = (int64_t)v;
	return 0;
}

static int parse_int(const char *s, int64_t min, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min)
		return -1;
	*out = v;
	return 0;
}

/* Set @res.@group.@key (the group object is created on first use). */
static void set(json_t *res, const char *group, const char *key, json_t *val)
{
	json_t *g = json_object_get(res, group);

	if (!g) {
		g = json_object();
		json_object_set_new(res, group, g);
	}
	json_object_set_new(g, key, val);
}

static const char *opt_name(const struct option *opts, int val)
{
	for (; opts->name; opts++)
		if (opts->val == val)
			return opts->name;
	return "?";
}

int cmd_update(int argc, char **argv, struct cabin_err **err)
{
	static const struct option opts[] = {
		{ "resources", required_argument, NULL, 'r' },
		{ "memory", required_argument, NULL, OPT_MEMORY },
		{ "memory-swap", required_argument, NULL, OPT_SWAP },
		{ "memory-reservation", required_argument, NULL, OPT_RESERVATION },
		{ "kernel-memory", required_argument, NULL, OPT_KMEM },
		{ "kernel-memory-tcp", required_argument, NULL, OPT_KMEM_TCP },
		{ "cpu-period", required_argument, NULL, OPT_PERIOD },
		{ "cpu-quota", required_argument, NULL, OPT_QUOTA },
		{ "cpu-share", required_argument, NULL, OPT_SHARES },
		{ "cpu-rt-period", required_argument, NULL, OPT_RT_PERIOD },
		{ "cpu-rt-runtime", required_argument, NULL, OPT_RT_RUNTIME },
		{ "cpuset-cpus", required_argument, NULL, OPT_CPUS },
		{ "cpuset-mems", required_argument, NULL, OPT_MEMS },
		{ "pids-limit", required_argument, NULL, OPT_PIDS },
		{ "blkio-weight", required_argument, NULL, OPT_BLKIO },
		{ "l3-cache-schema", required_argument, NULL, OPT_L3 },
		{ "mem-bw-schema", required_argument, NULL, OPT_MBA },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *file = NULL;
	cleanup_json json_t *flags = json_object(), *res = NULL;
	json_error_t jerr;
	int64_t v;
	int c;

	/* no '+': options may also follow the ID (`update ID --memory 1G`), as with runc */
	while ((c = getopt_long(argc, argv, "r:h", opts, NULL)) != -1) {
		int bad = 0;

		switch (c) {
		case 'r':
			file = optarg;
			break;
		case OPT_MEMORY:
		case OPT_SWAP:
		case OPT_RESERVATION:
			bad = parse_bytes(optarg, &v) < 0;
			if (!bad)
				set(flags, "memory",
				    c == OPT_MEMORY ? "limit"
				    : c == OPT_SWAP ? "swap"
						    : "reservation",
				    json_integer(v));
			break;
		case OPT_KMEM:
		case OPT_KMEM_TCP:
			/* as runc: obsolete (kernel 5.4+ ignores kmem limits) */
			log_warn("update: --%s is ignored: kernel memory limits are obsolete",
				 opt_name(opts, c));
			break;
		case OPT_PERIOD:
		case OPT_SHARES:
		case OPT_RT_PERIOD:
			bad = parse_int(optarg, 0, &v) < 0;
			if (!bad)
				set(flags, "cpu",
				    c == OPT_PERIOD   ? "period"
				    : c == OPT_SHARES ? "shares"
						      : "realtimePeriod",
				    json_integer(v));
			break;
		case OPT_QUOTA:
		case OPT_RT_RUNTIME:
			bad = parse_int(optarg, -1, &v) < 0;
			if (!bad)
				set(flags, "cpu", c == OPT_QUOTA ? "quota" : "realtimeRuntime",
				    json_integer(v));
			break;
		case OPT_CPUS:
		case OPT_MEMS:
			set(flags, "cpu", c == OPT_CPUS ? "cpus" : "mems", json_string(optarg));
			break;
		case OPT_PIDS:
			bad = parse_int(optarg, -1, &v) < 0;
			/* as runc: 0 leaves the limit alone, -1 removes it */
			if (!bad && v)
				set(flags, "pids", "limit", json_integer(v));
			break;
		case OPT_BLKIO:
			bad = parse_int(optarg, 0, &v) < 0 || v > 1000;
			if (!bad)
				set(flags, "blockIO", "weight", json_integer(v));
			break;
		case OPT_L3:
		case OPT_MBA:
			return cabin_err_make(err, 0, "update: --%s: Intel RDT is not supported",
					      opt_name(opts, c));
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return cabin_err_make(err, 0,
					      "update: bad option (see `cabin update --help`)");
		}
		if (bad)
			return cabin_err_make(err, 0, "update: invalid value `%s` for --%s", optarg,
					      opt_name(opts, c));
	}
	if (optind + 1 != argc)
		return cabin_err_make(err, 0, "update: exactly one container ID is required");
	if (file) {
		/* as runc: the file, when given, replaces the per-resource options */
		res = !strcmp(file, "-") ? json_loadf(stdin, 0, &jerr)
					 : json_load_file(file, 0, &jerr);
		if (!res)
			return cabin_err_make(err, 0, "update: `%s`: invalid JSON at line %d: %s",
					      file, jerr.line, jerr.text);
		if (!json_is_object(res))
			return cabin_err_make(err, 0, "update: `%s` must hold a JSON object", file);
	} else {
		res = steal_ptr(&flags);
	}
	return ctr_update(cabin_globals.root, argv[optind], res, err);
}
