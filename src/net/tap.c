/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "net/tap.h"

/* Bring @name up with SIOCSIFFLAGS: no need for netlink for one flag. */
static int link_up(const char *name, struct cabin_err **err)
{
	cleanup_close int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;

	if (sk < 0)
		return cabin_err_make(err, errno, "socket for tap `%s`", name);
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name) + 1);
	if (ioctl(sk, SIOCGIFFLAGS, &ifr) < 0)
		return cabin_err_make(err, errno, "flags of tap `%s`", name);
	if (ifr.ifr_flags & IFF_UP)
		return 0;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sk, SIOCSIFFLAGS, &ifr) < 0)
		return cabin_err_make(err, errno, "set tap `%s` up", name);
	return 0;
}

int net_tap_open(const char *name, struct cabin_err **err)
{
	cleanup_close int fd = -1;
	struct ifreq ifr;
	int hdr_len = NET_TAP_VNET_HDR_LEN;
	size_t len = name ? strlen(name) : 0;
	int ret;

	if (len == 0 || len >= IFNAMSIZ || strchr(name, '/') || strchr(name, ' '))
		return cabin_err_make(err, EINVAL, "invalid tap name `%s` (1-%d characters)",
				      name ? name : "", IFNAMSIZ - 1);
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return cabin_err_make(err, errno, "open `/dev/net/tun` for tap `%s`", name);
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, len + 1);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return cabin_err_make(err, errno, "create tap `%s`", name);
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0)
		return cabin_err_make(err, errno, "vnet header size of tap `%s`", name);
	if (ioctl(fd, TUNSETOFFLOAD, 0) < 0)
		return cabin_err_make(err, errno, "offloads of tap `%s`", name);
	ret = link_up(name, err);
	if (ret < 0)
		return ret;
	return steal_fd(&fd);
}
