/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/xalloc.h"
#include "net/nat.h"

static const char table_def[] =
	"table ip cabin {\n"
	"  set bridges { type ifname; }\n"
	"  set subnets { type ipv4_addr; flags interval; }\n"
	"  map pub_tcp { type inet_service : ipv4_addr . inet_service; }\n"
	"  map pub_udp { type inet_service : ipv4_addr . inet_service; }\n"
	"  map pubip_tcp { type ipv4_addr . inet_service : ipv4_addr . inet_service; }\n"
	"  map pubip_udp { type ipv4_addr . inet_service : ipv4_addr . inet_service; }\n"
	"  chain publish {\n"
	"    dnat ip to ip daddr . tcp dport map @pubip_tcp\n"
	"    dnat ip to ip daddr . udp dport map @pubip_udp\n"
	"    dnat ip to tcp dport map @pub_tcp\n"
	"    dnat ip to udp dport map @pub_udp\n"
	"  }\n"
	"  chain prerouting {\n"
	"    type nat hook prerouting priority dstnat; policy accept;\n"
	"    fib daddr type local jump publish\n"
	"  }\n"
	"  chain output {\n"
	"    type nat hook output priority -100; policy accept;\n"
	"    fib daddr type local jump publish\n"
	"  }\n"
	"  chain postrouting {\n"
	"    type nat hook postrouting priority srcnat; policy accept;\n"
	/* outbound traffic of the containers */
	"    ip saddr @subnets oifname != @bridges masquerade\n"
	/* the host's own 127.0.0.1 -> published port: the container cannot answer 127.0.0.1 */
	"    oifname @bridges ip saddr 127.0.0.0/8 masquerade\n"
	/* hairpin: a container reaching a published port lands on the same bridge */
	"    oifname @bridges ct status dnat ip saddr @subnets masquerade\n"
	"  }\n"
	"  chain forward {\n"
	"    type filter hook forward priority filter; policy accept;\n"
	"    ct state established,related accept\n"
	"    iifname @bridges accept\n"
	"    oifname @bridges ct status dnat accept\n"
	"  }\n"
	"}\n";

/* Run @cmd; on failure the error names what was asked and nft's own message. */
static int nft_run(const char *cmd, int quiet_enoent, struct cabin_err **err)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	const char *msg;
	int ret;

	if (!nft)
		return cabin_err_make(err, ENOMEM, "nftables context");
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	ret = nft_run_cmd_from_buffer(nft, cmd);
	if (ret != 0) {
		cleanup_free char *m = NULL;
		msg = nft_ctx_get_error_buffer(nft);
		m = xstrdup(msg ? msg : "");
		/* nft prints the command and a caret line: keep the first line only */
		char *nl = strchr(m, '\n');
		if (nl)
			*nl = '\0';
		nft_ctx_free(nft);
		if (quiet_enoent)
			return -ENOENT;
		return cabin_err_make(err, 0, "nftables: %s", *m ? m : "command failed");
	}
	nft_ctx_free(nft);
	return 0;
}

int net_nat_init(struct cabin_err **err)
{
	if (nft_run("list table ip cabin", 1, err) == 0)
		return 0;
	if (nft_run(table_def, 0, err) < 0)
		return cabin_err_wrap(err, "create nftables table `ip cabin`");
	return 0;
}

int net_nat_network(int add, const char *bridge, const char *subnet, struct cabin_err **err)
{
	cleanup_free char *cmd = NULL;
	int ret;

	if (add)
		cmd = xasprintf("add element ip cabin bridges { \"%s\" }\n"
				"add element ip cabin subnets { %s }\n",
				bridge, subnet);
	else
		cmd = xasprintf("delete element ip cabin bridges { \"%s\" }\n"
				"delete element ip cabin subnets { %s }\n",
				bridge, subnet);
	ret = nft_run(cmd, !add, err);
	if (ret == -ENOENT)
		return 0; /* already gone */
	if (ret < 0)
		return cabin_err_wrap(err, "%s network `%s` in nftables", add ? "add" : "delete",
				      bridge);
	return 0;
}

int net_nat_port(int add, const char *host_ip, uint16_t host_port, const char *ctr_ip,
		 uint16_t ctr_port, int udp, struct cabin_err **err)
{
	const char *proto = udp ? "udp" : "tcp";
	cleanup_free char *cmd = NULL;
	int ret;

	if (add && *host_ip)
		cmd = xasprintf("add element ip cabin pubip_%s { %s . %u : %s . %u }", proto,
				host_ip, host_port, ctr_ip, ctr_port);
	else if (add)
		cmd = xasprintf("add element ip cabin pub_%s { %u : %s . %u }", proto, host_port,
				ctr_ip, ctr_port);
	else if (*host_ip)
		cmd = xasprintf("delete element ip cabin pubip_%s { %s . %u }", proto, host_ip,
				host_port);
	else
		cmd = xasprintf("delete element ip cabin pub_%s { %u }", proto, host_port);
	ret = nft_run(cmd, !add, err);
	if (ret == -ENOENT)
		return 0;
	if (ret < 0)
		return cabin_err_wrap(err, "%s port %s%s%u/%s", add ? "publish" : "unpublish",
				      host_ip, *host_ip ? ":" : "", host_port, proto);
	return 0;
}
