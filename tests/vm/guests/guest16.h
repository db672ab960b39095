/*
 * Helpers for the VMM-path test firmware (assembled with gcc -m32 -c, linked at 0,
 * 64 KiB images whose last 16 bytes hold the reset vector at F000:FFF0, so the
 * same file also runs under `qemu-system-x86_64 -M microvm -bios IMG`).
 */
#define COM1 0x3f8
#define EXIT_PORT 0x501
#define LINEAR(x) ((x) + 0xf0000)

/* Real-mode prologue: DS = CS = F000, stack at 0:7000. */
.macro SETUP16
	cli
	cld
	mov %cs, %ax
	mov %ax, %ds
	xor %ax, %ax
	mov %ax, %ss
	mov $0x7000, %sp
.endm

/* Print the NUL-terminated string at \label on COM1. */
.macro PUTS label
	mov $\label, %si
	call puts16
.endm

/* Report exit status \code on the exit port. */
.macro EXIT code
	mov $EXIT_PORT, %dx
	mov $\code, %al
	outb %al, %dx
.endm

/* The 16-byte reset vector and the padding to 64 KiB. */
.macro RESET_VECTOR
	.org 0xfff0
	ljmp $0xf000, $_start
	.org 0x10000
.endm

.macro PUTS16_FN
puts16:
	push %ax
	push %dx
	mov $COM1, %dx
1:	lodsb
	test %al, %al
	jz 2f
	outb %al, %dx
	jmp 1b
2:	pop %dx
	pop %ax
	ret
.endm
