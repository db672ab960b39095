/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_NET_IPAM_H
#define CABIN_NET_IPAM_H

#include <stddef.h>
#include <stdint.h>

#include "net/netlink.h"

struct cabin_err;

/*
 * IP address management: subnets for networks and addresses for containers. Pure
 * functions over host-order IPv4 prefixes; the caller holds the network lock and passes
 * what is taken (the host's routes, the other networks, the other containers' leases).
 */

/** net_ipam_parse_cidr() - "A.B.C.D/N" (host bits must be zero). */
int net_ipam_parse_cidr(const char *s, struct net_prefix *out, struct cabin_err **err);

/** net_ipam_parse_ip() - "A.B.C.D" into host byte order. */
int net_ipam_parse_ip(const char *s, uint32_t *out, struct cabin_err **err);

/** net_ipam_fmt_ip() - host-order address as text into @buf (16 bytes). */
void net_ipam_fmt_ip(uint32_t a, char buf[16]);

/** net_ipam_overlap() - whether two prefixes share an address. */
int net_ipam_overlap(struct net_prefix a, struct net_prefix b);

/**
 * net_ipam_pick_subnet() - the first of cabin's pools (172.17-31.0.0/16, then
 * 192.168.N.0/20, Docker's defaults) that overlaps nothing in @taken.
 * Return: 0 with *@out set, or <0 (every pool is taken) with @err set.
 */
int net_ipam_pick_subnet(const struct net_prefix *taken, size_t n, struct net_prefix *out,
			 struct cabin_err **err);

/**
 * net_ipam_pick_addr() - the lowest address of @subnet that is not the network, the
 * broadcast, @gateway or in @used (host order).
 */
int net_ipam_pick_addr(struct net_prefix subnet, uint32_t gateway, const uint32_t *used, size_t n,
		       uint32_t *out, struct cabin_err **err);

#endif
