# src/ctr resources and security: cgroups, seccomp, capabilities, process limits.
OBJS += src/ctr/cgroup.o
OBJS += src/ctr/cgroup-validate.o
OBJS += src/ctr/cgroup-v1.o
OBJS += src/ctr/cgroup-v2.o
OBJS += src/ctr/caps.o
OBJS += src/ctr/limits.o
OBJS += src/ctr/seccomp.o

UNIT_TESTS += tests/unit/test-cgroup
UNIT_TESTS += tests/unit/test-caps
UNIT_TESTS += tests/unit/test-limits
UNIT_TESTS += tests/unit/test-seccomp
