/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_NET_BRIDGE_H
#define CABIN_NET_BRIDGE_H

#include <stdint.h>

#include "net/netlink.h"

struct cabin_err;

/**
 * net_bridge_ensure() - bridge @name exists, is up and has @gateway/@subnet.len, the
 * namespace forwards IPv4, and the bridge routes 127.0.0.1-sourced traffic
 * (route_localnet, so the host's own 127.0.0.1:PORT reaches a published port), and the
 * nftables elements of the network are in place. Idempotent.
 * Return: ifindex of the bridge, or <0 with @err set.
 */
int net_bridge_ensure(const char *name, struct net_prefix subnet, uint32_t gateway,
		      struct cabin_err **err);

/** net_bridge_remove() - delete bridge @name and its nftables elements; idempotent. */
int net_bridge_remove(const char *name, struct net_prefix subnet, struct cabin_err **err);

/**
 * net_veth_setup() - the container side of a bridge endpoint
 *
 * Creates veth @host_name on the host (attached to @bridge_idx, up) and `eth0` in the
 * namespace of @netns_fd, with @ip/@subnet.len, lo and eth0 up and a default route via
 * @gateway. On failure the veth is deleted again.
 */
int net_veth_setup(int netns_fd, const char *host_name, int bridge_idx, uint32_t ip,
		   unsigned prefix, uint32_t gateway, struct cabin_err **err);

/** net_lo_up() - set lo up in the namespace of @netns_fd (for --network none). */
int net_lo_up(int netns_fd, struct cabin_err **err);

#endif
