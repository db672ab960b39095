/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_NET_NETLINK_H
#define CABIN_NET_NETLINK_H

#include <netinet/in.h>
#include <stdint.h>

struct cabin_err;
struct mnl_socket;

/*
 * rtnetlink through libmnl: the few link, address and route requests the container
 * network needs. Every request is acknowledged (NLM_F_ACK) so failures come back as
 * errno values. A socket acts in the network namespace it was opened in.
 */

/** net_nl_open() - a NETLINK_ROUTE socket in the caller's network namespace. */
int net_nl_open(struct mnl_socket **out, struct cabin_err **err);

/**
 * net_nl_open_in() - a NETLINK_ROUTE socket in the network namespace of @netns_fd
 *
 * The calling thread enters the namespace only for socket(2) and returns to its own.
 */
int net_nl_open_in(int netns_fd, struct mnl_socket **out, struct cabin_err **err);

/** net_nl_close() - close a socket from net_nl_open(); accepts NULL. */
void net_nl_close(struct mnl_socket *sk);

#define cleanup_nl __attribute__((cleanup(net_nl_close_ptr)))
void net_nl_close_ptr(struct mnl_socket **sk);

/** net_link_index() - ifindex of @name, or -ENODEV when there is none. */
int net_link_index(const char *name);

/** net_link_index_in() - ifindex of @name through @sk (works in another namespace). */
int net_link_index_in(struct mnl_socket *sk, const char *name, struct cabin_err **err);

/** net_link_add_bridge() - create bridge @name. Return: 0, -EEXIST when it exists. */
int net_link_add_bridge(struct mnl_socket *sk, const char *name, struct cabin_err **err);

/**
 * net_link_add_veth() - create veth pair @name <-> @peer, the peer moved at once into the
 * namespace of @peer_netns_fd (so its name cannot clash with one of the host's).
 */
int net_link_add_veth(struct mnl_socket *sk, const char *name, const char *peer, int peer_netns_fd,
		      struct cabin_err **err);

/** net_link_set() - set link @ifindex up, and attach it to bridge @master when >0. */
int net_link_set_up(struct mnl_socket *sk, int ifindex, int master, struct cabin_err **err);

/**
 * net_link_set_hairpin() - let bridge port @ifindex send frames back where they came
 * from, so a container reaches its own published port through the host's address.
 */
int net_link_set_hairpin(struct mnl_socket *sk, int ifindex, struct cabin_err **err);

/** net_link_del() - delete link @name; a link that does not exist is not an error. */
int net_link_del(struct mnl_socket *sk, const char *name, struct cabin_err **err);

/** net_addr_add() - add @addr/@prefix to @ifindex; an address already there is fine. */
int net_addr_add(struct mnl_socket *sk, int ifindex, struct in_addr addr, unsigned prefix,
		 struct cabin_err **err);

/** net_route_add_default() - default route via @gw on @ifindex. */
int net_route_add_default(struct mnl_socket *sk, int ifindex, struct in_addr gw,
			  struct cabin_err **err);

struct net_prefix {
	uint32_t addr; /* host byte order */
	unsigned len;
};

/**
 * net_route_dump() - the IPv4 destinations the host routes (every table but local,
 * default routes left out) and the subnets of its addresses, so a new network can be
 * given a subnet that collides with none.
 * @out: array (caller frees), @n: its length
 */
int net_route_dump(struct mnl_socket *sk, struct net_prefix **out, size_t *n,
		   struct cabin_err **err);

#endif
