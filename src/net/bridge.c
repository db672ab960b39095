/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "net/bridge.h"
#include "net/ipam.h"
#include "net/nat.h"

/* /proc/sys/net is the view of the opener's network namespace. */
static int sysctl_set(const char *path, const char *val, struct cabin_err **err)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return cabin_err_make(err, errno, "open `%s`", path);
	if (fs_write_all(fd, val, strlen(val)) < 0)
		return cabin_err_make(err, errno, "write `%s`", path);
	return 0;
}

int net_bridge_ensure(const char *name, struct net_prefix subnet, uint32_t gateway,
		      struct cabin_err **err)
{
	cleanup_nl struct mnl_socket *sk = NULL;
	cleanup_free char *path = NULL;
	struct in_addr gw = { htonl(gateway) };
	char cidr[24], ip[16];
	int idx, ret;

	if (net_nl_open(&sk, err) < 0)
		return -1;
	ret = net_link_add_bridge(sk, name, err);
	if (ret < 0 && ret != -EEXIST)
		return ret;
	idx = net_link_index(name);
	if (idx < 0)
		return cabin_err_make(err, -idx, "bridge `%s`", name);
	if (net_addr_add(sk, idx, gw, subnet.len, err) < 0 || net_link_set_up(sk, idx, 0, err) < 0)
		return cabin_err_wrap(err, "bridge `%s`", name);
	if (sysctl_set("/proc/sys/net/ipv4/ip_forward", "1", err) < 0)
		return -1;
	path = xasprintf("/proc/sys/net/ipv4/conf/%s/route_localnet", name);
	if (sysctl_set(path, "1", err) < 0)
		return -1;
	net_ipam_fmt_ip(subnet.addr, ip);
	snprintf(cidr, sizeof(cidr), "%s/%u", ip, subnet.len);
	if (net_nat_init(err) < 0 || net_nat_network(1, name, cidr, err) < 0)
		return -1;
	return idx;
}

int net_bridge_remove(const char *name, struct net_prefix subnet, struct cabin_err **err)
{
	cleanup_nl struct mnl_socket *sk = NULL;
	char cidr[24], ip[16];

	net_ipam_fmt_ip(subnet.addr, ip);
	snprintf(cidr, sizeof(cidr), "%s/%u", ip, subnet.len);
	if (net_nat_network(0, name, cidr, err) < 0)
		return -1;
	if (net_nl_open(&sk, err) < 0)
		return -1;
	return net_link_del(sk, name, err);
}

int net_lo_up(int netns_fd, struct cabin_err **err)
{
	cleanup_nl struct mnl_socket *sk = NULL;
	int lo;

	if (net_nl_open_in(netns_fd, &sk, err) < 0)
		return -1;
	lo = net_link_index_in(sk, "lo", err);
	if (lo < 0)
		return -1;
	return net_link_set_up(sk, lo, 0, err);
}

int net_veth_setup(int netns_fd, const char *host_name, int bridge_idx, uint32_t ip,
		   unsigned prefix, uint32_t gateway, struct cabin_err **err)
{
	cleanup_nl struct mnl_socket *host = NULL;
	cleanup_nl struct mnl_socket *ctr = NULL;
	struct in_addr a = { htonl(ip) }, gw = { htonl(gateway) };
	int idx, eth0, lo;

	if (net_nl_open(&host, err) < 0)
		return -1;
	if (net_link_add_veth(host, host_name, "eth0", netns_fd, err) < 0)
		return -1;
	idx = net_link_index(host_name);
	if (idx < 0) {
		cabin_err_make(err, -idx, "veth `%s`", host_name);
		goto err_del;
	}
	if (net_link_set_up(host, idx, bridge_idx, err) < 0 ||
	    net_link_set_hairpin(host, idx, err) < 0)
		goto err_del;
	if (net_nl_open_in(netns_fd, &ctr, err) < 0)
		goto err_del;
	lo = net_link_index_in(ctr, "lo", err);
	if (lo < 0 || net_link_set_up(ctr, lo, 0, err) < 0)
		goto err_del;
	eth0 = net_link_index_in(ctr, "eth0", err);
	if (eth0 < 0 || net_addr_add(ctr, eth0, a, prefix, err) < 0 ||
	    net_link_set_up(ctr, eth0, 0, err) < 0 || net_route_add_default(ctr, eth0, gw, err) < 0)
		goto err_del;
	return 0;

err_del : {
	cleanup_err struct cabin_err *tmp = NULL;
	net_link_del(host, host_name, &tmp);
}
	return cabin_err_wrap(err, "container interface");
}
