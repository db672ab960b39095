/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-vsock (virtio 1.1, 5.10) with its host side on unix sockets, in the
 * manner of Firecracker's hybrid vsock:
 *
 *  - the guest connects to host CID 2 port P: we connect to the unix socket
 *    "<uds_path>_P" and bridge the two;
 *  - a host program connects to <uds_path> and writes "CONNECT <port>\n": we
 *    send the guest a request for <port> and, once it accepts, answer
 *    "OK <hostport>\n" on the unix socket, which then carries the stream.
 *
 * Flow control is the virtio-vsock credit scheme: we advertise VSOCK_BUF_ALLOC
 * bytes per connection and buffer what the guest sends until the unix socket
 * takes it; we only read from a unix socket as much as the guest has room for.
 * A guest that sends beyond its credit gets the connection reset.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/util.h"
#include "lib/xalloc.h"
#include "virtio/core.h"
#include "virtio/virtio.h"

#define VSOCK_RX 0
#define VSOCK_TX 1
#define VSOCK_EVENT 2

#define VSOCK_HOST_CID 2
#define VSOCK_TYPE_STREAM 1

enum {
	VSOCK_OP_INVALID = 0,
	VSOCK_OP_REQUEST = 1,
	VSOCK_OP_RESPONSE = 2,
	VSOCK_OP_RST = 3,
	VSOCK_OP_SHUTDOWN = 4,
	VSOCK_OP_RW = 5,
	VSOCK_OP_CREDIT_UPDATE = 6,
	VSOCK_OP_CREDIT_REQUEST = 7,
};

#define VSOCK_SHUTDOWN_RCV 1
#define VSOCK_SHUTDOWN_SEND 2

#define VSOCK_MAX_CONNS 64
#define VSOCK_BUF_ALLOC (64u << 10)
#define VSOCK_MAX_PKT (64u << 10)
#define VSOCK_MAX_RSTS 32
#define VSOCK_LINE_MAX 32
#define VSOCK_LOCAL_PORT_BASE (1u << 30)

struct virtio_vsock_hdr {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t len;
	uint16_t type;
	uint16_t op;
	uint32_t flags;
	uint32_t buf_alloc;
	uint32_t fwd_cnt;
} __attribute__((packed));

enum conn_state {
	CONN_FREE,
	CONN_HOST_LINE, /* host client connected, waiting for "CONNECT <port>\n" */
	CONN_HOST_REQ,	/* REQUEST sent to the guest, waiting for its RESPONSE */
	CONN_ESTABLISHED,
};

/* Control packets owed to the guest for a connection. */
#define CTRL_REQUEST 1
#define CTRL_RESPONSE 2
#define CTRL_CREDIT 4
#define CTRL_SHUTDOWN 8

struct conn {
	enum conn_state state;
	int fd;
	uint32_t local_port; /* host side */
	uint32_t peer_port;  /* guest side */
	unsigned int ctrl;   /* CTRL_* pending */
	uint32_t events;     /* what the worker watches on fd */
	/* Guest's credit (from its headers) and what we sent it. */
	uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;
	/* Our receive side: bytes from the guest, and how many went out to the socket. */
	uint32_t rx_cnt, fwd_cnt, fwd_cnt_sent;
	uint8_t *buf; /* VSOCK_BUF_ALLOC ring of guest bytes not yet written */
	uint32_t buf_head, buf_len;
	int shut_wr;		       /* guest will send no more: SHUT_WR once the buffer drains */
	char line[VSOCK_LINE_MAX + 1]; /* host client's "CONNECT <port>" so far */
	unsigned int line_len;
};

struct rst {
	uint32_t local_port, peer_port;
};

struct vsock {
	uint64_t guest_cid;
	char *uds_path;
	int listen_fd;
	int listening;	   /* listen_fd is in the worker's epoll set */
	int listen_paused; /* ... but not watched (device not running, or out of fds) */
	uint32_t next_local_port;
	struct conn conns[VSOCK_MAX_CONNS];
	struct rst rsts[VSOCK_MAX_RSTS];
	unsigned int nr_rsts;
	struct virtq_elem elem;
	struct iovec payload[VIRTQ_MAX_SEGS];
};

static uint32_t peer_credit(const struct conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

	return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

static struct conn *conn_find(struct vsock *v, uint32_t local_port, uint32_t peer_port)
{
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct conn *c = &v->conns[i];

		if (c->state != CONN_FREE && c->state != CONN_HOST_LINE &&
		    c->local_port == local_port && c->peer_port == peer_port)
			return c;
	}
	return NULL;
}

static struct conn *conn_alloc(struct vsock *v, int fd)
{
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct conn *c = &v->conns[i];

		if (c->state == CONN_FREE) {
			uint8_t *buf = calloc(1, VSOCK_BUF_ALLOC);

			if (!buf)
				return NULL;
			memset(c, 0, sizeof(*c));
			c->fd = fd;
			c->buf = buf;
			return c;
		}
	}
	return NULL;
}

static void conn_close(struct conn *c)
{
	/* Closing the fd also takes it out of the worker's epoll set. */
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->state = CONN_FREE;
}

static void queue_rst(struct vsock *v, uint32_t local_port, uint32_t peer_port)
{
	if (v->nr_rsts < VSOCK_MAX_RSTS)
		v->rsts[v->nr_rsts++] = (struct rst){ local_port, peer_port };
}

/* Reset a connection: tell the guest, drop it. */
static void conn_reset(struct vsock *v, struct conn *c)
{
	queue_rst(v, c->local_port, c->peer_port);
	conn_close(c);
}

/* Write buffered guest bytes to the unix socket. Return: 0, or -1 when the conn died. */
static int conn_flush(struct vsock *v, struct conn *c)
{
	while (c->buf_len) {
		uint32_t chunk = MIN(c->buf_len, VSOCK_BUF_ALLOC - c->buf_head);
		ssize_t w = send(c->fd, c->buf + c->buf_head, chunk, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w <= 0) {
			conn_reset(v, c);
			return -1;
		}
		c->buf_head = (c->buf_head + (uint32_t)w) % VSOCK_BUF_ALLOC;
		c->buf_len -= (uint32_t)w;
		c->fwd_cnt += (uint32_t)w;
	}
	if (!c->buf_len && c->shut_wr == 1) {
		shutdown(c->fd, SHUT_WR);
		c->shut_wr = 2;
	}
	/* The guest thinks it has under half its credit left and we freed some: say so. */
	if (c->fwd_cnt != c->fwd_cnt_sent && c->rx_cnt - c->fwd_cnt_sent > VSOCK_BUF_ALLOC / 2)
		c->ctrl |= CTRL_CREDIT;
	return 0;
}

static void hdr_fill(struct vsock *v, struct virtio_vsock_hdr *h, struct conn *c,
		     uint32_t local_port, uint32_t peer_port, uint16_t op)
{
	memset(h, 0, sizeof(*h));
	h->src_cid = VSOCK_HOST_CID;
	h->dst_cid = v->guest_cid;
	h->src_port = local_port;
	h->dst_port = peer_port;
	h->type = VSOCK_TYPE_STREAM;
	h->op = op;
	h->buf_alloc = VSOCK_BUF_ALLOC;
	if (c) {
		h->fwd_cnt = c->fwd_cnt;
		c->fwd_cnt_sent = c->fwd_cnt;
	}
}

/* Put a header-only packet in the next receive buffer. Return: 1 sent, 0 no buffer. */
static int rx_send_hdr(struct virtio_dev *vdev, const struct virtio_vsock_hdr *h)
{
	struct vsock *v = vdev->priv;
	struct virtq_elem *e = &v->elem;

	for (;;) {
		if (virtq_pop(vdev, VSOCK_RX, e) <= 0)
			return 0;
		if (e->in_len >= sizeof(*h))
			break;
		virtio_dev_warn(vdev, "receive buffer of %zu bytes is too small", e->in_len);
		virtq_push(vdev, VSOCK_RX, e, 0);
	}
	iov_from_buf(&e->iov[e->nr_out], e->nr_in, 0, h, sizeof(*h));
	virtq_push(vdev, VSOCK_RX, e, sizeof(*h));
	return 1;
}

static int send_ctrl(struct virtio_dev *vdev, struct conn *c)
{
	struct vsock *v = vdev->priv;
	struct virtio_vsock_hdr h;
	static const struct {
		unsigned int bit;
		uint16_t op;
	} order[] = {
		{ CTRL_REQUEST, VSOCK_OP_REQUEST },
		{ CTRL_RESPONSE, VSOCK_OP_RESPONSE },
		{ CTRL_CREDIT, VSOCK_OP_CREDIT_UPDATE },
		{ CTRL_SHUTDOWN, VSOCK_OP_SHUTDOWN },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(order); i++) {
		if (!(c->ctrl & order[i].bit))
			continue;
		hdr_fill(v, &h, c, c->local_port, c->peer_port, order[i].op);
		if (order[i].op == VSOCK_OP_SHUTDOWN)
			h.flags = VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND;
		if (!rx_send_hdr(vdev, &h))
			return 0;
		c->ctrl &= ~order[i].bit;
		if (order[i].op == VSOCK_OP_SHUTDOWN) {
			/* Host side gone: the guest answers with RST, which needs no conn. */
			conn_close(c);
			return 1;
		}
	}
	return 1;
}

/* Move unix socket bytes into receive buffers, within the guest's credit. */
static int rx_data(struct virtio_dev *vdev, struct conn *c)
{
	struct vsock *v = vdev->priv;
	struct virtq_elem *e = &v->elem;
	struct virtio_vsock_hdr h;

	while (c->state == CONN_ESTABLISHED && !c->ctrl && c->shut_wr != 3 && peer_credit(c)) {
		unsigned int n;
		size_t room;
		ssize_t r;

		if (virtq_pop(vdev, VSOCK_RX, e) <= 0)
			return 0;
		if (e->in_len < sizeof(h)) {
			virtq_push(vdev, VSOCK_RX, e, 0);
			continue;
		}
		room = MIN(MIN(e->in_len - sizeof(h), (size_t)VSOCK_MAX_PKT),
			   (size_t)peer_credit(c));
		n = iov_slice(&e->iov[e->nr_out], e->nr_in, sizeof(h), room, v->payload,
			      VIRTQ_MAX_SEGS);
		r = n ? readv(c->fd, v->payload, (int)MIN(n, (unsigned int)IOV_MAX)) : -1;
		if (n == 0 || (r < 0 && (errno == EAGAIN || errno == EINTR))) {
			virtq_unpop(vdev, VSOCK_RX);
			return 1;
		}
		if (r <= 0) {
			/* Host side closed: tell the guest we are done both ways. */
			virtq_unpop(vdev, VSOCK_RX);
			c->ctrl |= CTRL_SHUTDOWN;
			return send_ctrl(vdev, c);
		}
		hdr_fill(v, &h, c, c->local_port, c->peer_port, VSOCK_OP_RW);
		h.len = (uint32_t)r;
		c->tx_cnt += (uint32_t)r;
		iov_from_buf(&e->iov[e->nr_out], e->nr_in, 0, &h, sizeof(h));
		virtq_push(vdev, VSOCK_RX, e, (uint32_t)(sizeof(h) + (size_t)r));
	}
	return 1;
}

/* Host client sent (part of) its "CONNECT <port>\n" line. */
static void host_line(struct vsock *v, struct conn *c)
{
	unsigned long port;
	char *end = NULL;

	/*
	 * One byte at a time: what follows the newline belongs to the stream, and a
	 * partial line is consumed (not peeked) so a stalled client cannot keep the
	 * socket readable and the worker busy.
	 */
	for (;;) {
		char ch;
		ssize_t r = recv(c->fd, &ch, 1, MSG_DONTWAIT);

		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0) {
			conn_close(c);
			return;
		}
		if (ch == '\n')
			break;
		if (c->line_len >= VSOCK_LINE_MAX) {
			conn_close(c); /* no newline in the first bytes: not our protocol */
			return;
		}
		c->line[c->line_len++] = ch;
	}
	c->line[c->line_len] = 0;
	if (strncmp(c->line, "CONNECT ", 8) || c->line[8] < '0' || c->line[8] > '9') {
		conn_close(c);
		return;
	}
	errno = 0;
	port = strtoul(c->line + 8, &end, 10);
	if (errno || *end || port > UINT32_MAX) {
		conn_close(c);
		return;
	}
	do {
		c->local_port = v->next_local_port++;
		if (v->next_local_port < VSOCK_LOCAL_PORT_BASE)
			v->next_local_port = VSOCK_LOCAL_PORT_BASE;
	} while (conn_find(v, c->local_port, (uint32_t)port));
	c->peer_port = (uint32_t)port;
	c->state = CONN_HOST_REQ;
	c->ctrl |= CTRL_REQUEST;
}

static void set_events(struct virtio_dev *vdev, struct conn *c, uint32_t events)
{
	if (c->state == CONN_FREE || c->events == events)
		return;
	if (virtio_dev_poll_mod(vdev, c->fd, events) == 0)
		c->events = events;
}

static void listen_pause(struct virtio_dev *vdev, int pause)
{
	struct vsock *v = vdev->priv;

	if (!v->listening || v->listen_paused == pause)
		return;
	if (virtio_dev_poll_mod(vdev, v->listen_fd, pause ? 0 : EPOLLIN) == 0)
		v->listen_paused = pause;
}

/* Do everything that can be done now, then watch what we wait for. */
static void vsock_pump(struct virtio_dev *vdev)
{
	struct vsock *v = vdev->priv;
	struct virtio_vsock_hdr h;
	int rx_ok = 1, sent = 0;

	if (!virtio_dev_usable(vdev)) {
		/* Stopped or broken: watch nothing, or level-triggered fds would spin. */
		for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++)
			set_events(vdev, &v->conns[i], 0);
		listen_pause(vdev, 1);
		return;
	}
	listen_pause(vdev, 0);
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct conn *c = &v->conns[i];

		if (c->state == CONN_HOST_LINE)
			host_line(v, c);
		if (c->state == CONN_ESTABLISHED && (c->buf_len || c->shut_wr == 1))
			conn_flush(v, c);
	}
	while (v->nr_rsts && rx_ok) {
		hdr_fill(v, &h, NULL, v->rsts[0].local_port, v->rsts[0].peer_port, VSOCK_OP_RST);
		rx_ok = rx_send_hdr(vdev, &h);
		if (rx_ok) {
			memmove(&v->rsts[0], &v->rsts[1], --v->nr_rsts * sizeof(v->rsts[0]));
			sent++;
		}
	}
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS && rx_ok; i++) {
		struct conn *c = &v->conns[i];
		uint16_t before = vdev->vqs[VSOCK_RX].used_idx;

		if (c->state != CONN_FREE && c->ctrl)
			rx_ok = send_ctrl(vdev, c);
		if (rx_ok && c->state == CONN_ESTABLISHED)
			rx_ok = rx_data(vdev, c);
		sent += vdev->vqs[VSOCK_RX].used_idx != before;
	}
	if (sent)
		virtq_signal(vdev, VSOCK_RX);
	rx_ok = rx_ok && virtq_has_avail(vdev, VSOCK_RX);
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct conn *c = &v->conns[i];
		uint32_t ev = 0;

		if (c->state == CONN_HOST_LINE)
			ev = EPOLLIN;
		else if (c->state == CONN_ESTABLISHED && rx_ok && peer_credit(c) && c->shut_wr != 3)
			ev = EPOLLIN;
		if (c->buf_len)
			ev |= EPOLLOUT;
		set_events(vdev, c, ev);
	}
}

static void accept_host(struct virtio_dev *vdev)
{
	struct vsock *v = vdev->priv;

	for (;;) {
		cleanup_close int fd =
			accept4(v->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0) {
			/* Out of fds: stop watching the listener until the next guest activity. */
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				listen_pause(vdev, 1);
			return;
		}
		c = conn_alloc(v, fd);
		if (!c) {
			virtio_dev_warn(vdev, "too many connections, refusing a host client");
			continue;
		}
		if (virtio_dev_poll_add(vdev, fd, EPOLLIN) < 0) {
			conn_close(c); /* closes fd */
			fd = -1;
			continue;
		}
		c->events = EPOLLIN;
		c->state = CONN_HOST_LINE;
		c->fd = steal_fd(&fd);
	}
}

/* Guest asks for host port @h->dst_port: bridge to "<uds_path>_<port>". */
static void guest_connect(struct virtio_dev *vdev, const struct virtio_vsock_hdr *h)
{
	struct vsock *v = vdev->priv;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	cleanup_close int fd = -1;
	struct conn *c;
	int n;

	if (conn_find(v, h->dst_port, h->src_port)) {
		queue_rst(v, h->dst_port, h->src_port);
		return;
	}
	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", v->uds_path, h->dst_port);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path) || fd < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		queue_rst(v, h->dst_port, h->src_port);
		return;
	}
	c = conn_alloc(v, -1);
	if (!c) {
		virtio_dev_warn(vdev, "too many connections, refusing guest port %u", h->src_port);
		queue_rst(v, h->dst_port, h->src_port);
		return;
	}
	/* Not watched yet: vsock_pump() adds the fd once the guest can take data. */
	c->fd = steal_fd(&fd);
	c->state = CONN_ESTABLISHED;
	c->local_port = h->dst_port;
	c->peer_port = h->src_port;
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	c->ctrl |= CTRL_RESPONSE;
}

/* One packet from the guest. */
static void guest_packet(struct virtio_dev *vdev, struct virtq_elem *e)
{
	struct vsock *v = vdev->priv;
	struct virtio_vsock_hdr h;
	struct conn *c;
	char ok[32];
	int n;

	if (iov_to_buf(e->iov, e->nr_out, 0, &h, sizeof(h)) < sizeof(h)) {
		virtio_dev_warn(vdev, "packet shorter than its header");
		return;
	}
	if (h.src_cid != v->guest_cid || h.dst_cid != VSOCK_HOST_CID) {
		virtio_dev_warn(vdev, "packet from cid %llu to cid %llu dropped",
				(unsigned long long)h.src_cid, (unsigned long long)h.dst_cid);
		return;
	}
	if (h.len > e->out_len - sizeof(h) || h.len > VSOCK_MAX_PKT) {
		virtio_dev_warn(vdev, "packet length %u exceeds its buffers", h.len);
		return;
	}
	if (h.type != VSOCK_TYPE_STREAM) {
		if (h.op != VSOCK_OP_RST)
			queue_rst(v, h.dst_port, h.src_port);
		return;
	}
	c = conn_find(v, h.dst_port, h.src_port);
	if (h.op == VSOCK_OP_REQUEST) {
		guest_connect(vdev, &h);
		return;
	}
	if (!c) {
		/* Anything but RST for an unknown connection is answered with RST. */
		if (h.op != VSOCK_OP_RST)
			queue_rst(v, h.dst_port, h.src_port);
		return;
	}
	c->peer_buf_alloc = h.buf_alloc;
	c->peer_fwd_cnt = h.fwd_cnt;
	switch (h.op) {
	case VSOCK_OP_RESPONSE:
		if (c->state != CONN_HOST_REQ) {
			conn_reset(v, c);
			return;
		}
		c->state = CONN_ESTABLISHED;
		n = snprintf(ok, sizeof(ok), "OK %u\n", c->local_port);
		if (send(c->fd, ok, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) != n)
			conn_reset(v, c);
		return;
	case VSOCK_OP_RST:
		conn_close(c);
		return;
	case VSOCK_OP_SHUTDOWN:
		if ((h.flags & (VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND)) ==
		    (VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND)) {
			conn_flush(v, c);
			if (c->state != CONN_FREE)
				conn_reset(v, c);
		} else if (h.flags & VSOCK_SHUTDOWN_SEND) {
			if (!c->shut_wr)
				c->shut_wr = 1;
			conn_flush(v, c);
		} else if (h.flags & VSOCK_SHUTDOWN_RCV) {
			c->shut_wr = 3; /* the guest reads no more: stop reading the socket */
		}
		return;
	case VSOCK_OP_RW:
		if (c->state != CONN_ESTABLISHED) {
			conn_reset(v, c);
			return;
		}
		/* Beyond the credit we gave: the guest broke flow control. */
		if (h.len > VSOCK_BUF_ALLOC - c->buf_len) {
			virtio_dev_warn(vdev, "guest port %u overran its credit", h.src_port);
			conn_reset(v, c);
			return;
		}
		for (uint32_t done = 0; done < h.len;) {
			uint32_t tail = (c->buf_head + c->buf_len) % VSOCK_BUF_ALLOC;
			uint32_t chunk = MIN(h.len - done, VSOCK_BUF_ALLOC - tail);

			iov_to_buf(e->iov, e->nr_out, sizeof(h) + done, c->buf + tail, chunk);
			c->buf_len += chunk;
			done += chunk;
		}
		c->rx_cnt += h.len;
		conn_flush(v, c);
		return;
	case VSOCK_OP_CREDIT_UPDATE:
		return; /* credit taken above */
	case VSOCK_OP_CREDIT_REQUEST:
		c->ctrl |= CTRL_CREDIT;
		return;
	default:
		conn_reset(v, c);
		return;
	}
}

static void vsock_queue_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct vsock *v = vdev->priv;
	int n = 0;

	if (q == VSOCK_TX) {
		while (virtq_pop(vdev, VSOCK_TX, &v->elem) > 0) {
			guest_packet(vdev, &v->elem);
			virtq_push(vdev, VSOCK_TX, &v->elem, 0);
			n++;
		}
		if (n)
			virtq_signal(vdev, VSOCK_TX);
	}
	/* New receive buffers or new packets both may unblock something. */
	vsock_pump(vdev);
}

static void vsock_poll(struct virtio_dev *vdev, int fd, uint32_t events)
{
	struct vsock *v = vdev->priv;

	if (fd == v->listen_fd && virtio_dev_usable(vdev))
		accept_host(vdev);
	vsock_pump(vdev);
}

static int vsock_driver_ok(struct virtio_dev *vdev)
{
	struct vsock *v = vdev->priv;
	int ret;

	if (v->listening) {
		listen_pause(vdev, 0);
		return 0;
	}
	ret = virtio_dev_poll_add(vdev, v->listen_fd, EPOLLIN);
	if (ret == 0)
		v->listening = 1;
	return ret;
}

static void vsock_reset(struct virtio_dev *vdev)
{
	struct vsock *v = vdev->priv;

	/* The guest forgot every connection: so do we. */
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++)
		if (v->conns[i].state != CONN_FREE)
			conn_close(&v->conns[i]);
	v->nr_rsts = 0;
}

static void vsock_config_read(struct virtio_dev *vdev, size_t offset, void *data, size_t len)
{
	struct vsock *v = vdev->priv;

	memcpy(data, (const uint8_t *)&v->guest_cid + offset, len);
}

static void vsock_fini(struct virtio_dev *vdev)
{
	struct vsock *v = vdev->priv;

	if (!v)
		return;
	vsock_reset(vdev);
	if (v->listen_fd >= 0) {
		close(v->listen_fd);
		unlink(v->uds_path);
	}
	free(v->uds_path);
	free(v);
	vdev->priv = NULL;
}

static const struct virtio_dev_ops vsock_ops = {
	.name = "vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.nr_queues = 3,
	.config_size = sizeof(uint64_t),
	.config_read = vsock_config_read,
	.queue_notify = vsock_queue_notify,
	.driver_ok = vsock_driver_ok,
	.poll = vsock_poll,
	.reset = vsock_reset,
	.fini = vsock_fini,
};

/* Listen on @path; a stale socket nobody answers on is replaced, a live one is not. */
static int listen_uds(const char *path, struct cabin_err **err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	cleanup_close int fd = -1;
	struct stat st;

	/* Room for "_<port>" too: guest connections go to "<path>_<port>". */
	if (strlen(path) + 12 > sizeof(sa.sun_path))
		return cabin_err_make(err, ENAMETOOLONG, "vsock socket path `%s` is too long",
				      path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		cleanup_close int probe = -1;

		if (!S_ISSOCK(st.st_mode))
			return cabin_err_make(err, EEXIST, "vsock socket path `%s` exists", path);
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return cabin_err_make(err, EADDRINUSE, "vsock socket `%s` is in use", path);
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cabin_err_make(err, errno, "vsock socket `%s`", path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return cabin_err_make(err, errno, "bind vsock socket `%s`", path);
	if (listen(fd, 32) < 0) {
		int ret = cabin_err_make(err, errno, "listen on vsock socket `%s`", path);

		unlink(path);
		return ret;
	}
	return steal_fd(&fd);
}

int virtio_vsock_attach(struct machine *m, uint32_t guest_cid, const char *uds_path,
			struct cabin_err **err)
{
	struct vsock *v;
	int fd;

	/* 0, 1 and 2 are reserved (hypervisor, local, host); -1 is VMADDR_CID_ANY. */
	if (guest_cid < 3 || guest_cid == UINT32_MAX)
		return cabin_err_make(err, EINVAL, "invalid vsock guest cid `%u` (3 to 4294967294)",
				      guest_cid);
	if (!uds_path || !*uds_path)
		return cabin_err_make(err, EINVAL, "vsock needs a unix socket path");
	fd = listen_uds(uds_path, err);
	if (fd < 0)
		return fd;
	v = xcalloc(1, sizeof(*v));
	v->guest_cid = guest_cid;
	v->uds_path = xstrdup(uds_path);
	v->listen_fd = fd;
	v->next_local_port = VSOCK_LOCAL_PORT_BASE;
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++)
		v->conns[i].fd = -1;
	return virtio_mmio_attach(m, virtio_dev_alloc(m, &vsock_ops, v), err);
}
