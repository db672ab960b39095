/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_VIRTIO_VIRTIO_H
#define CABIN_VIRTIO_VIRTIO_H

/*
 * Attaching virtio devices to a machine (what `cabin vm run` calls).
 *
 * Each function takes the next virtio-mmio slot of @m (machine_mmio_slot()),
 * claims its 4 KiB on m->bus and records the device with machine_dev_add(): the
 * device's cmdline fragment is "virtio_mmio.device=4K@0x<base>:<gsi>" and its
 * fini runs in machine_devs_fini(). Call them after the accelerator's vm_init()
 * (so ioeventfd/irqfd can be wired) and before the vCPUs start.
 *
 * Bad input (a missing disk image, a tap that cannot be created, a CID below 3)
 * fails with an error naming it, and leaves nothing attached. Data-plane threads
 * start when the guest driver sets DRIVER_OK and stop in fini.
 */

#include <stdint.h>

struct cabin_err;
struct machine;

/* virtio device IDs (virtio 1.1, 5). */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4
#define VIRTIO_ID_VSOCK 19

/**
 * virtio_blk_attach() - a virtio-blk disk backed by a raw image
 * @path: regular file or block device; its size is rounded down to 512-byte sectors
 * @readonly: offer VIRTIO_BLK_F_RO and fail writes with VIRTIO_BLK_S_IOERR
 *
 * The image is locked (flock: shared when read-only, exclusive otherwise) so two
 * VMs cannot write one disk. Return: 0 or <0 with @err set.
 */
int virtio_blk_attach(struct machine *m, const char *path, int readonly, struct cabin_err **err);

/** virtio_rng_attach() - a virtio-rng entropy source fed by getrandom(). */
int virtio_rng_attach(struct machine *m, struct cabin_err **err);

/**
 * virtio_console_attach() - a virtio-console with one port
 * @in_fd: what the guest reads (e.g. 0), or -1 for nothing; the fd is not closed
 * @out_fd: where guest output goes (e.g. 1); the fd is not closed. Writes to a pipe
 *          whose reader is gone raise SIGPIPE: the VMM should ignore that signal.
 */
int virtio_console_attach(struct machine *m, int in_fd, int out_fd, struct cabin_err **err);

/**
 * virtio_net_attach() - a virtio-net card on host tap device @tap_name
 * @tap_name: created if missing (needs CAP_NET_ADMIN), IFF_TAP|IFF_NO_PI|IFF_VNET_HDR
 * @mac: the guest's MAC address, or NULL for a random locally administered one
 */
int virtio_net_attach(struct machine *m, const char *tap_name, const uint8_t mac[6],
		      struct cabin_err **err);

/**
 * virtio_net_attach_fd() - a virtio-net card on an already open packet fd
 * @fd: one frame per read()/write(), each prefixed with a 12-byte virtio_net_hdr_v1
 *      (a tap with IFF_VNET_HDR and TUNSETVNETHDRSZ 12, or a SOCK_SEQPACKET socket);
 *      the device owns it from now on, also on failure
 */
int virtio_net_attach_fd(struct machine *m, int fd, const uint8_t mac[6], struct cabin_err **err);

/**
 * virtio_vsock_attach() - a virtio-vsock device with its host side on unix sockets
 * @guest_cid: the guest's context ID (>= 3)
 * @uds_path: the VMM listens here; a host client connects and sends "CONNECT <port>\n",
 *            gets "OK <hostport>\n" and then talks to guest port <port>. A guest
 *            connection to host CID 2 port P is bridged to the unix socket
 *            "<uds_path>_P" (Firecracker's hybrid vsock).
 */
int virtio_vsock_attach(struct machine *m, uint32_t guest_cid, const char *uds_path,
			struct cabin_err **err);

#endif
