/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/xalloc.h"
#include "net/netlink.h"

/* Requests are small; answers (dumps) come in pages of up to 32 KiB. */
#define NL_REQ 4096
#define NL_RECV 32768

int net_nl_open(struct mnl_socket **out, struct cabin_err **err)
{
	struct mnl_socket *sk = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);

	if (!sk)
		return cabin_err_make(err, errno, "open rtnetlink socket");
	if (mnl_socket_bind(sk, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;
		mnl_socket_close(sk);
		return cabin_err_make(err, e, "bind rtnetlink socket");
	}
	*out = sk;
	return 0;
}

int net_nl_open_in(int netns_fd, struct mnl_socket **out, struct cabin_err **err)
{
	cleanup_close int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int ret;

	if (self < 0)
		return cabin_err_make(err, errno, "open `/proc/thread-self/ns/net`");
	if (setns(netns_fd, CLONE_NEWNET) < 0)
		return cabin_err_make(err, errno, "enter the container's network namespace");
	ret = net_nl_open(out, err);
	/* Returning cannot fail for a namespace we were in a moment ago, unless the kernel is
	 * out of memory; staying in the container's namespace would be worse than stopping. */
	if (setns(self, CLONE_NEWNET) < 0)
		abort();
	return ret;
}

void net_nl_close(struct mnl_socket *sk)
{
	if (sk)
		mnl_socket_close(sk);
}

void net_nl_close_ptr(struct mnl_socket **sk)
{
	int saved = errno;
	net_nl_close(*sk);
	*sk = NULL;
	errno = saved;
}

/* Send @nlh and read answers until the ACK (or the end of a dump). Return: 0 or -errno. */
static int nl_talk(struct mnl_socket *sk, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	cleanup_free char *buf = xmalloc(NL_RECV);
	unsigned portid = mnl_socket_get_portid(sk);
	static unsigned seq;
	ssize_t n;
	int ret;

	if (!seq)
		seq = (unsigned)time(NULL);
	nlh->nlmsg_seq = ++seq;
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(sk, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(sk, buf, NL_RECV);
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
		if (ret < 0)
			return -errno;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

static struct nlmsghdr *msg_start(char *buf, int type, unsigned flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = (uint16_t)type;
	nlh->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	return nlh;
}

int net_link_index(const char *name)
{
	unsigned idx = if_nametoindex(name);

	return idx ? (int)idx : -ENODEV;
}

static int link_index_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

	*(int *)data = ifm->ifi_index;
	return MNL_CB_OK;
}

int net_link_index_in(struct mnl_socket *sk, const char *name, struct cabin_err **err)
{
	char buf[NL_REQ];
	struct nlmsghdr *nlh = msg_start(buf, RTM_GETLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	int idx = 0, ret;

	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	ret = nl_talk(sk, nlh, link_index_cb, &idx);
	if (ret < 0)
		return cabin_err_make(err, -ret, "find link `%s`", name);
	if (idx <= 0)
		return cabin_err_make(err, ENODEV, "find link `%s`", name);
	return idx;
}

int net_link_add_bridge(struct mnl_socket *sk, const char *name, struct cabin_err **err)
{
	char buf[NL_REQ];
	struct nlmsghdr *nlh = msg_start(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	struct nlattr *info;
	int ret;

	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(nlh, info);
	ret = nl_talk(sk, nlh, NULL, NULL);
	if (ret == -EEXIST)
		return -EEXIST;
	if (ret < 0)
		return cabin_err_make(err, -ret, "create bridge `%s`", name);
	return 0;
}

int net_link_add_veth(struct mnl_socket *sk, const char *name, const char *peer, int peer_netns_fd,
		      struct cabin_err **err)
{
	char buf[NL_REQ];
	struct nlmsghdr *nlh = msg_start(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	struct ifinfomsg *pifm;
	struct nlattr *info, *data, *pn;
	int ret;

	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	pn = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* The peer's attributes follow its own struct ifinfomsg inside the nest. */
	pifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifm));
	memset(pifm, 0, sizeof(*pifm));
	pifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
	mnl_attr_nest_end(nlh, pn);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	ret = nl_talk(sk, nlh, NULL, NULL);
	if (ret < 0)
		return cabin_err_make(err, -ret, "create veth pair `%s`/`%s`", name, peer);
	return 0;
}

int net_link_set_up(struct mnl_socket *sk, int ifindex, int master, struct cabin_err **err)
{
	char buf[NL_REQ];
	struct nlmsghdr *nlh = msg_start(buf, RTM_NEWLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	int ret;

	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	if (master > 0)
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
	ret = nl_talk(sk, nlh, NULL, NULL);
	if (ret < 0)
		return cabin_err_make(err, -ret, "set link %d up", ifindex);
	return 0;
}

int net_link_set_hairpin(struct mnl_socket *sk, int ifindex, struct cabin_err **err)
{
	char buf[NL_REQ];
	struct nlmsghdr *nlh = msg_start(buf, RTM_SETLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	struct nlattr *pi;
	int ret;

	/* bridge port attributes go to the bridge through the AF_BRIDGE family */
	ifm->ifi_family = AF_BRIDGE;
	ifm->ifi_index = ifindex;
	pi = mnl_attr_nest_start(nlh, IFLA_PROTINFO);
	mnl_attr_put_u8(nlh, IFLA_BRPORT_MODE, 1);
	mnl_attr_nest_end(nlh, pi);
	ret = nl_talk(sk, nlh, NULL, NULL);
	if (ret < 0)
		return cabin_err_make(err, -ret, "set hairpin mode on link %d", ifindex);
	return 0;
}

int net_link_del(struct mnl_socket *sk, const char *name, struct cabin_err **err)
{
	char buf[NL_REQ];
	struct nlmsghdr *nlh = msg_start(buf, RTM_DELLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	int ret;

	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	ret = nl_talk(sk, nlh, NULL, NULL);
	if (ret == -ENODEV)
		return 0;
	if (ret < 0)
		return cabin_err_make(err, -ret, "delete link `%s`", name);
	return 0;
}

int net_addr_add(struct mnl_socket *sk, int ifindex, struct in_addr addr, unsigned prefix,
		 struct cabin_err **err)
{
	char buf[NL_REQ];
	struct nlmsghdr *nlh = msg_start(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	int ret;

	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(addr), &addr);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(addr), &addr);
	if (prefix < 31) {
		struct in_addr bc = addr;
		bc.s_addr |= htonl(prefix ? (0xffffffffu >> prefix) : 0xffffffffu);
		mnl_attr_put(nlh, IFA_BROADCAST, sizeof(bc), &bc);
	}
	ret = nl_talk(sk, nlh, NULL, NULL);
	if (ret < 0 && ret != -EEXIST)
		return cabin_err_make(err, -ret, "add address to link %d", ifindex);
	return 0;
}

int net_route_add_default(struct mnl_socket *sk, int ifindex, struct in_addr gw,
			  struct cabin_err **err)
{
	char buf[NL_REQ];
	struct nlmsghdr *nlh = msg_start(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	int ret;

	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 0;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_GATEWAY, sizeof(gw), &gw);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	ret = nl_talk(sk, nlh, NULL, NULL);
	if (ret < 0)
		return cabin_err_make(err, -ret, "add default route");
	return 0;
}

struct dump_ctx {
	struct net_prefix *v;
	size_t n, cap;
};

static void dump_push(struct dump_ctx *c, uint32_t addr, unsigned len)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
	}
	c->v[c->n].addr = len ? addr & (0xffffffffu << (32 - len)) : 0;
	c->v[c->n].len = len;
	c->n++;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	uint32_t table = rtm->rtm_table;

	if (rtm->rtm_family != AF_INET || rtm->rtm_dst_len == 0 || rtm->rtm_dst_len > 32)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*rtm))
	{
		if (mnl_attr_get_type(a) == RTA_TABLE && mnl_attr_get_payload_len(a) >= 4)
			table = mnl_attr_get_u32(a);
	}
	if (table == RT_TABLE_LOCAL)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*rtm))
	{
		if (mnl_attr_get_type(a) == RTA_DST && mnl_attr_get_payload_len(a) == 4) {
			uint32_t dst;
			memcpy(&dst, mnl_attr_get_payload(a), 4);
			dump_push(data, ntohl(dst), rtm->rtm_dst_len);
		}
	}
	return MNL_CB_OK;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	if (ifa->ifa_family != AF_INET || ifa->ifa_prefixlen > 32)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*ifa))
	{
		if (mnl_attr_get_type(a) == IFA_LOCAL && mnl_attr_get_payload_len(a) == 4) {
			uint32_t v;
			memcpy(&v, mnl_attr_get_payload(a), 4);
			/* 127/8 is loopback only: it never collides with a private subnet. */
			if ((ntohl(v) >> 24) != 127)
				dump_push(data, ntohl(v), ifa->ifa_prefixlen);
		}
	}
	return MNL_CB_OK;
}

int net_route_dump(struct mnl_socket *sk, struct net_prefix **out, size_t *n,
		   struct cabin_err **err)
{
	char buf[NL_REQ];
	struct dump_ctx c = { 0 };
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	struct ifaddrmsg *ifa;
	int ret;

	nlh = msg_start(buf, RTM_GETROUTE, NLM_F_DUMP);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	ret = nl_talk(sk, nlh, route_cb, &c);
	if (ret < 0) {
		free(c.v);
		return cabin_err_make(err, -ret, "dump the host's routes");
	}
	nlh = msg_start(buf, RTM_GETADDR, NLM_F_DUMP);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ret = nl_talk(sk, nlh, addr_cb, &c);
	if (ret < 0) {
		free(c.v);
		return cabin_err_make(err, -ret, "dump the host's addresses");
	}
	*out = c.v;
	*n = c.n;
	return 0;
}
