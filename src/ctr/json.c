/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Loading the runtime-spec's JSON documents: jansson plus uint64 integers.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctr/json.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

/* config.json and process files are small; this only bounds a hostile one */
#define CTR_JSON_MAX (64u << 20)

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Copy @n digits at @p to @out, as the int64 with the same bits when the value is in
 * (INT64_MAX, UINT64_MAX]. Return the number of bytes written (at most @n + 1).
 */
static size_t put_integer(char *out, const char *p, size_t n)
{
	char digits[32];
	uint64_t v;
	char *end;

	if (n < 19 || n > 20) {
		memcpy(out, p, n);
		return n;
	}
	memcpy(digits, p, n);
	digits[n] = '\0';
	errno = 0;
	v = strtoull(digits, &end, 10);
	if (errno || *end || v <= INT64_MAX) {
		memcpy(out, p, n);
		return n;
	}
	/* "-9223372036854775808" (20 bytes) for 19 digits is the only growth */
	return (size_t)snprintf(out, n + 2, "%" PRId64, (int64_t)v);
}

json_t *ctr_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *jerr)
{
	cleanup_free char *out = NULL;
	size_t i = 0, o = 0;
	int in_str = 0;

	/* each 19-digit integer may grow by one byte: len + len / 19 + 1 bounds the copy */
	out = xmalloc(len + len / 19 + 2);
	while (i < len) {
		char c = buf[i];

		if (in_str) {
			out[o++] = c;
			i++;
			if (c == '\\' && i < len)
				out[o++] = buf[i++];
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"') {
			in_str = 1;
		} else if (is_digit(c)) {
			size_t n = 0;

			while (i + n < len && is_digit(buf[i + n]))
				n++;
			/* a sign, fraction or exponent make it no uint64: copy it as it is */
			if ((i + n < len && strchr(".eE", buf[i + n])) ||
			    (i > 0 && strchr("-+.eE", buf[i - 1]))) {
				memcpy(out + o, buf + i, n);
				o += n;
			} else {
				o += put_integer(out + o, buf + i, n);
			}
			i += n;
			continue;
		}
		out[o++] = c;
		i++;
	}
	return json_loadb(out, o, flags, jerr);
}

static json_t *load_error(const char *path, int e, json_error_t *jerr)
{
	if (jerr) {
		memset(jerr, 0, sizeof(*jerr));
		jerr->line = jerr->column = jerr->position = -1;
		snprintf(jerr->source, sizeof(jerr->source), "%s", path);
		snprintf(jerr->text, sizeof(jerr->text), "%s", strerror(e));
	}
	errno = e;
	return NULL;
}

json_t *ctr_json_load_file_raw(const char *path, size_t flags, json_error_t *jerr, char **raw,
			       size_t *len)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	cleanup_free char *buf = NULL;
	json_t *j;
	ssize_t n;

	if (fd < 0)
		return load_error(path, errno, jerr);
	n = fs_read_fd(fd, CTR_JSON_MAX, &buf);
	if (n < 0)
		return load_error(path, (int)-n, jerr);
	j = ctr_json_loadb(buf, (size_t)n, flags, jerr);
	if (j && raw) {
		*raw = steal_ptr(&buf);
		*len = (size_t)n;
	}
	return j;
}

json_t *ctr_json_load_file(const char *path, size_t flags, json_error_t *jerr)
{
	return ctr_json_load_file_raw(path, flags, jerr, NULL, NULL);
}
