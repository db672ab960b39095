/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cmd.h"
#include "ctr/container.h"
#include "lib/cleanup.h"
#include "lib/error.h"

static const char usage[] =
	"usage: cabin events [--stats] [--interval DURATION] ID\n"
	"Print the container's resource usage as JSON lines, {\"type\":\"stats\",\"id\":ID,\n"
	"\"data\":{...}}, every DURATION (default 5s; e.g. 1s, 100ms, 1m), and\n"
	"{\"type\":\"oom\",\"id\":ID} when its memory cgroup hits an OOM, until the container\n"
	"stops or is deleted. --stats prints the usage once and exits.\n";

/* Go-style durations, as runc takes them: "5s", "100ms", "1.5s", "2m", "500us". */
static int parse_duration_ms(const char *s, long *ms)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = { { "ns", 1e-6 }, { "us", 1e-3 }, { "ms", 1 },
		      { "s", 1e3 },   { "m", 60e3 },  { "h", 3600e3 } };
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v <= 0)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit))
			continue;
		v *= units[i].ms;
		if (v < 1 || v > 86400e3)
			return -1;
		*ms = (long)v;
		return 0;
	}
	return -1;
}

static void emit(const char *type, const char *id, json_t *data)
{
	cleanup_json json_t *ev = json_pack("{s:s,s:s}", "type", type, "id", id);
	char *s;

	if (data)
		json_object_set(ev, "data", data);
	s = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s) {
		puts(s);
		fflush(stdout);
		free(s);
	}
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int cmd_events(int argc, char **argv, struct cabin_err **err)
{
	static const struct option opts[] = {
		{ "stats", no_argument, NULL, 's' },
		{ "interval", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	/* OOM counters are polled this often, stats every interval */
	const long tick = 100;
	long interval = 5000, since = 0;
	int c, stats_only = 0;
	uint64_t oom = 0, last_oom = 0;
	const char *id;
	cleanup_json json_t *data = NULL;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			stats_only = 1;
			break;
		case 'i':
			if (parse_duration_ms(optarg, &interval) < 0)
				return cabin_err_make(err, 0,
						      "events: --interval `%s` must be a duration "
						      "such as 5s or 100ms (1ms..24h)",
						      optarg);
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return cabin_err_make(err, 0,
					      "events: bad option (see `cabin events --help`)");
		}
	}
	if (optind + 1 != argc)
		return cabin_err_make(err, 0, "events: exactly one container ID is required");
	id = argv[optind];
	if (ctr_stats(cabin_globals.root, id, &data, &last_oom, err) < 0)
		return -1;
	emit("stats", id, data);
	if (stats_only)
		return 0;
	for (;;) {
		struct cabin_err *e = NULL;
		cleanup_json json_t *now = NULL;

		sleep_ms(tick < interval ? tick : interval);
		since += tick < interval ? tick : interval;
		/* the container stopped or was deleted: the stream ends, as with runc */
		if (ctr_stats(cabin_globals.root, id, &now, &oom, &e) < 0) {
			cabin_err_release(&e);
			return 0;
		}
		if (oom > last_oom)
			emit("oom", id, NULL);
		last_oom = oom;
		if (since >= interval) {
			since = 0;
			emit("stats", id, now);
		}
	}
}
