/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/xalloc.h"

static int status_ret(int status)
{
	return status > 0 ? -status : -1;
}

int cabin_err_make(struct cabin_err **err, int errnum, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	if (!err)
		return status_ret(errnum);
	cabin_err_release(err);
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg && errnum > 0) {
		char *full = NULL;

		if (asprintf(&full, "%s: %s", msg, strerror(errnum)) >= 0) {
			free(msg);
			msg = full;
		}
	}
	*err = xcalloc(1, sizeof(**err));
	(*err)->status = errnum > 0 ? errnum : 0;
	(*err)->msg = msg ? msg : xstrdup("out of memory formatting an error");
	return status_ret(errnum);
}

int cabin_err_wrap(struct cabin_err **err, const char *fmt, ...)
{
	char *ctx = NULL, *full = NULL;
	va_list ap;

	if (!err || !*err)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&ctx, fmt, ap) < 0)
		ctx = NULL;
	va_end(ap);
	if (ctx && asprintf(&full, "%s: %s", ctx, (*err)->msg) >= 0) {
		free((*err)->msg);
		(*err)->msg = full;
	}
	free(ctx);
	return status_ret((*err)->status);
}

void cabin_err_release(struct cabin_err **err)
{
	int saved = errno;

	if (err && *err) {
		free((*err)->msg);
		free(*err);
		*err = NULL;
	}
	errno = saved;
}

const char *cabin_err_msg(const struct cabin_err *err)
{
	return err && err->msg ? err->msg : "unknown error";
}
