/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The monitor: conmon's role for one container. It is the parent of the container's init
 * (so it reaps it), holds the other ends of the container's stdio pipes or its pty
 * master, copies output to the log (json-file or k8s-file, rotated by size) and, for a
 * foreground `container run`, to the terminal the CLI left it; it records the exit
 * status and cleans up. It runs in its own session, so the CLI may exit (run -d) or be
 * killed without taking the container with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "box/box.h"
#include "ctr/container.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fd-pass.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/utf8.h"
#include "lib/util.h"
#include "lib/xalloc.h"
#include "net/net.h"

struct logw {
	int fd;
	char *path;
	int k8s;
	uint64_t size, max_size;
	int max_file;
	char part[2][16384]; /* an unfinished line per stream */
	size_t plen[2];
};

static void log_rotate(struct logw *l)
{
	if (!l->max_size || l->size < l->max_size)
		return;
	for (int i = l->max_file - 1; i >= 1; i--) {
		cleanup_free char *a =
			i == 1 ? xstrdup(l->path) : xasprintf("%s.%d", l->path, i - 1);
		cleanup_free char *b = xasprintf("%s.%d", l->path, i);

		rename(a, b);
	}
	if (l->max_file <= 1 && ftruncate(l->fd, 0) == 0) {
		l->size = 0;
		return;
	}
	close(l->fd);
	l->fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC | O_CLOEXEC, 0600);
	l->size = 0;
}

static void log_line(struct logw *l, int stream, const char *p, size_t n, int partial)
{
	static const char *const names[] = { "stdout", "stderr" };
	cleanup_free char *ts = box_now();
	char *txt;

	if (l->fd < 0)
		return;
	if (l->k8s) {
		/* CRI's format: TIME STREAM F|P TEXT */
		dprintf(l->fd, "%s %s %c %.*s\n", ts, names[stream], partial ? 'P' : 'F', (int)n,
			p);
		l->size += strlen(ts) + (size_t)n + 12;
	} else {
		/* JSON strings are UTF-8: other bytes become U+FFFD (as Docker), not a lost line */
		size_t len;
		cleanup_free char *s = utf8_sanitize(p, n, &len);
		cleanup_free char *line = xmalloc(len + 2);
		cleanup_json json_t *j = NULL;

		memcpy(line, s, len);
		line[len] = partial ? '\0' : '\n';
		line[len + 1] = '\0';

		j = json_pack("{s:s%,s:s,s:s}", "log", line, len + !partial, "stream",
			      names[stream], "time", ts);
		txt = json_dumps(j, JSON_COMPACT);
		if (txt) {
			dprintf(l->fd, "%s\n", txt);
			l->size += strlen(txt) + 1;
			free(txt);
		}
	}
	log_rotate(l);
}

/* Split container output into lines for the log; a line longer than the buffer is cut. */
static void log_data(struct logw *l, int stream, const char *p, size_t n)
{
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;
		size_t room = sizeof(l->part[0]) - l->plen[stream];

		if (take > room)
			take = room;
		memcpy(l->part[stream] + l->plen[stream], p, take);
		l->plen[stream] += take;
		p += take;
		n -= take;
		if (nl && p == nl) {
			log_line(l, stream, l->part[stream], l->plen[stream], 0);
			l->plen[stream] = 0;
			p++;
			n--;
		} else if (l->plen[stream] == sizeof(l->part[0])) {
			log_line(l, stream, l->part[stream], l->plen[stream], 1);
			l->plen[stream] = 0;
		}
	}
}

static void log_flush(struct logw *l)
{
	for (int s = 0; s < 2; s++)
		if (l->plen[s]) {
			log_line(l, s, l->part[s], l->plen[s], 1);
			l->plen[s] = 0;
		}
}

/* The pty master a --console-socket peer sends (ctr_console_send); -1 with errno set. */
static int recv_fd(int sock)
{
	char name[64];
	ssize_t n;
	size_t nfds;
	int fd = -1;

	n = fd_pass_recv(sock, name, sizeof(name), &fd, 1, &nfds);
	if (n < 0) {
		errno = (int)-n;
		return -1;
	}
	if (!nfds) {
		errno = n ? EPROTO : ECONNRESET;
		return -1;
	}
	return fd;
}

/* One line to the CLI: "OK PID", "EXIT CODE" (@msg NULL) or "ERR MESSAGE". */
static void send_line(int fd, const char *word, const char *msg, long n)
{
	char buf[4200];
	int len;

	if (fd < 0)
		return;
	if (msg)
		len = snprintf(buf, sizeof(buf), "%s %s\n", word, msg);
	else
		len = snprintf(buf, sizeof(buf), "%s %ld\n", word, n);
	if (len > 0)
		fs_write_all(fd, buf, (size_t)MIN((size_t)len, sizeof(buf) - 1));
}

/* The size of the CLI's terminal (its stdin, or with -t alone its stdout) to the pty. */
static void copy_winsize(int in, int out, int master)
{
	struct winsize ws;

	if (master < 0)
		return;
	if (((in >= 0 && ioctl(in, TIOCGWINSZ, &ws) == 0) ||
	     (out >= 0 && ioctl(out, TIOCGWINSZ, &ws) == 0)) &&
	    ws.ws_row && ws.ws_col)
		ioctl(master, TIOCSWINSZ, &ws);
}

static void write_out(int *fd, const char *p, size_t n)
{
	/* A foreground CLI that went away only stops the copy, never the container. */
	if (*fd >= 0 && fs_write_all(*fd, p, n) < 0) {
		close(*fd);
		*fd = -1;
	}
}

int box_stop_requested(const char *data_root, const char *id)
{
	cleanup_free char *mark = xasprintf("%s/containers/%s/stop-requested", data_root, id);

	return access(mark, F_OK) == 0;
}

void box_monitor_finish(const char *data_root, const char *id)
{
	cleanup_json json_t *rec = NULL;
	struct cabin_err *e = NULL;

	if (box_load(data_root, id, &rec, &e) == 0) {
		json_object_set_new(rec, "state", json_string("exited"));
		if (box_record_save(data_root, id, rec, &e) < 0)
			log_warn("%s", cabin_err_msg(e));
	}
	cabin_err_release(&e);
}

/* Docker's restart policies; `stop` (the stop-requested mark) always ends the container. */
static int want_restart(const char *data_root, const char *id, json_t *rec, int code)
{
	const char *pol = json_string_value(json_object_get(rec, "restartPolicy")) ?: "no";
	json_int_t max = json_integer_value(json_object_get(rec, "restartMax"));
	json_int_t count = json_integer_value(json_object_get(rec, "restartCount"));

	if (box_stop_requested(data_root, id) || json_is_true(json_object_get(rec, "autoRemove")))
		return 0;
	if (!strcmp(pol, "always") || !strcmp(pol, "unless-stopped"))
		return 1;
	if (!strcmp(pol, "on-failure"))
		return code != 0 && (max <= 0 || count < max);
	return 0;
}

int box_monitor(const char *data_root, const char *id, int syncfd, int attach_in, int attach_out,
		int attach_err, struct cabin_err **err)
{
	cleanup_free char *cdir = xasprintf("%s/containers/%s", data_root, id);
	cleanup_free char *bundle = xasprintf("%s/bundle", cdir);
	cleanup_free char *sockpath = NULL, *rroot = NULL;
	struct ctr_create_opts co = { 0 };
	struct logw lw = { .fd = -1 };
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, inp[2] = { -1, -1 };
	int master = -1, lsock = -1, sfd = -1, status = 0, tty, interactive, exited = 0;
	int restart = 0;
	cleanup_json json_t *rec = NULL;
	sigset_t mask;
	pid_t pid = 0;
	char buf[65536];
	int ret = -1;

	if (box_load(data_root, id, &rec, err) < 0)
		goto fail;
	tty = json_is_true(json_object_get(rec, "tty"));
	interactive = json_is_true(json_object_get(rec, "interactive"));
	rroot = xstrdup(json_string_value(json_object_get(rec, "runtimeRoot")));
	lw.path = xstrdup(json_string_value(json_object_get(rec, "logPath")));
	lw.k8s = !strcmp(json_string_value(json_object_get(rec, "logDriver")) ?: "", "k8s-file");
	lw.max_size = (uint64_t)json_integer_value(json_object_get(rec, "logMaxSize"));
	lw.max_file = (int)json_integer_value(json_object_get(rec, "logMaxFile"));
	if (lw.max_file < 1)
		lw.max_file = 1;
	lw.fd = open(lw.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (lw.fd < 0) {
		cabin_err_make(err, errno, "open log `%s`", lw.path);
		goto fail;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGWINCH);
	/* Not blocked yet: the container's init inherits the mask ctr_create() is called with. */
	sigprocmask(SIG_UNBLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	co.root = rroot;
	co.id = id;
	co.bundle = bundle;
	co.detach = 1;
	if (tty) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		/* The runtime sends the pty master here; a relative path keeps it short. */
		sockpath = xasprintf("%s/console.sock", cdir);
		if (chdir(cdir) < 0) {
			cabin_err_make(err, errno, "chdir `%s`", cdir);
			goto fail;
		}
		snprintf(sa.sun_path, sizeof(sa.sun_path), "console.sock");
		unlink("console.sock");
		lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (lsock < 0 || bind(lsock, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    listen(lsock, 1) < 0) {
			cabin_err_make(err, errno, "console socket `%s`", sockpath);
			goto fail;
		}
		co.console_socket = "console.sock";
	} else {
		/* The container's stdio: pipes whose other ends we keep. */
		if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
		    (interactive && pipe2(inp, O_CLOEXEC) < 0)) {
			cabin_err_make(err, errno, "pipe");
			goto fail;
		}
		if (dup2(interactive ? inp[0] : open("/dev/null", O_RDONLY | O_CLOEXEC), 0) < 0 ||
		    dup2(outp[1], 1) < 0 || dup2(errp[1], 2) < 0) {
			cabin_err_make(err, errno, "dup2");
			goto fail;
		}
	}
	{
		/* a restart: the last run's detach removed the files config.json binds */
		struct net_lease files;

		if (net_files_prepare(data_root, id, &files, err) < 0)
			goto fail;
	}
	/* Errors of the runtime now go to the log through our stderr; keep them for the CLI. */
	if (ctr_create(&co, err) < 0)
		goto fail;
	/*
	 * The init waits on exec.fifo until ctr_start(); a SIGCHLD that came before this
	 * (a failed init) is found by the first waitpid() pass of the loop.
	 */
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if (tty) {
		int c = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);

		master = c >= 0 ? recv_fd(c) : -1;
		if (c >= 0)
			close(c);
		close(lsock);
		lsock = -1;
		unlink(sockpath);
		if (master < 0) {
			cabin_err_make(err, errno, "receive the container's pty");
			goto fail_created;
		}
		copy_winsize(attach_in, attach_out, master);
	} else {
		int nul = open("/dev/null", O_RDWR | O_CLOEXEC);

		/* Only the container holds the write ends now: EOF comes when it is gone. */
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		close(nul);
		close(outp[1]);
		close(errp[1]);
		outp[1] = errp[1] = -1;
		if (inp[0] >= 0) {
			close(inp[0]);
			inp[0] = -1;
		}
	}
	{
		cleanup_json json_t *state = NULL;

		if (ctr_state_get(rroot, id, &state, err) < 0)
			goto fail_created;
		pid = (pid_t)json_integer_value(json_object_get(state, "pid"));
	}
	{
		const char *netname = json_string_value(json_object_get(rec, "network"));
		json_t *ports = json_object_get(rec, "ports"), *p;
		struct net_port *np = xcalloc(json_array_size(ports) + 1, sizeof(*np));
		cleanup_free char *nspath = xasprintf("/proc/%d/ns/net", pid);
		struct net_cfg nc = { .data_root = data_root, .id = id };
		struct net_lease lease;
		size_t i, n = 0;
		int r = 0;

		json_array_foreach(ports, i, p) if (net_port_parse(json_string_value(p), &np[n],
								   err) < 0) r = -1;
		else n++;
		nc.network = netname ? netname : "bridge";
		nc.name = json_string_value(json_object_get(rec, "name"));
		nc.hostname = json_string_value(json_object_get(rec, "hostname"));
		nc.extra_hosts = json_object_get(rec, "extraHosts");
		nc.dns = json_object_get(rec, "dns");
		nc.dns_search = json_object_get(rec, "dnsSearch");
		nc.dns_options = json_object_get(rec, "dnsOptions");
		nc.ports = np;
		nc.n_ports = n;
		if (r == 0)
			r = net_attach(&nc, nspath, &lease, err);
		free(np);
		if (r < 0)
			goto fail_created;
		if (lease.ip[0])
			json_object_set_new(rec, "ip", json_string(lease.ip));
	}
	if (ctr_start(rroot, id, err) < 0)
		goto fail_created;
	{
		cleanup_free char *now = box_now();

		json_object_set_new(rec, "state", json_string("running"));
		json_object_set_new(rec, "pid", json_integer(pid));
		json_object_set_new(rec, "monitorPid", json_integer(getpid()));
		json_object_set_new(rec, "monitorStart",
				    json_integer((json_int_t)box_proc_starttime(getpid())));
		json_object_set_new(rec, "startedAt", json_string(now));
		if (box_record_save(data_root, id, rec, err) < 0)
			goto fail_created;
	}
	{
		/* "OK PID MONITOR": the CLI sends SIGWINCH to the monitor, the rest to PID */
		char ids[64];

		snprintf(ids, sizeof(ids), "%d %d", (int)pid, (int)getpid());
		send_line(syncfd, "OK", ids, 0);
	}
	if (attach_out < 0 && attach_err < 0) {
		close(syncfd);
		syncfd = -1;
	}

	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	for (int first = 1;; first = 0) {
		struct pollfd pf[4];
		int nfds = 0, i_out = -1, i_err = -1, i_in = -1, i_sig;
		int in_target = tty ? master : inp[1];

		if (tty ? master >= 0 : outp[0] >= 0) {
			i_out = nfds;
			pf[nfds++] =
				(struct pollfd){ .fd = tty ? master : outp[0], .events = POLLIN };
		}
		if (!tty && errp[0] >= 0) {
			i_err = nfds;
			pf[nfds++] = (struct pollfd){ .fd = errp[0], .events = POLLIN };
		}
		if (attach_in >= 0 && in_target >= 0 && !exited) {
			i_in = nfds;
			pf[nfds++] = (struct pollfd){ .fd = attach_in, .events = POLLIN };
		}
		i_sig = nfds;
		pf[nfds++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		if (i_out < 0 && i_err < 0 && exited)
			break;
		if (poll(pf, (nfds_t)nfds, exited ? 200 : -1) == 0 && exited)
			break; /* the init is gone and its output too */
		if (i_out >= 0 && pf[i_out].revents) {
			ssize_t n = read(pf[i_out].fd, buf, sizeof(buf));

			if (n > 0) {
				log_data(&lw, 0, buf, (size_t)n);
				write_out(&attach_out, buf, (size_t)n);
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				/* EOF, or EIO from a pty whose slave is gone */
				if (tty) {
					close(master);
					master = -1;
				} else {
					close(outp[0]);
					outp[0] = -1;
				}
			}
		}
		if (i_err >= 0 && pf[i_err].revents) {
			ssize_t n = read(errp[0], buf, sizeof(buf));

			if (n > 0) {
				log_data(&lw, 1, buf, (size_t)n);
				write_out(&attach_err, buf, (size_t)n);
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				close(errp[0]);
				errp[0] = -1;
			}
		}
		if (i_in >= 0 && pf[i_in].revents) {
			ssize_t n = read(attach_in, buf, sizeof(buf));

			if (n > 0) {
				if (fs_write_all(in_target, buf, (size_t)n) < 0)
					attach_in = -1;
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				/* stdin closed: the container sees EOF (not on a pty) */
				attach_in = -1;
				if (!tty && inp[1] >= 0) {
					close(inp[1]);
					inp[1] = -1;
				}
			}
		}
		if (pf[i_sig].revents || first) {
			struct signalfd_siginfo si;

			if (pf[i_sig].revents && read(sfd, &si, sizeof(si)) == sizeof(si) &&
			    si.ssi_signo == SIGWINCH) {
				/* the CLI's terminal changed size: the container's pty follows */
				copy_winsize(attach_in, attach_out, master);
				continue;
			}
			if (pf[i_sig].revents && si.ssi_signo != SIGCHLD) {
				/* run in the foreground: the CLI's signals reach the container */
				kill(pid, (int)si.ssi_signo);
				continue;
			}
			for (;;) {
				int st;
				pid_t p = waitpid(-1, &st, WNOHANG);

				if (p <= 0)
					break;
				if (p == pid) {
					status = st;
					exited = 1;
				}
			}
		}
	}
	log_flush(&lw);
	{
		cleanup_free char *now = box_now();
		struct cabin_err *e = NULL;
		int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		cleanup_json json_t *cur = NULL;

		if (ctr_delete(rroot, id, 1, &e) < 0)
			log_warn("%s", cabin_err_msg(e));
		cabin_err_release(&e);
		if (net_detach(data_root, id, &e) < 0)
			log_warn("%s", cabin_err_msg(e));
		cabin_err_release(&e);
		/* Re-read: `rm -f` may be waiting for exactly this record. */
		if (box_load(data_root, id, &cur, &e) == 0) {
			json_t *old = rec;

			rec = cur;
			cur = old; /* released at the end of this block */
		}
		cabin_err_release(&e);
		restart = want_restart(data_root, id, rec, code);
		json_object_set_new(rec, "state", json_string(restart ? "restarting" : "exited"));
		json_object_set_new(rec, "exitCode", json_integer(code));
		json_object_set_new(rec, "finishedAt", json_string(now));
		json_object_set_new(rec, "pid", json_integer(0));
		if (restart)
			json_object_set_new(rec, "restartCount",
					    json_integer(json_integer_value(json_object_get(
								 rec, "restartCount")) +
							 1));
		if (json_is_true(json_object_get(rec, "autoRemove")))
			box_cleanup(data_root, id, rec);
		else if (box_record_save(data_root, id, rec, &e) < 0)
			log_warn("%s", cabin_err_msg(e));
		cabin_err_release(&e);
		send_line(syncfd, "EXIT", NULL, code);
	}
	ret = restart;
	goto out;

fail_created : {
	struct cabin_err *e = NULL;

	ctr_delete(rroot, id, 1, &e);
	cabin_err_release(&e);
	net_detach(data_root, id, &e);
	cabin_err_release(&e);
}
fail:
	send_line(syncfd, "ERR", cabin_err_msg(*err), 0);
out:
	if (master >= 0)
		close(master);
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
		if (inp[i] >= 0)
			close(inp[i]);
	}
	if (lsock >= 0)
		close(lsock);
	if (sfd >= 0)
		close(sfd);
	if (lw.fd >= 0)
		close(lw.fd);
	free(lw.path);
	(void)pid;
	return ret;
}
