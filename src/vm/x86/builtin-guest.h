/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_VM_X86_BUILTIN_GUEST_H
#define CABIN_VM_X86_BUILTIN_GUEST_H

#include <stdint.h>

/* The built-in real-mode test guest (builtin-guest.S): [x86_builtin_guest, x86_builtin_guest_end).
 */
extern const uint8_t x86_builtin_guest[];
extern const uint8_t x86_builtin_guest_end[];

#endif
