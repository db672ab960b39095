/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "vm/ctl.h"
#include "vm/machine.h"

struct vm_ctl {
	struct machine *m;
	char *path;
	char name[64];
	int listen_fd;
	int stop_fd;
	int sig_fd;
	pthread_t thread;
};

static void fill_info(struct vm_ctl *c, struct vm_ctl_info *info)
{
	memset(info, 0, sizeof(*info));
	snprintf(info->name, sizeof(info->name), "%s", c->name);
	info->pid = getpid();
	info->state = c->m->stopping		? VM_CTL_STOPPING
		      : machine_is_paused(c->m) ? VM_CTL_PAUSED
						: VM_CTL_RUNNING;
	info->cpus = c->m->nr_vcpus;
	info->mem_bytes = c->m->mem.ram_size;
	snprintf(info->accel, sizeof(info->accel), "%s", c->m->accel->name);
}

static int handle_info(struct vm_ctl *c)
{
	return 0;
}

static int handle_stop(struct vm_ctl *c)
{
	machine_stop_cause(c->m, MACHINE_EXIT_STOPPED, "stopped by `vm stop`");
	return 0;
}

static int handle_pause(struct vm_ctl *c)
{
	return machine_pause(c->m);
}

static int handle_resume(struct vm_ctl *c)
{
	return machine_resume(c->m);
}

/* The handler table, indexed by enum vm_ctl_req. */
static int (*const handlers[VM_CTL_REQ_MAX])(struct vm_ctl *c) = {
	[VM_CTL_INFO] = handle_info,
	[VM_CTL_STOP] = handle_stop,
	[VM_CTL_PAUSE] = handle_pause,
	[VM_CTL_RESUME] = handle_resume,
};

static void serve_one(struct vm_ctl *c, int fd)
{
	struct vm_ctl_request req;
	struct vm_ctl_reply rep = { .magic = VM_CTL_MAGIC };
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct timeval tv = { 2, 0 };
	ssize_t n;

	/* Only root or the VM's own user may drive it. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 ||
	    (cred.uid != 0 && cred.uid != geteuid()))
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(fd, &req, sizeof(req), MSG_WAITALL);
	if (n != (ssize_t)sizeof(req) || req.magic != VM_CTL_MAGIC)
		return;
	if (req.type == 0 || req.type >= VM_CTL_REQ_MAX || !handlers[req.type])
		rep.status = -EINVAL;
	else
		rep.status = handlers[req.type](c);
	fill_info(c, &rep.info);
	if (send(fd, &rep, sizeof(rep), MSG_NOSIGNAL) < 0)
		log_debug("control socket: reply: %s", strerror(errno));
}

static void *ctl_main(void *arg)
{
	struct vm_ctl *c = arg;

	for (;;) {
		struct pollfd p[3] = {
			{ c->listen_fd, POLLIN, 0 },
			{ c->stop_fd, POLLIN, 0 },
			{ c->sig_fd, POLLIN, 0 },
		};

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		if (p[2].revents) {
			struct signalfd_siginfo si;

			if (read(c->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				machine_stop_cause(c->m, 128 + (int)si.ssi_signo,
						   "stopped by signal %u", si.ssi_signo);
			}
		}
		if (p[0].revents & POLLIN) {
			cleanup_close int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0)
				serve_one(c, fd);
		}
	}
	return NULL;
}

static int make_dir(const char *dir, struct cabin_err **err)
{
	cleanup_free char *tmp = xstrdup(dir);

	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0711) < 0 && errno != EEXIST)
			return cabin_err_make(err, errno, "create `%s`", tmp);
		*p = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return cabin_err_make(err, errno, "create `%s`", tmp);
	return 0;
}

static int fill_addr(struct sockaddr_un *sa, const char *path, struct cabin_err **err)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return cabin_err_make(err, ENAMETOOLONG, "control socket path `%s` is too long",
				      path);
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

void vm_ctl_stop(struct vm_ctl *c)
{
	uint64_t one = 1;

	if (!c)
		return;
	if (c->stop_fd >= 0 && write(c->stop_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(c->thread, NULL);
	if (c->path)
		unlink(c->path);
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	if (c->stop_fd >= 0)
		close(c->stop_fd);
	if (c->sig_fd >= 0)
		close(c->sig_fd);
	free(c->path);
	free(c);
}

int vm_ctl_start(struct machine *m, const char *dir, const char *name, struct vm_ctl **out,
		 struct cabin_err **err)
{
	struct vm_ctl *c;
	struct sockaddr_un sa;
	sigset_t sigs;
	int ret;

	if (!*name || strlen(name) >= sizeof(c->name) || strchr(name, '/') || name[0] == '.')
		return cabin_err_make(err, EINVAL, "invalid VM name `%s`", name);
	ret = make_dir(dir, err);
	if (ret < 0)
		return ret;
	c = xcalloc(1, sizeof(*c));
	c->m = m;
	c->listen_fd = c->stop_fd = c->sig_fd = -1;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->path = xasprintf("%s/%s.sock", dir, name);
	ret = fill_addr(&sa, c->path, err);
	if (ret < 0)
		goto err_free;

	/* A socket that still answers belongs to a running VM; a dead one is stale. */
	{
		cleanup_close int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			ret = cabin_err_make(err, EEXIST, "a VM named `%s` is already running",
					     name);
			free(c->path);
			c->path = NULL; /* not ours to unlink */
			goto err_free;
		}
	}
	/*
	 * The socket is bound under a temporary name, made 0600 and listening before it is
	 * renamed to its real name: a client that sees NAME.sock can always connect (no
	 * ECONNREFUSED window between bind and listen), and never finds it with the umask's
	 * mode.
	 */
	{
		cleanup_free char *tmp = xasprintf("%s/.%s.sock.%d", dir, name, (int)getpid());
		struct sockaddr_un tsa;

		ret = fill_addr(&tsa, tmp, err);
		if (ret < 0)
			goto err_free;
		unlink(tmp);
		c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c->listen_fd < 0) {
			ret = cabin_err_make(err, errno, "control socket");
			goto err_free;
		}
		if (bind(c->listen_fd, (struct sockaddr *)&tsa, sizeof(tsa)) < 0) {
			ret = cabin_err_make(err, errno, "bind control socket `%s`", tmp);
			goto err_tmp;
		}
		if (chmod(tmp, 0600) < 0 || listen(c->listen_fd, 8) < 0) {
			ret = cabin_err_make(err, errno, "listen on `%s`", tmp);
			unlink(tmp);
			goto err_tmp;
		}
		if (rename(tmp, c->path) < 0) {
			ret = cabin_err_make(err, errno, "rename `%s` to `%s`", tmp, c->path);
			unlink(tmp);
			goto err_tmp;
		}
	}
	c->stop_fd = eventfd(0, EFD_CLOEXEC);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	c->sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (c->stop_fd < 0 || c->sig_fd < 0) {
		ret = cabin_err_make(err, errno, "eventfd/signalfd for the control thread");
		goto err_free;
	}
	ret = pthread_create(&c->thread, NULL, ctl_main, c);
	if (ret) {
		ret = cabin_err_make(err, ret, "start the control thread");
		close(c->stop_fd);
		c->stop_fd = -1;
		goto err_free;
	}
	*out = c;
	return 0;

err_tmp:
	free(c->path);
	c->path = NULL; /* the real name was never ours */
err_free:
	if (c->stop_fd >= 0) {
		close(c->stop_fd);
		c->stop_fd = -1;
	}
	vm_ctl_stop(c);
	return ret;
}

int vm_ctl_request(const char *path, enum vm_ctl_req type, struct vm_ctl_info *info,
		   struct cabin_err **err)
{
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct vm_ctl_request req = { VM_CTL_MAGIC, type };
	struct vm_ctl_reply rep;
	struct sockaddr_un sa;
	struct timeval tv = { 30, 0 };
	int ret;

	if (fd < 0)
		return cabin_err_make(err, errno, "socket");
	ret = fill_addr(&sa, path, err);
	if (ret < 0)
		return ret;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return cabin_err_make(err, errno, "connect to `%s`", path);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (send(fd, &req, sizeof(req), MSG_NOSIGNAL) != (ssize_t)sizeof(req))
		return cabin_err_make(err, errno, "send to `%s`", path);
	if (recv(fd, &rep, sizeof(rep), MSG_WAITALL) != (ssize_t)sizeof(rep) ||
	    rep.magic != VM_CTL_MAGIC)
		return cabin_err_make(err, errno ? errno : EPROTO, "no reply from `%s`", path);
	if (info) {
		*info = rep.info;
		info->name[sizeof(info->name) - 1] = 0;
		info->accel[sizeof(info->accel) - 1] = 0;
	}
	return rep.status;
}
