# src/emu: the software x86 CPU (accelerator "emu").
OBJS += src/emu/accel.o
OBJS += src/emu/alu.o
OBJS += src/emu/cpu.o
OBJS += src/emu/decode.o
OBJS += src/emu/exec.o
OBJS += src/emu/mmu.o
OBJS += src/emu/arch/x86/apic.o
OBJS += src/emu/arch/x86/pic.o
# cli/cmd-vm.c refers to emu_accel_ops weakly (cabin builds without the emulator too):
# pull the emulator out of libcabin.a explicitly.
LDFLAGS += -Wl,-u,emu_accel_ops
UNIT_TESTS += tests/unit/test-emu-flags
UNIT_TESTS += tests/unit/test-emu-cpu
