# src/net: host networking helpers (tap devices for virtio-net).
OBJS += src/net/tap.o
