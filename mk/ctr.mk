# src/ctr: the container engine (OCI runtime) and its commands.
OBJS += src/ctr/checkpoint.o
OBJS += src/ctr/container.o
OBJS += src/ctr/criu-rpc.o
OBJS += src/ctr/exec.o
OBJS += src/ctr/hooks.o
OBJS += src/ctr/mount.o
OBJS += src/ctr/ops.o
OBJS += src/ctr/process.o
OBJS += src/ctr/cloned-binary.o
OBJS += src/ctr/spec.o
OBJS += src/ctr/state.o
OBJS += src/ctr/terminal.o

CLI_OBJS += src/cli/cmd-checkpoint.o
CLI_OBJS += src/cli/cmd-create.o
CLI_OBJS += src/cli/cmd-delete.o
CLI_OBJS += src/cli/cmd-events.o
CLI_OBJS += src/cli/cmd-exec.o
CLI_OBJS += src/cli/cmd-features.o
CLI_OBJS += src/cli/cmd-kill.o
CLI_OBJS += src/cli/cmd-list.o
CLI_OBJS += src/cli/cmd-pause.o
CLI_OBJS += src/cli/cmd-ps.o
CLI_OBJS += src/cli/cmd-restore.o
CLI_OBJS += src/cli/cmd-resume.o
CLI_OBJS += src/cli/cmd-run.o
CLI_OBJS += src/cli/cmd-spec.o
CLI_OBJS += src/cli/cmd-start.o
CLI_OBJS += src/cli/cmd-state.o
CLI_OBJS += src/cli/cmd-update.o

UNIT_TESTS += tests/unit/test-criu-rpc
UNIT_TESTS += tests/unit/test-spec

# CRIU's answers decoded under ASan/UBSan: a malformed message must not read past its end
CRIU_SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
TEST_PROGS += tests/unit/test-criu-rpc-asan
tests/unit/test-criu-rpc-asan: tests/unit/test-criu-rpc.c src/ctr/criu-rpc.c src/ctr/criu-rpc.h $(LIB)
	$(E) "  CC      $@"
	$(Q)$(CC) $(filter-out -MMD -MP,$(CFLAGS)) $(CRIU_SAN_FLAGS) -Itests -o $@ $< \
		src/ctr/criu-rpc.c $(LIB) $(LIBS) $(LDFLAGS)
UNIT_TESTS += tests/unit/test-spec-state

# The static payload of container tests: tests/helpers/init. (A rule here must not
# become the default goal.)
.DEFAULT_GOAL := all
STATIC_PROGS += tests/helpers/init
tests/helpers/init: tests/helpers/init.c
	$(E) "  CC      $@"
	$(Q)$(CC) -static -O2 -std=gnu11 -D_GNU_SOURCE $(WARNINGS) -o $@ $<
