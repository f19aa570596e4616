/*
 * difftest.h - the differential test of the software CPU against Unicorn.
 *
 * Every opcode of the decode table (cpu/opcodes.def) that Unicorn can run in
 * flat 32-bit code is executed, one instruction at a time, from thousands of
 * random register, flag and memory states, by both trapeze's CPU and Unicorn
 * (QEMU's TCG inside).  The two results are compared: the eight general
 * registers, EIP, the segment selectors, EFLAGS (less the flags the SDM
 * leaves undefined for that instruction, see expect.c) and the whole mapped
 * memory.  When one side raises an exception, the vectors are compared.
 *
 * The machine both sides see (mirroring how Unicorn 2 sets up UC_MODE_32:
 * CR0.PE = 1, CPL 0, no paging; the data segments are loaded from our GDT):
 *
 *   0x0000 +------------------+  GDT (dt_gdt in gen.c), GDTR.limit = 0x3F
 *   0x1000 +------------------+  code: the instruction under test at 0x1000,
 *          |                  |  the rest of the page HLT (0xF4)
 *   0x2000 +------------------+  data: random bytes; every memory operand,
 *          |                  |  the stack and the string operands are
 *          |                  |  generated to land here
 *   0x4000 +------------------+  end of the compared (and mapped) memory
 *
 * Files: main.c (driver, reporting), gen.c (case generators), expect.c
 * (undefined flags and results per instruction, the exclusion list),
 * run_unicorn.c and run_trapeze.c (the two executors), paging.c (the
 * paging pass: memory operands through random page tables, CPL 0 and 3).
 */
#ifndef TRAPEZE_DIFFTEST_H
#define TRAPEZE_DIFFTEST_H

#include <stdbool.h>
#include <stdint.h>

#define DT_GDT_ADDR   0x0000u
#define DT_CODE_ADDR  0x1000u
#define DT_DATA_ADDR  0x2000u
#define DT_DATA_SIZE  0x2000u
#define DT_MEM_SIZE   0x4000u   /* [0, DT_MEM_SIZE) mapped and compared */
#define DT_GDT_LIMIT  0x3Fu

/* Selectors of our GDT (gen.c dt_gdt). */
#define DT_SEL_CODE    0x08u  /* flat 32-bit code, DPL 0, execute/read */
#define DT_SEL_DATA    0x10u  /* flat 32-bit data, DPL 0, read/write */
#define DT_SEL_DATA3   0x18u  /* flat data, DPL 3 */
#define DT_SEL_NP      0x20u  /* data, not present */
#define DT_SEL_SMALL   0x28u  /* 16-bit data, limit 0xFFFF, read-only */
#define DT_SEL_LDT     0x30u  /* a system descriptor (LDT) */
#define DT_SEL_CODE3   0x38u  /* flat 32-bit code, DPL 3 (the paging pass's CPL 3) */

/*
 * The paging pass (paging.c): CR0.PG = 1, CR3 = DT_PD_ADDR.  PDE 0 maps
 * linear 0-4 MiB, through the page table at DT_PT_ADDR (PTEs 0-4: linear
 * pages 0-4; page 4 is never present) or as one 4 MiB page (CR4.PSE).
 * PDE 1 maps DT_STOP_ADDR through DT_PT1_ADDR, present, user, writable,
 * A and D set: the address Unicorn is told to stop at (run_unicorn.c).
 * Unicorn 2.0.1 uses every linear address as the physical one, so its
 * tables map every page onto itself; trapeze gets the same entries with
 * the frames of dt_case.frame (tests/README.md).  The tables lie outside
 * the compared memory; the entries are read back and compared (A, D).
 */
#define DT_PD_ADDR    0x10000u
#define DT_PT_ADDR    0x11000u
#define DT_PT1_ADDR   0x12000u
#define DT_STOP_ADDR  0x400000u
#define DT_PT_ENTRIES 5u
#define DT_PAGES      (DT_MEM_SIZE >> 12)

/* Segment order as in enum x86_sreg: ES CS SS DS FS GS. */
#define DT_NSEG 6

/* Registers and selectors of one side, before or after an instruction. */
struct dt_regs {
    uint32_t gpr[8];     /* EAX ECX EDX EBX ESP EBP ESI EDI */
    uint32_t eip;
    uint32_t eflags;
    uint16_t sel[DT_NSEG];
};

/* One generated instruction and its input state. */
struct dt_case {
    uint16_t op;          /* index in x86_opcodes[]: 0x000-0x1FF */
    uint8_t code[16];
    unsigned len;
    bool rep;             /* REP string op: run until EIP leaves the instruction */
    bool os32, as32;      /* operand and address size */
    bool has_modrm;
    uint8_t mod, reg;     /* ModRM fields (reg: the group's operation) */
    unsigned osize;       /* main operand size in bytes: 1, 2 or 4 */
    unsigned count;       /* shift/rotate count as given (before masking) */
    bool has_mem;         /* a memory operand (printed on a mismatch) ... */
    uint32_t ea;          /* ... at this address */
    struct dt_regs in;
    uint8_t mem[DT_MEM_SIZE];
    /* The paging pass only (paging.c); paging is false everywhere else. */
    bool paging;          /* run with CR0.PG = 1 and these entries ... */
    bool wp, pse;         /* ... CR0.WP and CR4.PSE ... */
    unsigned cpl;         /* ... at CPL 0, or 3: CS = DT_SEL_CODE3|3, others DT_SEL_DATA3|3 */
    uint32_t pde;         /* PDE 0 as Unicorn gets it (frames = linear) */
    uint32_t pte[DT_PT_ENTRIES];   /* PTEs 0-4 of the table at DT_PT_ADDR, the same */
    uint32_t frame[DT_PAGES];      /* trapeze: the physical frame of linear page k */
};

/* What one side did. */
struct dt_result {
    int vector;           /* exception vector, or -1 when the instruction completed */
    int unclassified;     /* Unicorn: an error it gives no vector for (uc_err), else 0 */
    struct dt_regs out;
    uint8_t mem[DT_MEM_SIZE];
    uint32_t cr2;                  /* paging pass: CR2 after the run */
    uint32_t pde;                  /* paging pass: PDE 0 after the run ... */
    uint32_t pte[DT_PT_ENTRIES];   /* ... and PTEs 0-4 */
    bool has_error;                /* trapeze only: the exception's error code ... */
    uint32_t error;                /* ... (Unicorn gives none) */
};

/* Run state shared by the generators: a splitmix64 random stream. */
uint64_t dt_rand(uint64_t *state);
static inline uint32_t dt_rand32(uint64_t *s) { return (uint32_t)dt_rand(s); }
static inline unsigned dt_below(uint64_t *s, unsigned n) { return (unsigned)(dt_rand(s) % n); }

/* gen.c: the GDT both sides use; the case generator. */
extern const uint8_t dt_gdt[DT_GDT_LIMIT + 1];
/* Does a generator cover table opcode 'op'?  (main.c's coverage check.) */
bool dt_gen_covers(unsigned op);
/* Fill 'c' with a random instance of opcode 'op'; 'variant' picks the
 * operand/address-size combination (bit 0: os32, bit 1: as32). */
void dt_gen_case(struct dt_case *c, unsigned op, unsigned variant, uint64_t *rng);

/* expect.c: what may differ. */
/* The exclusion reason for a table opcode, or NULL when it is tested. */
const char *dt_excluded(unsigned op);
/* Arithmetic flags (EFLAGS_ARITH subset) the SDM defines after this case,
 * given the reference result. */
uint32_t dt_defined_flags(const struct dt_case *c, const struct dt_result *ref);
/* Registers (bit r) whose value the SDM leaves undefined after this case. */
uint32_t dt_undefined_regs(const struct dt_case *c, const struct dt_result *ref);
/* Print the partial exclusions (forms of covered opcodes not generated). */
void dt_print_partial_exclusions(void);

/* paging.c: the paging pass, 'ncases' cases per instruction; 'only' NULL
 * or a test name, "paging", or the name of one instruction.  Returns the
 * number of failed tests; *run counts the tests run. */
int dt_paging_tests(uint64_t seed, unsigned ncases, const char *only, int *run);
/* Print, with --trace, each paging case's instruction before it runs. */
extern bool dt_trace;

/* run_unicorn.c */
int dt_unicorn_init(void);
void dt_unicorn_run(const struct dt_case *c, struct dt_result *r);
void dt_unicorn_destroy(void);
const char *dt_unicorn_error(int err);

/* run_trapeze.c */
int dt_trapeze_init(void);
void dt_trapeze_run(const struct dt_case *c, struct dt_result *r);
void dt_trapeze_destroy(void);

#endif
