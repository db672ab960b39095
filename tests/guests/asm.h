/* Shared constants of the test guests' assembly (.S files, C preprocessor). */
#ifndef GUEST_ASM_H
#define GUEST_ASM_H

#define SERIAL_PORT 0x3f8 /* 8250 THR */
#define EXIT_PORT 0x501	  /* writing N ends the VM with status N */

/*
 * Real mode runs with CS base 0xF0000: offsets are relative to the image start. The
 * assembler resolves R() itself only within one section, so real-mode code keeps
 * its data in .text.entry.
 */
#define ROM_BASE 0xF0000
/* _start is the first byte of the image, at ROM_BASE: use R() only in .text.entry. */
#define R(x) ((x)-_start)

/* Protected/long mode selectors of the GDT in entry32.S / entry64.S. */
#define SEL_CODE32 0x08
#define SEL_DATA 0x10
#define SEL_CODE64 0x18

#define STACK_TOP 0x90000 /* BSP stack; APs get their own below it */

#endif
