/*
 * tae.h - what the files of the trap-and-emulate VMM share (vmm/README.md,
 * "The tae engine").
 *
 * Two software CPUs on the machine's one bus:
 *
 *   hw    the "hardware": runs the deprivileged guest - guest kernel at
 *         ring 1, guest user code at ring 3 - on the VMM's own GDT, LDT,
 *         IDT, TSS and CR3 (shadow page tables), with IF = 1 and IOPL = 0.
 *         It owns no event: every exception, every INT n and every
 *         interrupt exits to the VMM (exit_on_exception, exit_on_soft_int,
 *         exit_on_interrupt), as a real VMM's trap handlers would run.
 *   vcpu  the virtual CPU: the guest's own view - its true CPL, EFLAGS.IF
 *         and IOPL, CR0-CR4, GDTR/IDTR/LDTR/TR and the segment descriptors
 *         it loaded.  It never runs guest code freely while the guest is
 *         compressible: the VMM single-steps it over an instruction that
 *         trapped (emulation against the virtual CPU, which does every
 *         check the SDM asks for at the guest's true privilege) and makes
 *         it deliver events through the guest's IDT (reflection: the frames
 *         the guest sees, CS RPL 0 in them).  Modes ring compression cannot
 *         run (real mode, vm86, guest ring 1 or 2, NT set, an expand-down
 *         segment reaching the VMM region) are interpreted on it, counted.
 *
 * VMM memory lives in the bus's private window (mmu/bus.h, BUS_PRIVATE_*),
 * which is open only while hw runs on the shadow tables; no shadow entry
 * ever maps it, so no guest-physical address reaches it.  It is mapped at
 * linear TAE_VMM_LIN (the top 4 MiB, PDE 1023) in every shadow address
 * space, and every segment the guest runs on is truncated below it.
 */
#ifndef TRAPEZE_TAE_H
#define TRAPEZE_TAE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu/cpu.h"
#include "vmm/engine.h"

struct machine;
struct bt_vmm;

/* The VMM's linear region, the top 4 MiB: what lives where in it. */
#define TAE_VMM_LIN      0xFFC00000u
#define TAE_GDT_LIN      (TAE_VMM_LIN + 0x00000)   /* 64 KiB: the real GDT (shadow descriptors) */
#define TAE_LDT_LIN      (TAE_VMM_LIN + 0x10000)   /* 64 KiB: the shadow of the guest's LDT */
#define TAE_IDT_LIN      (TAE_VMM_LIN + 0x20000)   /* the real IDT: empty, every event exits */
#define TAE_TSS_LIN      (TAE_VMM_LIN + 0x21000)   /* the real TSS: no I/O bitmap */
#define TAE_VMM_PAGES    0x22                      /* pages mapped in the region */

/* Shadow paging sizes. */
#define TAE_MAX_SPACES   64      /* shadow address spaces kept, by guest CR3 */
#define TAE_POOL_PAGES   2048    /* shadow page tables (8 MiB of private memory) */
#define TAE_NO_FRAME     0xFFFFFFFFu

/* Descriptor tables the VMM shadows. */
enum tae_table { TAE_GDT = 0, TAE_LDT = 1 };
#define TAE_TABLE_ENTRIES 8192

/* One shadow address space: the shadow page directory of one guest CR3. */
struct tae_space {
    bool used;
    uint32_t key;             /* guest CR3's frame, or TAE_NO_FRAME: paging off (identity) */
    uint32_t pd_paddr;        /* the shadow PD (machine-physical, private) */
    uint32_t *pd;             /* ... its host pointer */
    uint64_t last_use;        /* LRU among spaces */
    int16_t pt[1024];         /* pool index of the shadow PT behind each PDE, or -1 */
};

/* One shadow page table of the pool. */
struct tae_pt {
    int16_t space;            /* owning space, -1 = free */
    uint16_t pde;             /* the PDE index it serves */
    uint32_t guest_frame;     /* the guest PT it shadows, TAE_NO_FRAME: a 4 MiB page or identity */
    uint32_t paddr;           /* machine-physical */
    uint32_t *entries;        /* host pointer */
    int16_t next_same_frame;  /* the next shadow PT of the same guest PT (frame_pts), -1 */
};

/* One kind of sensitive instruction, in the fidelity report. */
#define TAE_FIDELITY_KINDS 48
struct tae_fidelity_kind {
    const char *mnemonic;
    uint64_t executed;        /* run deprivileged (the hook) */
    uint64_t differed;        /* ... of which the guest saw something else than hardware would show */
    uint16_t first_cs;
    uint32_t first_eip;
    char first_what[96];      /* what the guest saw against what hardware would have shown */
};

/* Counters by cause (`stats`, -stats, `info vmm`). */
struct tae_counters {
    uint64_t traps;                    /* exits that took the VMM's trap path */
    uint64_t traps_by_vector[32];
    uint64_t emulated;                 /* instructions the virtual CPU ran for a trap */
    uint64_t hidden_faults;            /* #PF the shadow caused: filled, guest never knew */
    uint64_t true_faults;              /* #PF reflected to the guest */
    uint64_t descriptor_faults;        /* hidden #NP/#SS/#GP: a shadow descriptor filled */
    uint64_t reflected_exceptions;     /* exceptions the guest's IDT received */
    uint64_t reflected_interrupts;     /* device interrupts reflected (virtual IF = 1) */
    uint64_t soft_ints;                /* INT n reflected */
    uint64_t shadow_built;             /* shadow page tables built */
    uint64_t shadow_dropped;           /* ... dropped (guest wrote its tables, pool full, mode change) */
    uint64_t shadow_entries;           /* shadow PTEs filled */
    uint64_t spaces_created, space_switches, space_hits;
    uint64_t traced_writes;            /* writes to a traced guest page table or GDT/LDT */
    uint64_t interpreted;              /* instructions run on the virtual CPU in modes hw cannot run */
    uint64_t vmm_region;               /* guest accesses to the VMM's linear region, emulated */
    uint64_t syncs;                    /* hw state rebuilt from the virtual CPU */
};

/* Trap counts by instruction. */
#define TAE_TRAP_NAMES 64
struct tae_trap_name {
    const char *name;
    uint64_t count;
};

struct tae {
    struct machine *m;
    struct cpu hw;
    struct engine virt;       /* an emu engine on the virtual CPU: interprets what hw cannot run */
    struct cpu *vcpu;         /* its CPU (virt.priv) */
    bool hw_stale;            /* vcpu changed: hw must be rebuilt before it runs */
    bool vcpu_stale;          /* hw ran: the vcpu's registers must be read back */
    bool sensitive_traps;     /* -cpu ...,virtualizable=on: the sensitive instructions trap */
    bool count_in_tc;         /* bt: count in-TC sequences (engine_options, -stats) */

    /* The selectors and caches the VMM gave hw, to tell a segment the guest
     * loaded on hw itself from one it was handed. */
    struct x86_segment hw_set[SEG_COUNT];

    /* Private memory. */
    uint32_t priv_paddr;      /* first private page */
    uint8_t *priv;
    uint32_t vmm_pt_paddr;    /* the page table mapping TAE_VMM_LIN */
    uint32_t vmm_region_paddr;/* GDT, LDT, IDT, TSS pages, TAE_VMM_PAGES of them */

    /* Shadow descriptor tables, filled lazily: a bit per entry. */
    uint8_t desc_filled[2][TAE_TABLE_ENTRIES / 8];
    uint32_t gdt_frames[17], ldt_frames[17];   /* guest pages traced for them */
    int gdt_frame_count, ldt_frame_count;
    struct x86_dtable shadowed_gdtr;           /* the GDTR the shadow GDT was made for */
    struct x86_segment shadowed_ldtr;

    /* Shadow paging. */
    struct tae_space spaces[TAE_MAX_SPACES];
    struct tae_pt pool[TAE_POOL_PAGES];
    int pool_free;            /* free pool entries */
    int current;              /* the space hw runs on, -1 none */
    uint64_t use_clock;
    struct paging_regs shadowed_regs;          /* the guest's CR0/CR4 the spaces were made for */
    uint16_t *trace_users;    /* per guest RAM page: how many shadow structures read it */
    int16_t *frame_pts;       /* per guest RAM page: the first shadow PT made from it, -1 */
    uint32_t ram_pages;

    struct tae_counters cnt;
    struct tae_trap_name trap_names[TAE_TRAP_NAMES];
    struct tae_fidelity_kind fidelity[TAE_FIDELITY_KINDS];
    int fidelity_count;

    struct cpu_irq_source board_irq;           /* the machine's PIC */
    enum { TAE_PFE_REGION, TAE_PFE_READONLY, TAE_PFE_TRACED, TAE_PFE_WINDOW } last_pf_emulation;
    /* bt: while guest user code runs, hw's GDTR is the guest's base and the
     * pages there show the shadow GDT (the GDT window, tae_gdt_window), so a
     * ring-3 SGDT shows what the guest set.  0: no window (tae). */
    uint32_t gdt_window_paddr;
    bool gdt_window_on;
    uint32_t gdt_window_first, gdt_window_count;   /* its linear pages */
    bool in_ad_update;        /* the VMM sets A/D bits: its own writes are not guest writes */

    /* -engine bt: the binary translator's half of the VMM (vmm/bt_vmm.c), NULL under tae. */
    struct bt_vmm *bt;
    bool bt_smc_stop;         /* hw was stopped because the guest rewrote running translated code */
    bool external_stop;       /* the machine asked for the stop (not the VMM) */
    int16_t free_stack[TAE_POOL_PAGES];
};

/* engine_tae.c: what bt_vmm.c uses of the trap path. */
void tae_need_vcpu(struct tae *t);
bool tae_emulate_why(struct tae *t, const char *why, struct engine_exit *out);
bool tae_reflect(struct tae *t, int vector, enum cpu_event_kind kind, bool has_error, uint32_t error,
                 struct engine_exit *out);
bool tae_serve_trap(struct tae *t, const struct cpu_exit *x, struct engine_exit *out);

/* bt_vmm.c: the bt engine (vmm/README.md "The bt engine"). */
#define BT_DATA_LIN   (TAE_VMM_LIN + 0x30000)   /* the VMM's data page (hw GS in the TC) */
#define BT_TC_LIN     (TAE_VMM_LIN + 0x100000)  /* the translation cache */
#define BT_TC_BYTES   (2u << 20)
int bt_vmm_create(struct tae *t);
void bt_vmm_destroy(struct tae *t);
void bt_vmm_reset(struct tae *t);
bool bt_hw_in_tc(const struct tae *t);
bool bt_must_interpret(struct tae *t, bool step);
int bt_enter(struct tae *t);
struct engine_exit bt_step(struct tae *t);
bool bt_serve(struct tae *t, struct cpu_exit *x, struct engine_exit *out);
uint32_t bt_settle_for_sync(struct tae *t);
bool bt_irq_window(struct tae *t);
void bt_after_vcpu_change(struct tae *t, bool paging_changed);
void bt_breakpoints_changed(struct tae *t, uint32_t lin);
void bt_print_stats(struct tae *t, FILE *out);
int bt_print_topic(struct tae *t, const char *topic, const char *arg, FILE *out);
void bt_get_counters(struct tae *t, struct engine_counters *c);

/* tae_state.c: the guest's view and the hardware's. */
/* The shadow of one guest descriptor (8 bytes as lo, hi): DPL 0 -> 1, the
 * limit cut below TAE_VMM_LIN, system descriptors, DPL 3 code and segments
 * that cannot be cut left not present (tae_state.c's top comment). */
void tae_shadow_descriptor(uint32_t lo, uint32_t hi, uint32_t *slo, uint32_t *shi);
bool tae_compressible(struct tae *t);
/* The guest's 8-byte descriptor for 'sel' (GDT or LDT by TI), read through its own view. */
bool tae_guest_descriptor(struct tae *t, uint16_t sel, uint32_t *lo, uint32_t *hi);
void tae_sync_to_hw(struct tae *t);            /* vcpu -> hw (compress) */
void tae_sync_from_hw(struct tae *t);          /* hw -> vcpu (expand) */
void tae_desc_reset(struct tae *t);            /* forget every shadow descriptor */
bool tae_desc_fill(struct tae *t, uint32_t error_code);   /* a hidden descriptor fault? filled */
void tae_desc_check_tables(struct tae *t);     /* GDTR/LDTR/paging changed: re-trace */
bool tae_desc_traced_write(struct tae *t, uint32_t frame);
#define TAE_WINDOW_PAGES 17
bool tae_gdt_window(struct tae *t, bool on);
int tae_desc_setup(struct tae *t);

/* tae_shadow.c: shadow page tables. */
int tae_shadow_init(struct tae *t);
void tae_shadow_destroy(struct tae *t);
void tae_shadow_reset(struct tae *t);          /* drop every space */
uint32_t tae_shadow_cr3(struct tae *t);        /* the space for the guest's CR3 now: its PD */
enum tae_pf_result { TAE_PF_HIDDEN, TAE_PF_TRUE, TAE_PF_EMULATE };
enum tae_pf_result tae_shadow_fault(struct tae *t, uint32_t lin, uint32_t error, uint32_t *guest_error);
const char *tae_pf_emulation_name(struct tae *t);
int tae_shadow_walk(struct tae *t, uint32_t lin, enum mmu_access access, bool user, struct mmu_walk *w);
void tae_shadow_print(struct tae *t, FILE *out, bool have_lin, uint32_t lin);
void tae_trace_frame(struct tae *t, uint32_t frame, int delta);
void tae_trace_hook(void *opaque, uint32_t paddr, unsigned size);
bool tae_shadow_map_page(struct tae *t, uint32_t lin, uint32_t pte);   /* in the running space */
void tae_shadow_clear_page(struct tae *t, uint32_t lin);

/* tae_fidelity.c: the sensitive instructions, and trap names. */
void tae_sensitive_hook(void *opaque, const struct cpu_sensitive *ev);
void tae_count_trap(struct tae *t, const char *name);
const char *tae_insn_name(struct tae *t);
void tae_print_fidelity(struct tae *t, FILE *out);
void tae_print_traps(struct tae *t, FILE *out);

#endif
