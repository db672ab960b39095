# src/img: the image store, registry client and archive loader (libcurl for HTTP and TLS,
# libarchive for tar and its compressions, libcrypto for SHA-256).
IMG_PKGS := libcurl libarchive libcrypto
CFLAGS += $(shell pkg-config --cflags $(IMG_PKGS) 2>/dev/null)
ifneq ($(LAZY_LIBS),1)
LIBS += $(shell pkg-config --libs $(IMG_PKGS) 2>/dev/null)
endif
OBJS += src/img/archive.o
OBJS += src/img/auth.o
OBJS += src/img/digest.o
OBJS += src/img/layer.o
OBJS += src/img/manifest.o
OBJS += src/img/ref.o
OBJS += src/img/registry.o
OBJS += src/img/store.o

CLI_OBJS += src/cli/cmd-image.o

CLI_OBJS += src/cli/cmd-container.o
UNIT_TESTS += tests/unit/test-img
