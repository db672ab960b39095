/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * 8250/16550A UART (the PC's COM1 = Linux ttyS0). Registers, by offset:
 *   0 RBR (read) / THR (write), or DLL when LCR.DLAB
 *   1 IER, or DLM when LCR.DLAB
 *   2 IIR (read) / FCR (write)
 *   3 LCR   4 MCR   5 LSR   6 MSR   7 SCR
 * Transmit is immediate (THR is always empty again after a write), so the
 * THR-empty interrupt fires as soon as the guest enables it or writes a byte.
 * Loopback (MCR.LOOP) is modelled because Linux's probe relies on it.
 * Received bytes come from a reader thread into a 64-byte FIFO.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "hw/serial-8250.h"
#include "lib/error.h"
#include "lib/xalloc.h"
#include "vm/machine.h"

#define UART_IER_RDI 0x01
#define UART_IER_THRI 0x02
#define UART_IIR_NO_INT 0x01
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI 0x04
#define UART_IIR_FIFO 0xc0
#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RCVR 0x02
#define UART_LCR_DLAB 0x80
#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10
#define UART_LSR_DR 0x01
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_MSR_CTS 0x10
#define UART_MSR_DSR 0x20
#define UART_MSR_RI 0x40
#define UART_MSR_DCD 0x80

#define RX_FIFO 64

struct serial {
	struct machine *m;
	pthread_mutex_t lock;
	uint16_t port;
	unsigned int irq;
	int in_fd, out_fd;
	int stop_fd; /* eventfd that ends the reader thread */
	pthread_t reader;
	int has_reader;
	uint8_t dll, dlm, ier, fcr, lcr, mcr, msr, scr;
	int thri_pending; /* THR empty, not yet acknowledged through IIR */
	uint8_t rx[RX_FIFO];
	unsigned int rx_head, rx_len;
	int irq_level;
};

static uint8_t iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO : 0;

	if ((s->ier & UART_IER_RDI) && s->rx_len)
		return fifo | UART_IIR_RDI;
	if ((s->ier & UART_IER_THRI) && s->thri_pending)
		return fifo | UART_IIR_THRI;
	return fifo | UART_IIR_NO_INT;
}

/* Called with s->lock held: drive the IRQ line from the pending-interrupt state. */
static void update_irq(struct serial *s)
{
	int level = !(iir(s) & UART_IIR_NO_INT);

	if (level != s->irq_level) {
		s->irq_level = level;
		machine_irq_line(s->m, s->irq, level);
	}
}

static void rx_push(struct serial *s, const uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n && s->rx_len < RX_FIFO; i++) {
		s->rx[(s->rx_head + s->rx_len) % RX_FIFO] = buf[i];
		s->rx_len++;
	}
}

static void transmit(struct serial *s, uint8_t c)
{
	if (s->mcr & UART_MCR_LOOP) {
		rx_push(s, &c, 1);
		return;
	}
	if (s->out_fd >= 0) {
		/* A full or closed terminal must not wedge the vCPU: drop on error. */
		while (write(s->out_fd, &c, 1) < 0 && errno == EINTR)
			;
	}
}

static uint8_t msr_value(const struct serial *s)
{
	if (s->mcr & UART_MCR_LOOP) {
		uint8_t v = 0;

		if (s->mcr & UART_MCR_DTR)
			v |= UART_MSR_DSR;
		if (s->mcr & UART_MCR_RTS)
			v |= UART_MSR_CTS;
		if (s->mcr & UART_MCR_OUT1)
			v |= UART_MSR_RI;
		if (s->mcr & UART_MCR_OUT2)
			v |= UART_MSR_DCD;
		return v;
	}
	return s->msr;
}

static int serial_io(void *opaque, uint64_t offset, void *data, uint32_t len, int is_write)
{
	struct serial *s = opaque;
	uint8_t *b = data, v = is_write ? b[0] : 0;

	/* The registers are bytes; wider accesses touch only the first. */
	pthread_mutex_lock(&s->lock);
	if (is_write) {
		switch (offset) {
		case 0:
			if (s->lcr & UART_LCR_DLAB) {
				s->dll = v;
			} else {
				transmit(s, v);
				s->thri_pending = 1;
			}
			break;
		case 1:
			if (s->lcr & UART_LCR_DLAB) {
				s->dlm = v;
			} else {
				/* Enabling THRI while THR is empty raises it at once (16550
				 * behaviour). */
				if ((v & UART_IER_THRI) && !(s->ier & UART_IER_THRI))
					s->thri_pending = 1;
				s->ier = v & 0x0f;
			}
			break;
		case 2:
			s->fcr = v;
			if (v & UART_FCR_CLEAR_RCVR)
				s->rx_len = 0;
			break;
		case 3:
			s->lcr = v;
			break;
		case 4:
			s->mcr = v & 0x1f;
			break;
		case 7:
			s->scr = v;
			break;
		default:
			break; /* LSR and MSR are read-only */
		}
	} else {
		switch (offset) {
		case 0:
			if (s->lcr & UART_LCR_DLAB) {
				v = s->dll;
			} else if (s->rx_len) {
				v = s->rx[s->rx_head];
				s->rx_head = (s->rx_head + 1) % RX_FIFO;
				s->rx_len--;
			}
			break;
		case 1:
			v = (s->lcr & UART_LCR_DLAB) ? s->dlm : s->ier;
			break;
		case 2:
			v = iir(s);
			/* Reading IIR acknowledges a THR-empty interrupt. */
			if ((v & 0x0f) == UART_IIR_THRI)
				s->thri_pending = 0;
			break;
		case 3:
			v = s->lcr;
			break;
		case 4:
			v = s->mcr;
			break;
		case 5:
			v = UART_LSR_THRE | UART_LSR_TEMT | (s->rx_len ? UART_LSR_DR : 0);
			break;
		case 6:
			v = msr_value(s);
			break;
		case 7:
			v = s->scr;
			break;
		default:
			break;
		}
		memset(b, 0, len);
		b[0] = v;
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void *reader_main(void *arg)
{
	struct serial *s = arg;
	uint8_t buf[RX_FIFO];

	for (;;) {
		struct pollfd p[2] = { { s->in_fd, POLLIN, 0 }, { s->stop_fd, POLLIN, 0 } };
		int room;
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		pthread_mutex_lock(&s->lock);
		room = RX_FIFO - (int)s->rx_len;
		pthread_mutex_unlock(&s->lock);
		if (room == 0) {
			/* The guest is not reading: back off instead of spinning on POLLIN. */
			struct pollfd q = { s->stop_fd, POLLIN, 0 };

			if (poll(&q, 1, 10) > 0)
				break;
			continue;
		}
		n = read(s->in_fd, buf, (size_t)room);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break; /* EOF: the guest just sees no more input */
		pthread_mutex_lock(&s->lock);
		rx_push(s, buf, (size_t)n);
		update_irq(s);
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

static void serial_fini(void *opaque)
{
	struct serial *s = opaque;
	uint64_t one = 1;

	if (s->has_reader) {
		if (write(s->stop_fd, &one, sizeof(one)) < 0) {
			/* eventfd writes of 1 cannot fail short of overflow; nothing to do */
		}
		pthread_join(s->reader, NULL);
	}
	bus_unregister(&s->m->bus, BUS_PIO, s->port);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	if (s->m->console == s)
		s->m->console = NULL;
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int hw_serial_attach(struct machine *m, uint16_t port, unsigned int irq, int in_fd, int out_fd,
		     struct cabin_err **err)
{
	struct serial *s = xcalloc(1, sizeof(*s));
	struct machine_dev d = { .name = "serial", .opaque = s, .fini = serial_fini };
	int ret;

	s->m = m;
	s->port = port;
	s->irq = irq;
	s->in_fd = in_fd;
	s->out_fd = out_fd;
	s->stop_fd = -1;
	s->msr = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	s->mcr = UART_MCR_OUT2;
	pthread_mutex_init(&s->lock, NULL);
	ret = bus_register_pio(&m->bus, port, 8, serial_io, s, "serial");
	if (ret < 0) {
		pthread_mutex_destroy(&s->lock);
		free(s);
		return cabin_err_make(err, -ret, "claim ports `0x%x`-`0x%x` for the serial port",
				      port, port + 7);
	}
	if (in_fd >= 0) {
		s->stop_fd = eventfd(0, EFD_CLOEXEC);
		if (s->stop_fd < 0) {
			ret = cabin_err_make(err, errno, "eventfd for the serial reader");
			goto err_fini;
		}
		ret = pthread_create(&s->reader, NULL, reader_main, s);
		if (ret) {
			ret = cabin_err_make(err, ret, "start the serial reader");
			goto err_fini;
		}
		s->has_reader = 1;
	}
	ret = machine_dev_add(m, &d);
	if (ret < 0) {
		ret = cabin_err_make(err, -ret, "record the serial device");
		goto err_fini;
	}
	if (!m->console)
		m->console = s;
	return 0;

err_fini:
	serial_fini(s);
	return ret;
}
