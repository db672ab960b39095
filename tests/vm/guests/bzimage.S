/*
 * A fake bzImage: a real setup header (boot protocol 2.15, one setup sector,
 * 64-bit entry) in front of KERNEL64_BODY at startup_64 (protected-mode part + 0x200).
 */
#include "kernel64.h"
	.text
	.globl _start
_start:
	.org 0x1f1
	.byte 1                 /* setup_sects: 1 + 1 sectors of setup */
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
	.org 0x400 + 0x200      /* protected-mode kernel at 0x400; startup_64 at +0x200 */
	.code64
startup_64:
	KERNEL64_BODY
	.org 0x1000
