/*
 * A fake bzImage that reads the ACPI tables the VMM wrote, as a kernel would:
 * RSDP from the zero page's acpi_rsdp_addr (0x70), then XSDT -> FADT -> DSDT
 * and XSDT -> MADT, checking every signature and checksum. It prints
 *   acpi cpus=N virtio=M
 * (local APIC entries in the MADT, "LNRO" strings in the DSDT; one digit each)
 * and powers off through the FADT's sleep control register, writing
 * SLP_TYP 5 | SLP_EN (status 0). A failed check writes its number (1-10)
 * to port 0x501, and 99 if the VM survived the power-off write.
 */
	.text
	.globl _start
_start:
	.org 0x1f1
	.byte 1                 /* setup_sects */
	.org 0x1fe
	.word 0xaa55            /* boot_flag */
	.byte 0xeb, 0x66        /* jump; the header ends at 0x268 */
	.ascii "HdrS"
	.word 0x020f            /* version 2.15 */
	.org 0x211
	.byte 0x01              /* loadflags: LOADED_HIGH */
	.org 0x22c
	.long 0x7fffffff        /* initrd_addr_max */
	.org 0x236
	.word 0x0001            /* xloadflags: XLF_KERNEL_64 */
	.long 2048              /* cmdline_size */
	.org 0x260
	.long 0x10000           /* init_size */
	.org 0x400 + 0x200      /* startup_64 */
	.code64

/* Check the table at \reg: signature \sig, bytes summing to 0 over its length. */
.macro TABLE reg, sig, err
	mov $\err, %al
	cmpl $\sig, (\reg)
	jne fail
	mov \reg, %rdi
	mov 4(\reg), %ecx
	call sum
	jnz fail
.endm

startup_64:
	mov 0x70(%rsi), %rbx            /* boot_params.acpi_rsdp_addr */
	mov $1, %al
	test %rbx, %rbx
	jz fail
	movabs $0x2052545020445352, %rdx /* "RSD PTR " */
	mov $2, %al
	cmp %rdx, (%rbx)
	jne fail
	mov $3, %al
	mov %rbx, %rdi
	mov $20, %ecx
	call sum
	jnz fail
	mov $4, %al
	mov %rbx, %rdi
	mov $36, %ecx
	call sum
	jnz fail
	mov 24(%rbx), %r8               /* XsdtAddress */
	TABLE %r8, 0x54445358, 5        /* "XSDT" */
	mov 36(%r8), %r9                /* entry 0: FADT */
	TABLE %r9, 0x50434146, 6        /* "FACP" */
	mov 44(%r8), %r10               /* entry 1: MADT */
	TABLE %r10, 0x43495041, 7       /* "APIC" */
	mov 140(%r9), %r11              /* X_DSDT */
	TABLE %r11, 0x54445344, 8       /* "DSDT" */

	/* Local APIC entries (type 0) in the MADT. */
	mov 4(%r10), %ecx
	lea (%r10,%rcx), %r12
	lea 44(%r10), %rdi
	xor %r13d, %r13d
1:	cmp %r12, %rdi
	jae 2f
	cmpb $0, (%rdi)
	jne 3f
	inc %r13
3:	movzbl 1(%rdi), %ecx
	mov $9, %al
	test %ecx, %ecx
	jz fail
	add %rcx, %rdi
	jmp 1b

	/* "LNRO" (the virtio-mmio _HID) in the DSDT. */
2:	mov 4(%r11), %ecx
	lea -4(%r11,%rcx), %r12
	mov %r11, %rdi
	xor %r14d, %r14d
1:	cmp %r12, %rdi
	ja 2f
	cmpl $0x4f524e4c, (%rdi)
	jne 3f
	inc %r14
3:	inc %rdi
	jmp 1b

2:	lea msg_cpus(%rip), %rdi
	call puts
	mov %r13b, %al
	add $'0', %al
	call putc
	lea msg_virtio(%rip), %rdi
	call puts
	mov %r14b, %al
	add $'0', %al
	call putc
	mov $'\n', %al
	call putc

	/* Power off: the sleep control register must be a SystemIO port. */
	mov $10, %al
	cmpb $1, 244(%r9)
	jne fail
	mov 248(%r9), %dx
	mov $0x34, %al                  /* SLP_TYP 5 << 2 | SLP_EN */
	outb %al, %dx
	mov $99, %al                    /* still running: the register did nothing */
	mov $0x501, %dx
	outb %al, %dx
4:	hlt
	jmp 4b

fail:	mov $0x501, %dx
	outb %al, %dx
	jmp 4b

/* dl = sum of rcx bytes at rdi; ZF set when it is 0. Clobbers rcx, rdi. */
sum:	xor %edx, %edx
1:	add (%rdi), %dl
	inc %rdi
	dec %rcx
	jnz 1b
	test %dl, %dl
	ret

putc:	push %rdx
	mov $0x3f8, %dx
	outb %al, %dx
	pop %rdx
	ret

puts:	movb (%rdi), %al
	test %al, %al
	jz 1f
	call putc
	inc %rdi
	jmp puts
1:	ret

msg_cpus:
	.asciz "acpi cpus="
msg_virtio:
	.asciz " virtio="
	.org 0x1000
