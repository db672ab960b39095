/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_NET_NET_H
#define CABIN_NET_NET_H

#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

struct cabin_err;

/*
 * Container networks, Docker's model: a default bridge network `bridge` (device cabin0)
 * and user-defined bridge networks, one veth per container, NAT for outbound traffic and
 * -p port publishing through nftables, and /etc/hosts, /etc/resolv.conf and /etc/hostname
 * files for the container. On a user-defined network the containers find each other by
 * name: every member's hosts file lists the others, and is rewritten in place (the
 * container bind-mounts it, so its inode must stay) when one joins or leaves.
 *
 * State lives under DATA_ROOT/network/ and every change holds an exclusive flock on
 * DATA_ROOT/network/lock:
 *   networks/NAME.json   one per network (the default `bridge` is made on first use)
 *   endpoints/ID.json    one per attached container: the IP lease, its veth and ports,
 *                        written before any of them is made, so a crash leaves a record
 *                        that net_detach() can undo
 *   files/ID/            hosts, resolv.conf, hostname
 * Everything but the files runs in the caller's network namespace (the "host").
 */

#define NET_DEFAULT_NETWORK "bridge"
#define NET_DEFAULT_BRIDGE "cabin0"

/** One -p [IP:]HOST:CTR[/udp|/tcp]. */
struct net_port {
	char host_ip[16]; /* "" = every address of the host */
	uint16_t host_port, ctr_port;
	int udp;
};

struct net_cfg {
	const char *data_root; /* DATA_ROOT (e.g. /var/lib/cabin) */
	const char *network;   /* "bridge", "none", "host" or a user network; NULL = bridge */
	const char *id;	       /* container ID: the key of the endpoint */
	const char *name;      /* container name for peers' /etc/hosts, or NULL */
	const char *hostname;  /* or NULL: the first 12 characters of @id */
	const struct net_port *ports;
	size_t n_ports;
	const char *resolv_src; /* the host's resolv.conf, NULL = /etc/resolv.conf */
	/* arrays of strings, or NULL: --add-host HOST:IP (IP may be host-gateway), and
	 * --dns, --dns-search, --dns-option, each replacing the host's lines of its kind */
	json_t *extra_hosts, *dns, *dns_search, *dns_options;
};

struct net_lease {
	char ip[16], gateway[16]; /* "" for host and none */
	unsigned prefix;
	char veth[16]; /* host side of the pair, "" for host and none */
	char hosts_path[PATH_MAX];
	char resolv_path[PATH_MAX];
	char hostname_path[PATH_MAX];
};

/**
 * net_port_parse() - parse one -p value: HOST:CTR, IP:HOST:CTR, each with an optional
 * /tcp or /udp. Ports are 1-65535.
 */
int net_port_parse(const char *spec, struct net_port *out, struct cabin_err **err);

/**
 * net_files_paths() - where net_attach() writes the container's hosts, resolv.conf and
 * hostname files, so the OCI config can bind-mount them before the network exists.
 */
void net_files_paths(const char *data_root, const char *id, struct net_lease *out);

/**
 * net_files_prepare() - create the three files empty (and their directory), so that
 * config.json can bind-mount them at create time; net_attach() fills them later through
 * the same inodes. @out gets the paths. net_detach() removes them.
 */
int net_files_prepare(const char *data_root, const char *id, struct net_lease *out,
		      struct cabin_err **err);

/**
 * net_attach() - connect a container's network namespace
 * @netns_path: the namespace (/proc/PID/ns/net or a bind-mounted file); ignored for
 *              network `host`
 *
 * Bridge networks: leases an address, creates the bridge if needed, a veth pair with
 * eth0 inside, the default route, and DNAT for @cfg->ports. `none`: lo up only. Writes
 * the three files. A port already published or bound by another process, an unknown
 * network or an ID already attached is an error, and then nothing is left behind.
 */
int net_attach(const struct net_cfg *cfg, const char *netns_path, struct net_lease *out,
	       struct cabin_err **err);

/**
 * net_detach() - undo net_attach() for container @id: ports, veth, lease, files.
 * Idempotent: an ID never attached, or a namespace already gone, is fine.
 */
int net_detach(const char *data_root, const char *id, struct cabin_err **err);

/**
 * net_network_create() - a user-defined bridge network
 * @subnet: "A.B.C.D/N" or NULL to pick a free one; @gateway: or NULL for the first address
 * Return: 0, with the new network's ID in @id_out (65 bytes) when non-NULL.
 */
int net_network_create(const char *data_root, const char *name, const char *subnet,
		       const char *gateway, char *id_out, struct cabin_err **err);

/** net_network_rm() - remove a network with no container attached (bridge device too). */
int net_network_rm(const char *data_root, const char *name, struct cabin_err **err);

/**
 * net_network_list() - every network as a JSON array of objects (Name, Id, Driver, Subnet,
 * Gateway, Bridge, Containers {ID: {IPv4Address, Name, Ports}}), host and none included.
 * @name: only this one (for inspect; an unknown name is an error), or NULL.
 */
int net_network_list(const char *data_root, const char *name, json_t **out, struct cabin_err **err);

#endif
