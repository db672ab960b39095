/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "lib/error.h"
#include "net/ipam.h"
#include "net/net.h"
#include "unit/tap.h"

static int port_ok(const char *spec, const char *ip, unsigned hp, unsigned cp, int udp)
{
	struct cabin_err *err = NULL;
	struct net_port p;
	int ret = net_port_parse(spec, &p, &err);

	cabin_err_release(&err);
	return ret == 0 && !strcmp(p.host_ip, ip) && p.host_port == hp && p.ctr_port == cp &&
	       p.udp == udp;
}

static int port_bad(const char *spec, const char *needle)
{
	struct cabin_err *err = NULL;
	struct net_port p;
	int ret = net_port_parse(spec, &p, &err), found;

	found = err && strstr(cabin_err_msg(err), needle) && strstr(cabin_err_msg(err), spec);
	cabin_err_release(&err);
	return ret < 0 && found;
}

static void test_ports(void)
{
	tap_ok(port_ok("18080:80", "", 18080, 80, 0), "HOST:CTR");
	tap_ok(port_ok("127.0.0.1:8080:80/udp", "127.0.0.1", 8080, 80, 1), "IP:HOST:CTR/udp");
	tap_ok(port_ok("0.0.0.0:53:5353/tcp", "", 53, 5353, 0), "0.0.0.0 means every address");
	tap_ok(port_bad("80", "expected"), "a port without a host port is refused");
	tap_ok(port_bad("0:80", "host port"), "port 0 is refused");
	tap_ok(port_bad("8080:65536", "container port"), "port 65536 is refused");
	tap_ok(port_bad("1.2.3:8080:80", "invalid IPv4"), "a bad host IP is refused");
	tap_ok(port_bad("8080:80/sctp", "tcp or udp"), "an unknown protocol is refused");
	tap_ok(port_bad("a:80", "host port"), "a non-number is refused");
}

static void test_ipam(void)
{
	struct cabin_err *err = NULL;
	struct net_prefix p, taken[3];
	uint32_t a, used[2];
	char buf[16];

	tap_ok(net_ipam_parse_cidr("10.1.2.0/24", &p, &err) == 0 && p.addr == 0x0a010200 &&
		       p.len == 24,
	       "CIDR parses");
	tap_ok(net_ipam_parse_cidr("10.1.2.1/24", &p, &err) < 0 &&
		       strstr(cabin_err_msg(err), "host bits"),
	       "host bits are refused");
	cabin_err_release(&err);
	tap_ok(net_ipam_parse_cidr("10.1.2.0/31", &p, &err) < 0, "a /31 is too small");
	cabin_err_release(&err);
	tap_ok(net_ipam_overlap((struct net_prefix){ 0x0a000000, 8 },
				(struct net_prefix){ 0x0a010200, 24 }) &&
		       !net_ipam_overlap((struct net_prefix){ 0xac110000, 16 },
					 (struct net_prefix){ 0xac120000, 16 }),
	       "overlap");
	/* the host routes 172.17/16 and an address in 172.18.5.0/24: the pick skips both */
	taken[0] = (struct net_prefix){ 0xac110000, 16 };
	taken[1] = (struct net_prefix){ 0xac120500, 24 };
	tap_ok(net_ipam_pick_subnet(taken, 2, &p, &err) == 0 && p.addr == 0xac130000 && p.len == 16,
	       "the first free pool is 172.19.0.0/16");
	/* a host route covering 172.16/12 pushes the pick to 192.168 */
	taken[2] = (struct net_prefix){ 0xac100000, 12 };
	tap_ok(net_ipam_pick_subnet(taken, 3, &p, &err) == 0 && p.addr == 0xc0a80000 && p.len == 20,
	       "then 192.168.0.0/20");
	taken[0] = (struct net_prefix){ 0, 1 };
	taken[1] = (struct net_prefix){ 0x80000000, 1 };
	tap_ok(net_ipam_pick_subnet(taken, 2, &p, &err) < 0, "no pool left is an error");
	cabin_err_release(&err);

	p = (struct net_prefix){ 0x0a000000, 30 }; /* .1 gateway, .2 the only container */
	used[0] = 0x0a000002;
	tap_ok(net_ipam_pick_addr(p, 0x0a000001, NULL, 0, &a, &err) == 0 && a == 0x0a000002,
	       "the first address after the gateway");
	tap_ok(net_ipam_pick_addr(p, 0x0a000001, used, 1, &a, &err) < 0 &&
		       strstr(cabin_err_msg(err), "no free address"),
	       "a full subnet is an error (broadcast never given)");
	cabin_err_release(&err);
	net_ipam_fmt_ip(0xac110002, buf);
	tap_ok(!strcmp(buf, "172.17.0.2"), "format");
}

int main(void)
{
	tap_plan(19);
	test_ports();
	test_ipam();
	return tap_done();
}
