/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_NET_NAT_H
#define CABIN_NET_NAT_H

#include <stdint.h>

struct cabin_err;

/*
 * NAT and port publishing through nftables (libnftables: the kernel's nf_tables netlink
 * interface, as netavark and Docker's nftables backend use it).
 *
 * All of cabin lives in one table, `ip cabin`, whose rules never change once made. What
 * changes per network and per container are elements of its sets and maps, which can be
 * added and deleted by key alone, so teardown needs no rule handles and removing a
 * container removes exactly what it added:
 *   bridges   the bridge names           (forwarding, masquerade of outbound traffic)
 *   subnets   the networks' subnets
 *   pub_tcp / pub_udp       HOST_PORT          -> CTR_IP . CTR_PORT   (-p HOST:CTR)
 *   pubip_tcp / pubip_udp   HOST_IP . HOST_PORT -> CTR_IP . CTR_PORT  (-p IP:HOST:CTR)
 * DNAT runs in prerouting (other hosts, other containers: the hairpin) and in output
 * (the host itself, 127.0.0.1 included: route_localnet on the bridge lets the kernel
 * route a loopback source out of it, and masquerade gives the container a source it can
 * answer).
 */

/** net_nat_init() - create table `ip cabin` unless it exists. */
int net_nat_init(struct cabin_err **err);

/** net_nat_network() - add (@add=1) or delete the elements of one bridge network. */
int net_nat_network(int add, const char *bridge, const char *subnet, struct cabin_err **err);

/** net_nat_port() - add or delete one published port. @host_ip "" means every address. */
int net_nat_port(int add, const char *host_ip, uint16_t host_port, const char *ctr_ip,
		 uint16_t ctr_port, int udp, struct cabin_err **err);

#endif
