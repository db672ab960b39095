/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_LIB_ERROR_H
#define CABIN_LIB_ERROR_H

/*
 * Control-plane error object, crun's libcrun_error_t model: a failing function
 * returns <0 and sets *err; callers add context with cabin_err_wrap() as the
 * error travels up, giving "start `web`: mount `/proc`: Operation not permitted".
 */
struct cabin_err {
	int status; /* errno of the root cause, 0 if none */
	char *msg;
};

/**
 * cabin_err_make() - create an error
 * @err: where to store it (an existing error is released first)
 * @errnum: errno of the cause, or 0; when non-zero its text is appended
 * @fmt: printf-style message, lowercase, values in backticks
 *
 * Return: -errnum, or -1 when @errnum is 0, so it can be returned directly.
 */
int cabin_err_make(struct cabin_err **err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/**
 * cabin_err_wrap() - prefix context to an existing error
 * Return: the error's -status (or -1), so it can be returned directly.
 */
int cabin_err_wrap(struct cabin_err **err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/** cabin_err_release() - drop an error on purpose; accepts NULL. */
void cabin_err_release(struct cabin_err **err);

/** cabin_err_msg() - the message, or "unknown error" when @err is unset. */
const char *cabin_err_msg(const struct cabin_err *err);

#define cleanup_err __attribute__((cleanup(cabin_err_release)))

#endif
