# src/lib and src/cli: the library core and the command line.
OBJS += src/lib/error.o
OBJS += src/lib/fd-pass.o
OBJS += src/lib/fs.o
OBJS += src/lib/lazy-link.o
OBJS += src/lib/log.o
OBJS += src/lib/resolve.o
OBJS += src/lib/strv.o
OBJS += src/lib/utf8.o
OBJS += src/lib/xalloc.o

CLI_OBJS += src/cli/main.o
CLI_OBJS += src/cli/cmd.o
CLI_OBJS += src/cli/cmd-vm.o

UNIT_TESTS += tests/unit/test-lib
UNIT_TESTS += tests/unit/test-fd-pass
UNIT_TESTS += tests/unit/test-resolve
