# src/net: host networking: tap devices for virtio-net; container networks (netlink through
# libmnl, NAT and port publishing through libnftables, IPAM, hosts/resolv.conf).
NET_PKGS := libmnl libnftables
CFLAGS += $(shell pkg-config --cflags $(NET_PKGS) 2>/dev/null)
ifneq ($(LAZY_LIBS),1)
LIBS += $(shell pkg-config --libs $(NET_PKGS) 2>/dev/null)
endif

OBJS += src/net/tap.o
OBJS += src/net/netlink.o
OBJS += src/net/ipam.o
OBJS += src/net/nat.o
OBJS += src/net/bridge.o
OBJS += src/net/net.o

CLI_OBJS += src/cli/cmd-network.o

UNIT_TESTS += tests/unit/test-net
