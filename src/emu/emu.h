/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_EMU_EMU_H
#define CABIN_EMU_EMU_H

/*
 * cabin's software x86 CPU: internal interfaces shared by the decoder
 * (decode.c), the interpreter (exec.c), the flags/ALU helpers (alu.c), the
 * MMU (mmu.c), exception delivery and the accel_ops glue (cpu.c) and the
 * interrupt controllers (arch/x86/).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdint.h>
#include <time.h>

#include "vm/accel.h"

struct machine;
struct emu_vm;
struct emu_cpu;
struct emu_jit;

/* Segment register numbers, as encoded in instructions. */
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_TR, SEG_LDT, SEG_NONE = 0xff };

/* RFLAGS bits */
#define FL_CF 0x0001u
#define FL_PF 0x0004u
#define FL_AF 0x0010u
#define FL_ZF 0x0040u
#define FL_SF 0x0080u
#define FL_TF 0x0100u
#define FL_IF 0x0200u
#define FL_DF 0x0400u
#define FL_OF 0x0800u
#define FL_IOPL 0x3000u
#define FL_NT 0x4000u
#define FL_RF 0x10000u
#define FL_VM 0x20000u
#define FL_AC 0x40000u
#define FL_VIF 0x80000u
#define FL_VIP 0x100000u
#define FL_ID 0x200000u
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

#define CR0_PE 0x1u
#define CR0_MP 0x2u
#define CR0_EM 0x4u
#define CR0_TS 0x8u
#define CR0_ET 0x10u
#define CR0_NE 0x20u
#define CR0_WP 0x10000u
#define CR0_AM 0x40000u
#define CR0_NW 0x20000000u
#define CR0_CD 0x40000000u
#define CR0_PG 0x80000000u
#define CR4_PSE 0x10u
#define CR4_PAE 0x20u
#define CR4_PGE 0x80u
#define CR4_OSFXSR 0x200u
#define CR4_OSXMMEXCPT 0x400u
#define CR4_OSXSAVE 0x40000u
#define CR4_SMEP 0x100000u
#define CR4_SMAP 0x200000u
#define CR4_PKE 0x400000u
#define CR4_PKS 0x1000000u
#define EFER_SCE 0x1u
#define EFER_LME 0x100u
#define EFER_LMA 0x400u
#define EFER_NXE 0x800u

/* Exception vectors */
enum {
	EXC_DE = 0,
	EXC_DB = 1,
	EXC_NMI = 2,
	EXC_BP = 3,
	EXC_OF = 4,
	EXC_BR = 5,
	EXC_UD = 6,
	EXC_NM = 7,
	EXC_DF = 8,
	EXC_TS = 10,
	EXC_NP = 11,
	EXC_SS = 12,
	EXC_GP = 13,
	EXC_PF = 14,
	EXC_MF = 16,
	EXC_AC = 17,
	EXC_MC = 18,
	EXC_XM = 19,
};

/*
 * Lazy flags: arithmetic records its operands and result, and CF/PF/AF/ZF/SF/OF
 * are computed only when something reads them. CC_EFLAGS means the arithmetic
 * bits in cpu->flags are current.
 */
enum emu_cc_op {
	CC_EFLAGS,
	CC_ADD,	  /* res = a + b */
	CC_ADC,	  /* res = a + b + 1 (ADC with CF set) */
	CC_SUB,	  /* res = a - b */
	CC_SBB,	  /* res = a - b - 1 (SBB with CF set) */
	CC_LOGIC, /* res, CF = OF = AF = 0 */
	CC_INC,	  /* res = a + 1, b = old CF */
	CC_DEC,	  /* res = a - 1, b = old CF */
	CC_SHL,	  /* res = a << b, 0 < b < width */
	CC_SHR,	  /* res = a >> b (logical), 0 < b < width */
	CC_SAR,	  /* res = a >> b (arithmetic), 0 < b < width */
	CC_MUL,	  /* res = low half, b = 1 when the product overflowed */
	CC_ROT,	  /* rotate: b = new CF|OF; the other flags come from the cc2_* state */
};

/* ALU operation numbers: the /r field of opcodes 0x80-0x83 */
enum { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP };
/* Shift group numbers: the /r field of opcodes 0xC0/0xC1/0xD0-0xD3 */
enum { SH_ROL, SH_ROR, SH_RCL, SH_RCR, SH_SHL, SH_SHR, SH_SAL, SH_SAR };

/* A decoded instruction; cached by guest-physical address, so no pointers to guest memory. */
struct emu_insn {
	uint16_t op; /* 0x000-0x0ff one byte, 0x100-0x1ff 0F xx, 0x200 0F38 xx, 0x300 0F3A xx */
	uint8_t len;
	uint8_t osz; /* operand size in bytes: 2, 4 or 8 (byte forms are implied by op) */
	uint8_t asz; /* address size: 2, 4 or 8 */
	uint8_t seg; /* segment of the memory operand (override or default) */
	uint8_t rep; /* 0, 0xF2 or 0xF3 */
	uint8_t lock;
	uint8_t rex; /* REX byte, or 0 */
	uint8_t has_modrm : 1;
	uint8_t segovr : 1;   /* segment override prefix given */
	uint8_t opsz_pfx : 1; /* 0x66 seen */
	uint8_t end : 1;      /* a decoded block ends after this instruction */
	uint8_t fdead : 1;    /* no later instruction can see the flags it writes (exec.c) */
	uint8_t pfx : 2;      /* mandatory prefix: PFX_NONE, PFX_66, PFX_F3, PFX_F2 (optab.h) */
	uint8_t riprel : 1;
	uint8_t mod;	/* 3: register operand */
	uint8_t reg;	/* ModRM.reg | REX.R << 3 */
	uint8_t rm;	/* ModRM.rm | REX.B << 3 (register form) */
	uint8_t base;	/* memory form: base register or 0xff */
	uint8_t index;	/* index register or 0xff */
	uint8_t scale;	/* shift 0-3 */
	uint8_t mode;	/* decode mode: 0 = 16-bit, 1 = 32-bit, 2 = 64-bit */
	uint8_t fclass; /* what the handler does to the arithmetic flags: EMU_FC_* */
	uint16_t off;	/* offset from the start of its decoded block */
	int32_t disp;
	uint64_t imm;
	uint64_t imm2; /* ENTER's second immediate, far pointer selector */
	/* the interpreter's handler for this form, chosen by the decoder (optab.h) */
	void (*fn)(struct emu_cpu *c, const struct emu_insn *in);
	/*
	 * What a decoded block runs: fn, or a variant that leaves the arithmetic flags
	 * alone when no later instruction can see them (flag liveness, exec.c). The
	 * decoder leaves the variant here (NULL when there is none).
	 */
	void (*run)(struct emu_cpu *c, const struct emu_insn *in);
	/* the handler (fn or its flag-skipping variant) that run calls when it is a wrapper */
	void (*hfn)(struct emu_cpu *c, const struct emu_insn *in);
};

/*
 * Flag classes of decoded instructions, for the liveness pass over a block. Only
 * forms that can neither fault nor end the block early may be anything but
 * EMU_FC_OTHER, with one exception (EMU_FC_WRITE_MEM): an exception or an early
 * stop must find the flags exactly as the instructions before it left them.
 */
enum {
	EMU_FC_OTHER,	  /* may read flags, fault or stop: every flag is live before it */
	EMU_FC_NONE,	  /* neither reads nor writes flags, cannot fault */
	EMU_FC_WRITE,	  /* writes all six arithmetic flags, reads none, cannot fault */
	EMU_FC_WRITE_MEM, /* writes all six after a memory read that may fault */
	EMU_FC_PARTIAL,	  /* writes some flags and keeps the others, cannot fault */
};

/* Decoder results */
#define DEC_NEED_MORE (-1000) /* the buffer ended before the instruction did */

/**
 * emu_decode() - decode one instruction from @buf (@avail bytes valid) in @mode.
 * Return: instruction length (1-15), DEC_NEED_MORE, or -EXC_UD / -EXC_GP
 * (too long) for an invalid encoding.
 */
int emu_decode(struct emu_insn *in, const uint8_t *buf, unsigned int avail, int mode);

/*
 * Software TLB: direct-mapped by linear page number, one compare of vpage (and the
 * permission bits) on a hit. 4096 entries cover 16 MiB of distinct pages: with 256, a
 * kernel's code, stack and data pages often shared a slot and evicted each other.
 */
#define TLB_SIZE 4096
/* slots filled since the last full flush that a flush visits instead of all TLB_SIZE */
#define TLB_LOG 1024
/* of those, the slots filled from large pages, which INVLPG must look through */
#define TLB_LARGE_LOG 256
#define TLB_R_SUP 0x01u
#define TLB_W_SUP 0x02u
#define TLB_X_SUP 0x04u
#define TLB_R_USR 0x08u
#define TLB_W_USR 0x10u
#define TLB_X_USR 0x20u
#define TLB_DIRTY 0x40u
#define TLB_GLOBAL 0x80u
#define TLB_LARGE 0x100u /* filled from a 2 MiB / 4 MiB / 1 GiB page */
/*
 * SMAP allows a supervisor data access here whatever EFLAGS.AC says (SMAP off, or a
 * supervisor-mode page). Bit 9 is EFLAGS.AC (bit 18) >> 9: see emu_tlb_need_smap().
 */
#define TLB_SMAPOK 0x200u

/* protection-key fault bit of the page-fault error code */
#define PF_PK 0x20u

struct emu_tlb_entry {
	uint64_t vpage; /* linear page address, or 1 when invalid */
	uint64_t ppage; /* physical page address */
	uint8_t *host;	/* host address of the page, NULL for MMIO */
	uint32_t perm;
};

/* Memory access kinds for the MMU */
enum { ACC_READ = 0, ACC_WRITE = 1, ACC_EXEC = 2 };

/*
 * Decoded-block cache: straight-line runs of decoded instructions inside one
 * guest page, keyed by the guest-physical address of the first one and the
 * decode mode, valid while the page's code generation is unchanged.
 *
 * The cache is a direct-mapped array of small tags (struct emu_block, 32 bytes:
 * 2 MiB for 65536 of them), apart from the decoded
 * instructions, which live in one arena per CPU (EMU_INSN_ARENA of them, about
 * 17 MiB) filled linearly, each block taking its n + 1 instructions. When the
 * arena is full every block is dropped (and its host code) and the arena is
 * refilled from the start. The tags are what the run loop and the translated
 * code's dispatch read for every block; a block of 2 KiB in place (the earlier
 * layout) missed the host's caches at every lookup, and 8192 of them held too few
 * of a kernel boot's blocks: it decoded a million blocks, most of them evicted
 * ones again (with 32768 tags 530000, with 65536 320000, with 131072 265000).
 */
#define BLOCK_CACHE_BITS 16
#define BLOCK_CACHE (1u << BLOCK_CACHE_BITS)
#define BLOCK_MAX 32
#define EMU_INSN_ARENA (8192 * (BLOCK_MAX + 1))

struct emu_block {
	uint64_t key; /* physical address << 2 | mode, or ~0 */
	/* host code of the block (jit.h): where its body starts, NULL when threaded */
	void *body;
	/* its decoded instructions in c->insns; insn[n] is the threaded end marker (exec.c) */
	struct emu_insn *insn;
	uint32_t gen; /* the page's code generation when decoded */
	uint8_t n;    /* instructions (1 to BLOCK_MAX) */
	uint8_t hot;  /* runs through the run loop, up to EMU_JIT_HOT (then translated) */
	uint16_t bytes;
};

_Static_assert(sizeof(struct emu_block) == 32, "dispatch indexes the tags with a shift");
_Static_assert(BLOCK_MAX < 256, "n is a byte");

/* the slot of c->blocks a block starting at guest-physical @pa lives in */
static inline unsigned int emu_block_slot(uint64_t pa)
{
	return (unsigned int)((pa ^ (pa >> BLOCK_CACHE_BITS)) & (BLOCK_CACHE - 1));
}

struct emu_lapic {
	uint32_t id, tpr, ldr, dfr, svr, esr, icr_lo, icr_hi;
	uint32_t lvt[7]; /* CMCI unused, timer, thermal, perf, lint0, lint1, error: 0x2f0-0x370 */
	uint32_t isr[8], irr[8], tmr[8];
	uint32_t timer_init, timer_div;
	uint64_t timer_start, timer_deadline; /* virtual ns; deadline 0 = stopped */
	uint64_t tsc_deadline; /* IA32_TSC_DEADLINE, 0 disarmed (fired or written 0) */
};

/* MXCSR: exception flags (bits 0-5), DAZ, masks (7-12), rounding control, FTZ */
#define MXCSR_IE 0x0001u
#define MXCSR_DE 0x0002u
#define MXCSR_ZE 0x0004u
#define MXCSR_OE 0x0008u
#define MXCSR_UE 0x0010u
#define MXCSR_PE 0x0020u
#define MXCSR_FLAGS 0x003fu
#define MXCSR_DAZ 0x0040u
#define MXCSR_MASKS 0x1f80u
#define MXCSR_MASK_SHIFT 7
#define MXCSR_RC 0x6000u
#define MXCSR_FTZ 0x8000u
#define MXCSR_RESET 0x1f80u
#define MXCSR_WRITABLE 0xffffu /* the MXCSR_MASK that FXSAVE reports: DAZ supported */

/* one 128-bit XMM register, viewed as lanes of each width */
union emu_xmm {
	uint8_t b[16];
	uint16_t w[8];
	uint32_t l[4];
	uint64_t q[2];
	float s[4];
	double d[2];
};

/*
 * One x87 physical data register: significand, then sign and exponent (the
 * layout of an x86-64 host long double). The MMX registers are the
 * significands of R0-R7.
 */
struct emu_fpreg {
	uint64_t mant;
	uint16_t sexp;
	uint16_t pad[3];
};

enum emu_run_state { EMU_RUNNING, EMU_HALTED, EMU_WAIT_SIPI };

struct emu_cpu {
	uint64_t r[16];
	uint64_t rip;
	uint64_t flags; /* RFLAGS; arithmetic bits only valid when cc_op == CC_EFLAGS */
	uint64_t cc_res, cc_a, cc_b;
	uint32_t cc_op, cc_size;
	uint64_t cc2_res, cc2_a, cc2_b; /* the state a CC_ROT sits on */
	uint32_t cc2_op, cc2_size;

	struct x86_segment seg[8];
	struct x86_dtable gdt, idt;
	uint64_t cr0, cr2, cr3, cr4, cr8, efer;
	uint64_t dr[8];
	int cpl;
	int mode; /* decode mode of CS: 0 16-bit, 1 32-bit, 2 64-bit */

	/* MSRs */
	uint64_t apic_base, sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t star, lstar, cstar, fmask, kernel_gs_base, pat, tsc_aux, misc_enable;
	uint64_t tsc_offset, mtrr_def_type, mtrr_fixed[11], mtrr_var[16], xcr0;
	uint64_t pkrs;		 /* IA32_PKRS: supervisor protection-key rights */
	uint32_t pkru;		 /* user protection-key rights (RDPKRU/WRPKRU, XSAVE component 9) */
	uint16_t fpu_cw, fpu_sw; /* x87 control/status words (TOP in status bits 11-13) */
	uint16_t fpu_tag;	 /* full x87 tag word, 2 bits per physical register, 3 = empty */
	uint16_t fpu_fop;	 /* last x87 opcode (11 bits) */
	uint16_t fpu_cs, fpu_ds; /* last x87 instruction and operand selectors */
	uint64_t fpu_ip, fpu_dp; /* last x87 instruction and operand offsets */
	struct emu_fpreg fpr[8]; /* x87 R0-R7, MMX MM0-MM7 */
	union emu_xmm xmm[16];	 /* XMM0-XMM15 */
	uint32_t mxcsr;

	/* the instruction being executed */
	uint64_t insn_rip;
	uint64_t next_rip;
	const struct emu_insn *cur;
	int irq_shadow;	 /* STI / MOV SS shadow: no interrupt before the next instruction */
	int tf_no_trap;	 /* SYSCALL cleared TF through FMASK: no single-step trap after it */
	int tf_trap_now; /* SYSRET loaded TF from R11: the single-step trap comes after it */
	/* debug registers (debug.c) */
	uint8_t dbg_active;   /* DR7 arms a breakpoint or GD: one instruction at a time */
	uint8_t watch_active; /* a data breakpoint is armed: its pages stay out of the TLB */
	uint8_t ss_shadow;    /* MOV SS / POP SS: its #DB traps wait for the next instruction */
	uint8_t icebp;	      /* the instruction was INT1: its #DB takes the held-back ones */
	uint32_t db_hit;      /* B0-B3 of the data breakpoints the instruction touched */
	uint32_t db_pending;  /* B0-B3 and BS held back by a MOV SS shadow */
	uint32_t db_wake;     /* the #DB traps of a HLT, delivered when it wakes */
	int stop_block;	      /* the current block must end after this instruction */
	int locked_insn;      /* a LOCKed instruction runs: device memory is accessed inline */
	int mmio_wlocked;     /* it holds m->mmio_lock for writing (released when it ends) */
	/* threaded run of a block (exec.c): its first RIP, instructions, instructions done */
	uint64_t blk_rip;
	const struct emu_insn *blk_insn;
	unsigned int blk_done;
	uint32_t
		tlb_epoch; /* bumped by every TLB flush (a block loops on itself while unchanged) */
	int soft_int;	   /* INT n/INT3/INTO/INT1 delivering: a fault reports soft_int_rip */
	uint64_t soft_int_rip;
	unsigned int deliveries; /* interrupts and exceptions delivered (single-step bookkeeping) */
	/*
	 * 1 while an event external to the program (an interrupt, an exception, INT1) is
	 * being delivered: a fault on the way has EXT (bit 0) in its error code (SDM vol. 3
	 * 6.13); 0 for INT n, INT3 and INTO.
	 */
	uint8_t deliver_ext;
	volatile int intr_hint; /* an interrupt may be pending: poll the controllers */

	/* exceptions */
	jmp_buf jb;
	int exc_vector, exc_has_err, exc_nesting;
	uint32_t exc_err;
	int pending_vector; /* an exception raised while delivering, -1 none */

	/* run state */
	enum emu_run_state state;
	volatile int kick;
	int exit_ready; /* an accel_exit is filled and must be returned */
	struct accel_exit *exit;
	uint8_t io_buf[4096];
	struct {
		int pending; /* 1: IN waiting for data, 2: MMIO read replay */
		uint64_t addr;
		uint32_t len;
		int reg_size;
		uint8_t data[8];
		int have_data;
	} io;
	uint64_t icount;
	uint64_t icount_base; /* icount when vm->vclock_ns was last advanced by this CPU */
	/* cycles charged beyond one per instruction (emu_charge()), not yet in vm->vclock_ns */
	uint64_t stall;
	int budget_spent; /* a charge used up the budget: emu_exec() returns after this block */
	uint64_t budget;

	/* caches */
	struct emu_tlb_entry tlb[TLB_SIZE];
	uint16_t tlb_log[TLB_LOG]; /* indices of entries filled since the last sweep */
	unsigned int tlb_nlog;	   /* entries in tlb_log; > TLB_LOG: overflowed, sweep all */
	/* the slots of tlb_log filled from large pages; > TLB_LARGE_LOG: overflowed */
	uint16_t tlb_large_log[TLB_LARGE_LOG];
	unsigned int tlb_nlarge;
	struct emu_block *blocks;   /* BLOCK_CACHE tags */
	struct emu_insn *insns;	    /* EMU_INSN_ARENA decoded instructions of the blocks */
	unsigned int insns_used;    /* the arena is filled up to here */
	unsigned long insn_flushes; /* times the arena was full (tests, statistics) */
	/* statistics (CABIN_EMU_STATS=1 prints them when the CPU is freed) */
	unsigned long stat_lookups; /* blocks started by the run loop */
	unsigned long stat_decodes; /* blocks decoded */
	unsigned long stat_jits;    /* blocks translated */
	unsigned long stat_links;   /* exits of host code linked to the next block (jit.h) */
	struct emu_jit *jit;	    /* host code of the blocks, NULL: threaded interpreter only */
	/* the host code's entry (jit.h emu_jit_run()): saves registers, jumps to @body */
	void (*jit_enter)(struct emu_cpu *c, const struct emu_insn *insn, void *body);
	/*
	 * runs a new block starts with (0; up to EMU_JIT_HOT - 1): tests and the
	 * differential fuzzer have blocks translated at once (CABIN_EMU_JIT_HOT=N: after N)
	 */
	uint16_t jit_hot0;

	struct emu_lapic lapic;
	int sipi_vector;
	volatile int nmi_pending; /* an NMI waits for delivery */
	int nmi_blocked;	  /* an NMI handler runs: blocked until IRET */
	int init_pending;
	int idle_reported; /* the last run returned ACCEL_EXIT_HLT for an idle wait */
	unsigned int index;
	struct emu_vm *vm;
	struct machine *m;
	pthread_mutex_t lock; /* guards kick/wake-up waits and lapic irr from other threads */
	pthread_cond_t cond;
};

/* PIC pair */
struct emu_pic {
	uint8_t irr, imr, isr, elcr, icw_step, icw4, read_isr, vector_base, auto_eoi, special_mask;
	uint8_t lines, poll, rotate, prio_add, init4, single;
};

struct emu_pit_channel {
	uint16_t reload, latch, count_latched;
	uint8_t mode, rw, bcd, read_hi, write_hi, latched, status_latched, status, gate, null;
	uint8_t wlo;
	uint64_t start_ns;
	int latch_read_state;
};

struct emu_ioapic {
	uint32_t ioregsel, id;
	uint64_t redir[24];
	uint32_t irr;
	uint32_t lines;
};

struct emu_vm {
	struct machine *m;
	pthread_mutex_t lock; /* guards PIC, PIT, IOAPIC and inter-CPU delivery */
	struct emu_pic pic[2];
	struct emu_pit_channel pit[3];
	uint8_t port61;
	struct emu_ioapic ioapic;
	uint64_t vclock_ns; /* virtual time, advanced by executed instructions and idle skips */
	uint64_t pit_next;  /* next PIT channel 0 deadline, 0 none */
	uint64_t pit_period;
	uint32_t *page_gen; /* per RAM page: bumped when a decoded page is written */
	uint8_t *code_page; /* per RAM page: decoded instructions are cached from it */
	uint64_t nr_pages;
	uint64_t total_insns;
	struct timespec t_start; /* for CABIN_EMU_STATS */
	int trace_exc;		 /* CABIN_EMU_TRACE=exc: log exceptions (first 200) */
};

/* virtual nanoseconds per instruction: time is a function of the instruction count */
#define EMU_NS_PER_INSN 1
#define EMU_TSC_KHZ 1000000ULL

/*
 * The cycle model. The virtual clock, and the TSC at 1 GHz on it, advance one
 * cycle per instruction, plus a fixed charge for the few operations that cost a
 * real core far more than an ordinary instruction. The charges are constants, so
 * time stays a function of what the guest executed (reproducible run to run),
 * and they are of the order current x86 cores take, so that a guest that times
 * such operations with RDTSC (kvm-unit-tests' vmexit.c loops until 2^30 cycles
 * have passed) sees them cost what it expects instead of one cycle each:
 *  - EMU_CYC_SERIALIZE: the serializing instructions of SDM vol. 3 9.3 (CPUID,
 *    IRET, INVD, INVLPG, LGDT, LIDT, LLDT, LTR, MOV to CR0/CR2/CR3/CR4 and to a debug
 *    register, WBINVD, WRMSR): they drain the pipeline, and CPUID, WRMSR and MOV
 *    to CRn take on the order of a hundred cycles or more. MOV to CR8 is not
 *    serializing (SDM) and costs one cycle.
 *  - EMU_CYC_PIO: each IN or OUT (each element of INS/OUTS), a bus cycle to a
 *    legacy device: about a microsecond, which is what Linux's port-0x80
 *    io_delay() and its PIT calibration expect.
 *  - EMU_CYC_HLT_WAKE: a halted CPU taking an interrupt (or NMI) runs again this
 *    late: the exit latency of C1 (intel_idle's tables give 1-2 us).
 */
#define EMU_CYC_SERIALIZE 100
#define EMU_CYC_PIO 1000
#define EMU_CYC_HLT_WAKE 2000

/* alu.c: flags and arithmetic used by the interpreter (and the flags test) */
uint64_t emu_flags_get(struct emu_cpu *c);
void emu_flags_set(struct emu_cpu *c, uint64_t fl);
void emu_flags_arith(struct emu_cpu *c, uint64_t arith); /* set CF..OF, keep the rest */
int emu_cond(struct emu_cpu *c, unsigned int cc);
uint64_t emu_alu(struct emu_cpu *c, int op, int size, uint64_t a, uint64_t b);
uint64_t emu_incdec(struct emu_cpu *c, int dec, int size, uint64_t a);
uint64_t emu_neg(struct emu_cpu *c, int size, uint64_t a);
uint64_t emu_shift(struct emu_cpu *c, int op, int size, uint64_t a, unsigned int count);
uint64_t emu_shxd(struct emu_cpu *c, int right, int size, uint64_t dst, uint64_t src,
		  unsigned int count);
/* MUL/IMUL one operand: lo, hi = a * b (a is the accumulator) */
void emu_mul(struct emu_cpu *c, int is_signed, int size, uint64_t a, uint64_t b, uint64_t *lo,
	     uint64_t *hi);
uint64_t emu_imul2(struct emu_cpu *c, int size, uint64_t a, uint64_t b);
/* DIV/IDIV: dividend hi:lo; Return: 0, or -1 for #DE */
int emu_div(struct emu_cpu *c, int is_signed, int size, uint64_t hi, uint64_t lo, uint64_t d,
	    uint64_t *q, uint64_t *r);
/* BT/BTS/BTR/BTC (op 0..3): returns the new value */
uint64_t emu_bt(struct emu_cpu *c, int op, int size, uint64_t a, uint64_t bit);
/* BSF/BSR: returns 1 and *out when source != 0 */
int emu_bsf(struct emu_cpu *c, int rev, int size, uint64_t a, uint64_t *out);

static inline uint64_t emu_size_mask(int size)
{
	return size == 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

/*
 * The TLB bit a supervisor data access needs besides TLB_[RW]_SUP: TLB_SMAPOK unless
 * SMAP is lifted, which it is only for CPL < 3 with EFLAGS.AC = 1 (SDM vol. 3 4.6.1; an
 * implicit supervisor access at CPL 3, such as an IDT read, is always checked).
 */
_Static_assert((FL_AC >> 9) == TLB_SMAPOK, "TLB_SMAPOK must be EFLAGS.AC >> 9");

static inline uint32_t emu_tlb_need_smap(const struct emu_cpu *c)
{
	if (c->cpl == 3)
		return TLB_SMAPOK;
	return (uint32_t)((~c->flags & FL_AC) >> 9);
}

/* mmu.c */
void emu_tlb_flush(struct emu_cpu *c, int keep_global);
/* debug registers (debug.c) */
void emu_dbg_update(struct emu_cpu *c);
uint32_t emu_dbg_exec_match(const struct emu_cpu *c, uint64_t lin);
int emu_dbg_page_watched(const struct emu_cpu *c, uint64_t vpage);
void emu_dbg_watch(struct emu_cpu *c, uint64_t lin, unsigned int len, int write);
void emu_dbg_io(struct emu_cpu *c, uint16_t port, unsigned int len);
int emu_dbg_general_detect(struct emu_cpu *c);
void emu_tlb_flush_page(struct emu_cpu *c, uint64_t lin);
/* translate linear @lin for @acc at privilege @user; raises #PF on a fault */
struct emu_tlb_entry *emu_tlb_fill(struct emu_cpu *c, uint64_t lin, int acc, int user);
/* probe translation without faulting: Return: 0 and *pa, or page-fault error code | 1<<31 */
int64_t emu_mmu_translate(struct emu_cpu *c, uint64_t lin, int acc, int user, uint64_t *pa,
			  int set_ad);
void emu_lin_read(struct emu_cpu *c, uint64_t lin, void *dst, unsigned int len, int acc, int user);
void emu_lin_write(struct emu_cpu *c, uint64_t lin, const void *src, unsigned int len, int user);
void emu_phys_read(struct emu_cpu *c, uint64_t pa, void *dst, unsigned int len);
void emu_phys_write(struct emu_cpu *c, uint64_t pa, const void *src, unsigned int len);
void emu_code_write(struct emu_vm *vm, uint64_t pa, unsigned int len);
uint8_t *emu_host_page(struct emu_cpu *c, uint64_t ppage);

/* cpu.c */
__attribute__((noreturn)) void emu_raise(struct emu_cpu *c, int vector, int has_err, uint32_t err);
__attribute__((noreturn)) void emu_raise_pf(struct emu_cpu *c, uint64_t lin, uint32_t err);
void emu_cpu_reset(struct emu_cpu *c);
void emu_update_mode(struct emu_cpu *c);
void emu_load_seg(struct emu_cpu *c, int sreg, uint16_t sel);
void emu_seg_real(struct emu_cpu *c, int sreg, uint16_t sel);
void emu_deliver(struct emu_cpu *c, int vector, int kind, int has_err, uint32_t err);
void emu_far_jump(struct emu_cpu *c, uint16_t sel, uint64_t off, int is_call, int osz);
void emu_far_ret(struct emu_cpu *c, int osz, uint16_t pop);
void emu_iret(struct emu_cpu *c, int osz);
int emu_read_msr(struct emu_cpu *c, uint32_t idx, uint64_t *val);
int emu_write_msr(struct emu_cpu *c, uint32_t idx, uint64_t val);
void emu_write_cr(struct emu_cpu *c, int cr, uint64_t val);
void emu_cpuid(struct emu_cpu *c, uint32_t leaf, uint32_t sub, uint32_t out[4]);
uint64_t emu_rdtsc(struct emu_cpu *c);
void emu_load_tr(struct emu_cpu *c, uint16_t sel);
void emu_load_ldt(struct emu_cpu *c, uint16_t sel);
/* the 8-byte descriptor of @sel (GDT or LDT) and its linear address; raises @vec(sel) when
 * outside its table */
uint64_t emu_read_desc(struct emu_cpu *c, uint16_t sel, int vec, uint64_t *addr);
/* fill the segment cache @s from descriptor @d for selector @sel */
void emu_desc_to_seg(struct x86_segment *s, uint64_t d, uint16_t sel);
/* task.c: hardware task switches (SDM vol. 3 ch. 8), outside IA-32e mode */
enum { EMU_TASK_JMP, EMU_TASK_CALL, EMU_TASK_IRET, EMU_TASK_INT };
/* far JMP/CALL (@is_call) to selector @sel whose descriptor @d is a TSS or a task gate */
void emu_task_far(struct emu_cpu *c, uint16_t sel, uint64_t d, int is_call);
/* IRET with EFLAGS.NT: back to the task named by the current TSS's link field */
void emu_task_iret(struct emu_cpu *c);
/* deliver an interrupt or exception through the IDT task gate @g (error code @err) */
void emu_task_gate_deliver(struct emu_cpu *c, uint64_t g, int has_err, uint32_t err);
/* VERR (@write 0) / VERW: may @sel be read / written at the current CPL? Faults only on paging. */
int emu_verify_seg(struct emu_cpu *c, uint16_t sel, int write);
void emu_syscall(struct emu_cpu *c);
void emu_sysret(struct emu_cpu *c);
void emu_sysenter(struct emu_cpu *c);
void emu_sysexit(struct emu_cpu *c);
/* deliver the highest pending external interrupt if any (IF=1, inside emu_exec) */
void emu_intr_poll(struct emu_cpu *c);
/* interrupt delivery kinds */
enum { INT_EXC, INT_SOFT, INT_EXT, INT_ICEBP };

/* XCR0 components: x87, SSE, PKRU (9, standard-format offset 2688, 8 bytes) */
#define XCR0_PKRU 0x200ULL
#define EMU_XCR0_SUPPORTED (0x3ULL | XCR0_PKRU)
#define EMU_XSAVE_PKRU_OFF 2688u
/* exec-fpu.c: XGETBV/XSETBV (0f 01 d0/d1), the XSAVE area size for the enabled XCR0 */
void emu_xgetbv(struct emu_cpu *c);
void emu_xsetbv(struct emu_cpu *c);
unsigned int emu_xsave_size(const struct emu_cpu *c);
/* exec-fpu.c: x87/SSE state as accel_ops get_fpu/set_fpu see it; set: -EINVAL for a bad MXCSR */
void emu_fpu_get(struct emu_cpu *c, struct x86_fpu *f);
int emu_fpu_set(struct emu_cpu *c, const struct x86_fpu *f);
/* exec-fpu.c: deliver a pending unmasked x87 exception (FSW.ES) before an x87/MMX instruction */
void emu_fpu_pending(struct emu_cpu *c);

/* exec.c: run up to c->budget instructions; returns when an exit is ready or the budget ends */
void emu_exec(struct emu_cpu *c);
/*
 * exec.c: the handler of every LOCKed instruction (and XCHG with memory): runs the
 * form's own handler so that device memory it reads and writes stays atomic
 */
void emu_exec_locked(struct emu_cpu *c, const struct emu_insn *in);
/* exec.c: execute exactly one instruction (for tests); Return: 0, or 1 when an exit is ready */
int emu_step(struct emu_cpu *c);

/* cpu.c: create a standalone CPU on @m (for tests, and used by vcpu_init) */
struct emu_cpu *emu_cpu_new(struct machine *m, struct emu_vm *vm, unsigned int index);
void emu_cpu_free(struct emu_cpu *c);
struct emu_vm *emu_vm_new(struct machine *m);
void emu_vm_free(struct emu_vm *vm);
/* I/O from the interpreter: Return 1 when handled inside, 0 when an exit is filled */
int emu_io_in(struct emu_cpu *c, uint16_t port, int size, uint32_t *val);
void emu_io_out(struct emu_cpu *c, uint16_t port, int size, uint32_t val);
int emu_mmio(struct emu_cpu *c, uint64_t pa, void *data, unsigned int len, int is_write);

/* arch/x86: interrupt controllers (emu_vm lock held by the callers marked _locked) */
int emu_pic_io(struct emu_vm *vm, uint16_t port, int is_write, uint32_t *val);
int emu_pit_io(struct emu_vm *vm, uint16_t port, int is_write, uint32_t *val);
void emu_pic_set_irq(struct emu_vm *vm, unsigned int irq, int level);
int emu_pic_has_intr(struct emu_vm *vm);
int emu_pic_ack(struct emu_vm *vm);
void emu_pit_advance(struct emu_vm *vm, uint64_t now);
uint64_t emu_pit_next_deadline(struct emu_vm *vm);
void emu_ioapic_set_irq(struct emu_vm *vm, unsigned int pin, int level);
int emu_ioapic_mmio(struct emu_vm *vm, uint64_t off, void *data, unsigned int len, int is_write);
void emu_ioapic_eoi(struct emu_vm *vm, int vector);
void emu_lapic_reset(struct emu_cpu *c);
int emu_lapic_mmio(struct emu_cpu *c, uint64_t off, void *data, unsigned int len, int is_write);
/* IA32_APIC_BASE writes (EN, EXTD mode changes) and x2APIC MSRs: Return 0, or -1 for #GP */
int emu_lapic_set_base(struct emu_cpu *c, uint64_t val);
int emu_lapic_msr_read(struct emu_cpu *c, uint32_t msr, uint64_t *val);
int emu_lapic_msr_write(struct emu_cpu *c, uint32_t msr, uint64_t val);
int emu_lapic_pending(struct emu_cpu *c); /* highest deliverable vector or -1 */
void emu_lapic_ack(struct emu_cpu *c, int vector);
void emu_lapic_set_irq(struct emu_cpu *c, int vector, int level_trig);
void emu_lapic_timer(struct emu_cpu *c, uint64_t now);
uint64_t emu_lapic_next_deadline(struct emu_cpu *c);
/* IA32_TSC_DEADLINE (MSR 0x6e0): read, write (arms the timer in TSC-deadline mode) */
uint64_t emu_lapic_tscdl_read(struct emu_cpu *c);
void emu_lapic_tscdl_write(struct emu_cpu *c, uint64_t val);
/* the TSC was written: a TSC-deadline timer is re-armed against the new count */
void emu_lapic_tsc_changed(struct emu_cpu *c);
int emu_lapic_accept_pic(struct emu_cpu *c);
void emu_vm_wake(struct emu_vm *vm);
void emu_cpu_wake(struct emu_cpu *c);
void emu_deliver_msi(struct emu_vm *vm, uint32_t dest, int vector, int mode, int logical,
		     int level_trig);
uint64_t emu_now(struct emu_vm *vm);

/**
 * emu_cpu_now() - the virtual time as CPU @c sees it: the VM's clock plus what
 * @c ran (instructions and charged cycles) since it last advanced that clock.
 */
static inline uint64_t emu_cpu_now(const struct emu_cpu *c)
{
	return emu_now(c->vm) + (c->icount - c->icount_base) * EMU_NS_PER_INSN + c->stall;
}

/**
 * emu_charge() - add @cycles to the virtual time of CPU @c (the cycle model above),
 * on top of the one cycle its current instruction counts. The run batch's budget,
 * which ends at the next timer deadline, shrinks by as much, so that timers stay
 * on time. It keeps BLOCK_MAX instructions, since the block in flight (admitted
 * within the budget) subtracts what it ran when it ends; a charge that would take
 * more ends the block and emu_exec() after this instruction (budget_spent).
 */
static inline void emu_charge(struct emu_cpu *c, unsigned int cycles)
{
	c->stall += cycles;
	if (c->budget > BLOCK_MAX + (uint64_t)cycles) {
		c->budget -= cycles;
		return;
	}
	c->stop_block = 1;
	c->budget_spent = 1;
}

#endif
