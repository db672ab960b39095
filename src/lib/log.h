/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_LIB_LOG_H
#define CABIN_LIB_LOG_H

enum log_level {
	LOG_LVL_ERROR,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

enum log_format {
	LOG_FMT_TEXT,
	LOG_FMT_JSON,
};

/**
 * log_init() - direct messages to a file as well as stderr
 * @path: log file (appended), or NULL for stderr only. containerd and podman pass
 *        `--log` and read it back as JSON lines ({"level","msg","time"}), as with runc.
 * @fmt: text or json
 * @debug: also record debug messages
 *
 * Return: 0, or -errno when the file cannot be opened.
 */
int log_init(const char *path, enum log_format fmt, int debug);

/**
 * log_keep_fd() - the fd log lines are written to (the --log file, or with --debug alone a
 * close-on-exec copy of stderr), -1 if none. A container process that closes the runtime's
 * fds before execve keeps this one, so that its setup steps reach the log; it is
 * close-on-exec, and the process is non-dumpable meanwhile.
 */
int log_keep_fd(void);
/**
 * log_release_stderr() - close the copy of stderr that debug lines go to without --log:
 * for a process that outlives the command (the created init), which must not hold the
 * caller's stderr open. Its later debug lines are dropped (the --log file still gets them).
 */
void log_release_stderr(void);
/**
 * log_msg() - record a message; errors and warnings also go to stderr (`cabin: ...`).
 * Log lines are logrus' formats, as runc's: text `time="..." level=debug msg="..."`,
 * json `{"level":"debug","msg":"...","time":"..."}`. Debug lines go to the log file, or
 * to stderr without one.
 */
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** log_debug_enabled() - debug messages are recorded: worth computing what they show. */
int log_debug_enabled(void);

/** log_set_quiet() - when set, errors still go to the log file but not to stderr. */
void log_set_quiet(int quiet);

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
