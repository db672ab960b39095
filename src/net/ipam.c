/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "net/ipam.h"

static uint32_t mask_of(unsigned len)
{
	return len ? 0xffffffffu << (32 - len) : 0;
}

int net_ipam_parse_ip(const char *s, uint32_t *out, struct cabin_err **err)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return cabin_err_make(err, EINVAL, "invalid IPv4 address `%s`", s);
	*out = ntohl(a.s_addr);
	return 0;
}

void net_ipam_fmt_ip(uint32_t a, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

int net_ipam_parse_cidr(const char *s, struct net_prefix *out, struct cabin_err **err)
{
	char ip[16];
	const char *slash = strchr(s, '/');
	char *end;
	unsigned long len;
	uint32_t a = 0;

	if (!slash || (size_t)(slash - s) >= sizeof(ip))
		return cabin_err_make(err, EINVAL, "invalid subnet `%s`: expected A.B.C.D/N", s);
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (!slash[1] || *end || errno || len > 32)
		return cabin_err_make(err, EINVAL, "invalid subnet `%s`: bad prefix length", s);
	if (net_ipam_parse_ip(ip, &a, err) < 0)
		return cabin_err_wrap(err, "subnet `%s`", s);
	if (a & ~mask_of((unsigned)len))
		return cabin_err_make(err, EINVAL, "invalid subnet `%s`: host bits are set", s);
	/* a network needs a gateway and at least one container */
	if (len > 30)
		return cabin_err_make(err, EINVAL, "subnet `%s` is too small (at most /30)", s);
	out->addr = a;
	out->len = (unsigned)len;
	return 0;
}

int net_ipam_overlap(struct net_prefix a, struct net_prefix b)
{
	unsigned len = a.len < b.len ? a.len : b.len;

	return ((a.addr ^ b.addr) & mask_of(len)) == 0;
}

static int free_of(struct net_prefix p, const struct net_prefix *taken, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (net_ipam_overlap(p, taken[i]))
			return 0;
	return 1;
}

int net_ipam_pick_subnet(const struct net_prefix *taken, size_t n, struct net_prefix *out,
			 struct cabin_err **err)
{
	struct net_prefix p;

	for (uint32_t b = 17; b <= 31; b++) {
		p.addr = (172u << 24) | (b << 16);
		p.len = 16;
		if (free_of(p, taken, n)) {
			*out = p;
			return 0;
		}
	}
	for (uint32_t c = 0; c < 256; c += 16) {
		p.addr = (192u << 24) | (168u << 16) | (c << 8);
		p.len = 20;
		if (free_of(p, taken, n)) {
			*out = p;
			return 0;
		}
	}
	return cabin_err_make(err, ENOSPC,
			      "no free subnet: 172.17-31.0.0/16 and 192.168.0.0/16 are all in use "
			      "(give one with --subnet)");
}

int net_ipam_pick_addr(struct net_prefix subnet, uint32_t gateway, const uint32_t *used, size_t n,
		       uint32_t *out, struct cabin_err **err)
{
	uint32_t first = subnet.addr + 1, last = (subnet.addr | ~mask_of(subnet.len)) - 1;

	for (uint32_t a = first; a <= last && a >= first; a++) {
		size_t i;
		if (a == gateway)
			continue;
		for (i = 0; i < n; i++)
			if (used[i] == a)
				break;
		if (i == n) {
			*out = a;
			return 0;
		}
	}
	{
		char ip[16];
		net_ipam_fmt_ip(subnet.addr, ip);
		return cabin_err_make(err, ENOSPC, "no free address left in subnet `%s/%u`", ip,
				      subnet.len);
	}
}
