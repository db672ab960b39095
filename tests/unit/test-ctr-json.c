/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctr_json_loadb(): the runtime-spec's uint64 values through jansson. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctr/json.h"
#include "ctr/limits.h"
#include "lib/error.h"
#include "unit/tap.h"

static json_t *load(const char *s)
{
	json_error_t je;

	return ctr_json_loadb(s, strlen(s), JSON_REJECT_DUPLICATES, &je);
}

/* Member @key of the document @s as an integer; INT64_MIN + 1 when it does not load. */
static json_int_t int_of(const char *s, const char *key)
{
	json_t *j = load(s);
	json_int_t v = INT64_MIN + 1;

	if (j && json_is_integer(json_object_get(j, key)))
		v = json_integer_value(json_object_get(j, key));
	json_decref(j);
	return v;
}

static int same_text(const char *s, const char *key, const char *want)
{
	json_t *j = load(s);
	int ok = j && !strcmp(json_string_value(json_object_get(j, key)), want);

	json_decref(j);
	return ok;
}

int main(void)
{
	json_error_t je;
	json_t *j;
	char path[] = "/tmp/cabin-test-json.XXXXXX";
	const char *rl = "{\"ociVersion\":\"1.0.2\",\"process\":{\"rlimits\":[{\"type\":"
			 "\"RLIMIT_CORE\",\"hard\":18446744073709551615,"
			 "\"soft\":18446744073709551615}]}}";
	struct cabin_err *err = NULL;
	struct rlimit cur;
	int fd;

	tap_plan(14);
	tap_ok(json_loads("{\"a\":18446744073709551615}", 0, &je) == NULL,
	       "plain jansson refuses 2^64-1 (%s)", je.text);
	tap_ok(int_of("{\"a\":18446744073709551615}", "a") == -1, "2^64-1 reads as -1");
	tap_ok(int_of("{\"a\": 9223372036854775808}", "a") == INT64_MIN, "2^63 reads as INT64_MIN");
	tap_ok(int_of("{\"a\":9223372036854775807}", "a") == INT64_MAX, "INT64_MAX is unchanged");
	tap_ok(int_of("{\"a\":-9223372036854775808}", "a") == INT64_MIN, "INT64_MIN is unchanged");
	tap_ok(int_of("{\"a\":1024}", "a") == 1024, "small integers are unchanged");
	tap_ok(int_of("{\"a\":18446744073709551616}", "a") == INT64_MIN + 1,
	       "2^64 still fails to load");
	tap_ok(int_of("{\"a\":-18446744073709551615}", "a") == INT64_MIN + 1,
	       "a negative integer below INT64_MIN still fails to load");
	j = load("{\"a\":18446744073709551615.0,\"b\":1e19}");
	tap_ok(j && json_is_real(json_object_get(j, "a")) && json_is_real(json_object_get(j, "b")),
	       "a fraction or an exponent stays a real");
	json_decref(j);
	tap_ok(same_text("{\"s\":\"18446744073709551615 \\\" 18446744073709551615\"}", "s",
			 "18446744073709551615 \" 18446744073709551615"),
	       "strings (with escaped quotes) are not rewritten");
	tap_ok(load("{\"a\":1,\"a\":2}") == NULL, "decoding flags are passed on");

	/* the whole way: a file as podman writes it, validated as process.rlimits */
	fd = mkstemp(path);
	if (fd < 0 || write(fd, rl, strlen(rl)) != (ssize_t)strlen(rl))
		abort();
	close(fd);
	j = ctr_json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	unlink(path);
	tap_ok(j != NULL, "ctr_json_load_file reads rlimits of 2^64-1 (%s)", j ? "ok" : je.text);
	if (getrlimit(RLIMIT_CORE, &cur) == 0 && cur.rlim_max == RLIM_INFINITY) {
		pid_t pid = fork();
		int st = -1;

		if (pid == 0) {
			json_t *r = json_object_get(json_object_get(j, "process"), "rlimits");

			_exit(ctr_rlimits_apply(r, &err) == 0 &&
					      getrlimit(RLIMIT_CORE, &cur) == 0 &&
					      cur.rlim_cur == RLIM_INFINITY &&
					      cur.rlim_max == RLIM_INFINITY
				      ? 0
				      : 1);
		}
		waitpid(pid, &st, 0);
		tap_ok(j && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		       "RLIMIT_CORE of 2^64-1 applies as unlimited");
	} else {
		tap_skip("the hard RLIMIT_CORE here is not unlimited");
	}
	cabin_err_release(&err);
	json_decref(j);
	tap_ok(ctr_json_load_file("/nonexistent/config.json", 0, &je) == NULL && je.line == -1,
	       "a missing file fails with `%s`", je.text);
	return tap_done();
}
