# src/vm: the engine-neutral machine (memory, buses, interrupt lines, vCPU loop).
OBJS += src/vm/bus.o
OBJS += src/vm/machine.o
OBJS += src/vm/mem.o
OBJS += src/vm/vcpu.o
OBJS += src/vm/x86/boot.o
OBJS += src/vm/x86/mptable.o
OBJS += src/vm/x86/builtin-guest.o

# Pattern rule (not a plain one) so it never becomes the default goal.
src/vm/x86/%.o: src/vm/x86/%.S
	$(E) "  AS      $@"
	$(Q)$(CC) -c -o $@ $<
OBJS += src/vm/ctl.o
