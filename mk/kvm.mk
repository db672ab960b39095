# src/kvm: the KVM accelerator.
OBJS += src/kvm/kvm.o
OBJS += src/kvm/vcpu.o
OBJS += src/kvm/arch/x86/cpuid.o
