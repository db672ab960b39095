/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MC146818 CMOS/RTC at ports 0x70 (index; bit 7 is the NMI mask) and 0x71
 * (data). The clock registers report the host's UTC time in BCD, 24-hour
 * mode, with no update in progress, which is all Linux's read_persistent_clock
 * needs; the rest is 128 bytes of CMOS RAM the guest may scribble on.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hw/legacy.h"
#include "lib/error.h"
#include "vm/machine.h"

struct rtc {
	struct machine *m;
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t cmos[128];
};

static uint8_t bcd(int v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static uint8_t rtc_read(struct rtc *r, uint8_t idx)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	switch (idx) {
	case 0x00:
		return bcd(tm.tm_sec);
	case 0x02:
		return bcd(tm.tm_min);
	case 0x04:
		return bcd(tm.tm_hour);
	case 0x06:
		return bcd(tm.tm_wday + 1);
	case 0x07:
		return bcd(tm.tm_mday);
	case 0x08:
		return bcd(tm.tm_mon + 1);
	case 0x09:
		return bcd(tm.tm_year % 100);
	case 0x32:
		return bcd((tm.tm_year + 1900) / 100);
	case 0x0a:
		return 0x26; /* UIP clear, 32.768 kHz base, 1024 Hz */
	case 0x0b:
		return 0x02; /* 24-hour, BCD */
	case 0x0c:
		return 0x00;
	case 0x0d:
		return 0x80; /* valid RAM and time */
	default:
		return r->cmos[idx & 0x7f];
	}
}

static int rtc_io(void *opaque, uint64_t offset, void *data, uint32_t len, int is_write)
{
	struct rtc *r = opaque;
	uint8_t *b = data;

	pthread_mutex_lock(&r->lock);
	if (offset == 0) {
		if (is_write)
			r->index = b[0] & 0x7f;
		else
			memset(b, 0xff, len);
	} else if (is_write) {
		r->cmos[r->index] = b[0];
	} else {
		memset(b, 0, len);
		b[0] = rtc_read(r, r->index);
	}
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static void rtc_fini(void *opaque)
{
	struct rtc *r = opaque;

	bus_unregister(&r->m->bus, BUS_PIO, 0x70);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

int hw_rtc_attach(struct machine *m, struct cabin_err **err)
{
	struct rtc *r = calloc(1, sizeof(*r));
	struct machine_dev d = { .name = "rtc", .opaque = r, .fini = rtc_fini };
	int ret;

	if (!r)
		return cabin_err_make(err, ENOMEM, "allocate the RTC");
	r->m = m;
	pthread_mutex_init(&r->lock, NULL);
	ret = bus_register_pio(&m->bus, 0x70, 2, rtc_io, r, "rtc");
	if (ret < 0) {
		pthread_mutex_destroy(&r->lock);
		free(r);
		return cabin_err_make(err, -ret, "claim ports `0x70`-`0x71` for the RTC");
	}
	ret = machine_dev_add(m, &d);
	if (ret < 0) {
		rtc_fini(r);
		return cabin_err_make(err, -ret, "record the RTC");
	}
	return 0;
}
