/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

static int log_fd = -1;
/*
 * --debug without --log: debug lines go to stderr, through a close-on-exec copy of it, so
 * that the container's processes can log their setup to the caller's stderr even after
 * their own fd 2 became the container's terminal.
 */
static int debug_fd = -1;
static int stderr_released; /* debug lines without --log are dropped from now on */
static enum log_format log_fmt = LOG_FMT_TEXT;
static int log_debug_on;
static int log_quiet;

static const char *const level_names[] = {
	[LOG_LVL_ERROR] = "error",
	[LOG_LVL_WARN] = "warning",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

int log_init(const char *path, enum log_format fmt, int debug)
{
	log_fmt = fmt;
	log_debug_on = debug;
	if (path && *path) {
		int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		if (fd < 0)
			return -errno;
		if (log_fd >= 0)
			close(log_fd);
		log_fd = fd;
	} else if (debug && debug_fd < 0) {
		debug_fd = fcntl(2, F_DUPFD_CLOEXEC, 3); /* -1: stderr is closed, nothing to do */
	}
	return 0;
}

int log_keep_fd(void)
{
	return log_fd >= 0 ? log_fd : debug_fd;
}

void log_release_stderr(void)
{
	if (debug_fd >= 0)
		close(debug_fd);
	debug_fd = -1;
	stderr_released = 1;
}

void log_set_quiet(int quiet)
{
	log_quiet = quiet;
}

/* Escape @s as a JSON string body into @out (bounded). */
static void json_escape(char *out, size_t cap, const char *s)
{
	size_t o = 0;

	for (; *s && o + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20) {
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

int log_debug_enabled(void)
{
	return log_debug_on;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char msg[4096], line[9000], ts[64];
	struct timespec now;
	struct tm tm;
	va_list ap;
	int n, fd;

	if (lvl == LOG_LVL_DEBUG && !log_debug_on)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (lvl <= LOG_LVL_WARN && !log_quiet && (log_fd < 0 || lvl == LOG_LVL_ERROR))
		fprintf(stderr, "cabin: %s%s\n", lvl == LOG_LVL_WARN ? "warning: " : "", msg);
	fd = log_fd;
	if (fd < 0 && lvl == LOG_LVL_DEBUG && !stderr_released)
		fd = debug_fd >= 0 ? debug_fd : 2;
	if (fd < 0)
		return;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	if (log_fmt == LOG_FMT_JSON) {
		char esc[sizeof(msg) * 2];

		json_escape(esc, sizeof(esc), msg);
		n = snprintf(line, sizeof(line),
			     "{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s.%09ldZ\"}\n",
			     level_names[lvl], esc, ts, now.tv_nsec);
	} else {
		/* logrus' text format, as runc writes it and tools that wrap runtimes parse */
		char esc[sizeof(msg) * 2];

		json_escape(esc, sizeof(esc), msg);
		n = snprintf(line, sizeof(line), "time=\"%s.%09ldZ\" level=%s msg=\"%s\"\n", ts,
			     now.tv_nsec, level_names[lvl], esc);
	}
	if (n > 0) {
		size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;

		if (write(fd, line, len) < 0) {
			/* nowhere left to report a failing log */
		}
	}
}
