/*
 * A fake Multiboot v1 kernel (ELF32, linked at 2 MiB): checks the boot magic in
 * EAX, prints the command line from the Multiboot information at EBX, whether
 * a memory map came and the CPU count that fw_cfg reports, then ends through
 * the --debug-exit port 0xf4 with the first byte of the first module (the
 * initrd), or 0x20 without one. A bad magic exits with 0x7f.
 */
#define COM1 0x3f8
#define DEBUG_EXIT 0xf4
	.section .text
	.code32
	.globl _start
	.balign 4
mb_header:
	.long 0x1badb002, 0x3, -(0x1badb002 + 0x3)  /* page-aligned modules, memory info */
_start:
	cmp $0x2badb002, %eax
	jne bad
	mov 16(%ebx), %esi          /* cmdline */
	call puts
	mov $'\n', %al
	call putc
	testl $0x40, (%ebx)         /* flags: mmap_* valid */
	jz 1f
	cmpl $0, 44(%ebx)           /* mmap_length */
	je 1f
	mov $mmap_msg, %esi
	call puts
1:	testl $0x1, (%ebx)          /* flags: mem_lower/mem_upper */
	jz 2f
	cmpl $639, 4(%ebx)
	jne 2f
	mov $mem_msg, %esi
	call puts
2:	mov $cpus_msg, %esi
	call puts
	mov $0x510, %dx             /* fw_cfg: select FW_CFG_NB_CPUS */
	mov $5, %ax
	outw %ax, %dx
	inc %dx
	inb %dx, %al
	add $'0', %al
	call putc
	mov $'\n', %al
	call putc
	mov $0x20, %al
	cmpl $0, 20(%ebx)           /* mods_count */
	je 3f
	mov 24(%ebx), %esi          /* mods_addr */
	mov (%esi), %esi            /* mod_start */
	movb (%esi), %al
3:	outb %al, $DEBUG_EXIT
4:	cli
	hlt
	jmp 4b
bad:
	mov $0x7f, %al
	outb %al, $DEBUG_EXIT
	jmp 4b

putc:
	push %edx
	mov $COM1, %dx
	outb %al, %dx
	pop %edx
	ret
puts:
	lodsb
	test %al, %al
	jz 1f
	call putc
	jmp puts
1:	ret

mmap_msg:	.asciz "memory map\n"
mem_msg:	.asciz "mem_lower 639\n"
cpus_msg:	.asciz "cpus "
