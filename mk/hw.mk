# src/hw: legacy PC devices shared by every accelerator.
OBJS += src/hw/serial-8250.o
OBJS += src/hw/i8042.o
OBJS += src/hw/rtc.o
OBJS += src/hw/exit-port.o
OBJS += src/hw/fw-cfg.o
OBJS += src/hw/pci-none.o
OBJS += src/hw/testdev.o
OBJS += src/hw/pci.o
OBJS += src/hw/edu.o
OBJS += src/hw/intel-iommu.o

UNIT_TESTS += tests/unit/test-iommu
UNIT_TESTS += tests/unit/test-emu-ir
