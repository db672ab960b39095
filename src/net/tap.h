/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_NET_TAP_H
#define CABIN_NET_TAP_H

struct cabin_err;

/* Every frame read from or written to a tap opened here starts with this many bytes of
 * struct virtio_net_hdr_v1 (flags, gso_type, hdr_len, gso_size, csum_start, csum_offset,
 * num_buffers). */
#define NET_TAP_VNET_HDR_LEN 12

/**
 * net_tap_open() - open (creating if needed) tap device @name for a virtio-net backend
 *
 * IFF_TAP | IFF_NO_PI | IFF_VNET_HDR with a 12-byte vnet header and no offloads, so
 * the kernel never hands us GSO frames the guest did not ask for. The fd is
 * non-blocking and close-on-exec, and the link is set up. Creating a tap needs
 * CAP_NET_ADMIN; opening one created for the caller's user does not.
 *
 * Return: the fd, or <0 with @err set (naming the tap).
 */
int net_tap_open(const char *name, struct cabin_err **err);

#endif
