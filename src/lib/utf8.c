/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include <string.h>

#include "lib/utf8.h"
#include "lib/xalloc.h"

/* the length of the valid sequence at @p (of @n bytes), or 0 */
static size_t seq_len(const uint8_t *p, size_t n)
{
	uint8_t c = p[0], lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0; /* a continuation byte, C0/C1 (overlong) or F5..FF */
	/* the second byte's range excludes overlongs, surrogates and > U+10FFFF */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

char *utf8_sanitize(const char *s, size_t n, size_t *len)
{
	const uint8_t *p = (const uint8_t *)s;
	char *out = xmalloc(n * 3 + 1), *o = out;

	while (n) {
		size_t l = seq_len(p, n);

		if (l) {
			memcpy(o, p, l);
			o += l;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			l = 1;
		}
		p += l;
		n -= l;
	}
	*o = '\0';
	*len = (size_t)(o - out);
	return out;
}
