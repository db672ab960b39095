# src/vm: the engine-neutral machine (memory, buses, interrupt lines, vCPU loop).
OBJS += src/vm/bus.o
OBJS += src/vm/machine.o
OBJS += src/vm/mem.o
