# src/box: containers made from images (Docker's model) on the OCI runtime in src/ctr,
# the image store in src/img and the networks of src/net; `cabin container`, `cabin volume`.
OBJS += src/box/box.o
OBJS += src/box/monitor.o
OBJS += src/box/spec.o
