#!/usr/bin/env python3
"""tests/guests/bt_random.py - random kernel-mode instruction sequences, for
the differential test of the engines (tests/guests/bt_diff.sh).

    python3 tests/guests/bt_random.py SEED COUNT [--no-sensitive] > k.asm
    nasm -f elf32 -o k.o k.asm
    ld -m elf_i386 -T guests/link.ld -o k.elf k.o build/guests/lib.o
    build/trapeze -kernel k.elf -display none

writes the nasm source of a Multiboot kernel (main, linked with guests/lib.asm)
that runs COUNT random sequences at CPL 0, paging off, the PIC masked, with a
GDT of its own (data and code descriptors of several DPLs, limits and
granularities, an LDT, a TSS), and prints one line per sequence on COM1:

    sNNN a=EAX c=ECX d=EDX b=EBX sp=ESP-TOP bp=EBP si=ESI di=EDI f=EFLAGS sum=CSUM de=N

(ESP as its offset from the top of the sequence's scratch stack, EFLAGS
masked to CF PF AF ZF SF OF DF IF IOPL, CSUM a checksum of the 256-byte
scratch buffer, N the #DE faults the kernel's handler skipped so far), then
"bt_random: done" and exit status 33 (isa-debug-exit).

Each sequence: the buffer filled from an LCG seeded by the sequence number;
ESP into a private scratch stack at a random depth, EFLAGS (CF PF AF ZF SF
OF DF random, IF = 0, IOPL 0) by POPFD, the other 7 GPRs random; then 20-40
random instructions (the menu is below); then PUSHFD and the registers saved.

Undefined flags (SDM Vol. 1 appendix A, Vol. 2 per instruction): the rule
chosen is that after every instruction that leaves any flag undefined (AND,
OR, XOR, TEST: AF; shifts and rotates: OF, AF; IMUL, MUL: SF ZF AF PF; DIV,
IDIV: all six; BT*: OF SF AF PF) the generator emits a CMP r32, r32, which
sets all six arithmetic flags, so nothing later (Jcc, SETcc, CMOVcc, ADC,
PUSHF, the final EFLAGS) ever reads an undefined flag; shifts and rotates are
32-bit only (count <= 31 < 32: CF is defined; SDM SAL/SAR/SHL/SHR: CF is
undefined for SHL/SHR counts >= the operand size).  Other undefined results
are avoided: no BSF/BSR, no 8-bit DIV, BT with a register bit offset only on
a register.

--no-sensitive leaves out the sensitive and machine-specific part of the
menu (PUSHF/POPF, CLI/STI, MOV and PUSH from segment registers,
SGDT/SIDT/SLDT/STR/SMSW, LAR/LSL/VERR/VERW, IN/OUT, CPUID), for comparing
-engine emu with QEMU, whose CPU model differs (CPUID) and whose port 61h
follows its own clock.

Everything is deterministic: no RDTSC, no timer (the PIC masked), port 61h's
refresh bit (bit 4, a toggle on the virtual clock) masked off after IN.
"""

import random
import sys

R32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"]
R16 = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"]
R8 = ["al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"]
R8_BASE = ["eax", "ecx", "edx", "ebx", "eax", "ecx", "edx", "ebx"]
DEST32 = ["eax", "ecx", "edx", "ebx", "ebp", "esi", "edi"]   # never ESP
CC = ["o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"]
ALU = ["add", "adc", "sub", "sbb", "and", "or", "xor", "cmp"]
LOGIC = {"and", "or", "xor", "test"}
SHIFTS = ["rol", "ror", "rcl", "rcr", "shl", "shr", "sar"]
FLAGS_MASK = 0x3ED5         # CF PF AF ZF SF OF DF IF IOPL
BUF = 256

# The kernel's GDT (selector: descriptor); LAR/LSL/VERR/VERW pick from these
# selectors, with RPLs 0-3, and from some past the limit.
GDT = [
    ("null", "0"),
    ("code0", "0x00CF9A000000FFFF"),     # 0x08 code, DPL 0, 4 GiB
    ("data0", "0x00CF92000000FFFF"),     # 0x10 data, DPL 0, 4 GiB
    ("ldt", "0x000082000000000F"),       # 0x18 LDT, 2 entries (base filled at run time)
    ("tss", "0x0000890000000067"),       # 0x20 32-bit TSS (base filled at run time)
    ("code3", "0x00CFFA000000FFFF"),     # 0x28 code, DPL 3
    ("data3", "0x0040F2000000FFFF"),     # 0x30 data, DPL 3, byte granular 64 KiB
    ("data1down", "0x00C0B6000000000F"),  # 0x38 data, DPL 1, expand-down, 4 KiB pages
    ("conf3", "0x00CFFE000000FFFF"),     # 0x40 conforming code, DPL 3
    ("data2", "0x0040D2000000FFFF"),     # 0x48 data, DPL 2, 64 KiB
    ("np", "0x00CF12000000FFFF"),        # 0x50 data, not present
    ("xonly", "0x00CF98000000FFFF"),     # 0x58 execute-only code, DPL 0
    ("ro1", "0x00CFB0000000FFFF"),       # 0x60 read-only data, DPL 1
    ("gate", "0x0000EC0000080000"),      # 0x68 call gate, DPL 3 (LAR yes, LSL no)
]
GDT_LIMIT = len(GDT) * 8 - 1
KCODE, KDATA, LDT_SEL, TSS_SEL = 0x08, 0x10, 0x18, 0x20


class Seq:
    """One sequence's code: lines of nasm, labels unique to it."""

    def __init__(self, rng, n, sensitive):
        self.rng = rng
        self.n = n
        self.sensitive = sensitive
        self.lines = []
        self.subs = []          # (label, lines) emitted after the body
        self.rodata = []
        self.k = 0

    def label(self):
        self.k += 1
        return "s%d_%d" % (self.n, self.k)

    # ---------------------------------------------------------------- values
    def imm32(self):
        r = self.rng
        return r.choice([0, 1, 2, 0xFFFFFFFF, 0x80000000, 0x7FFFFFFF, r.randrange(32),
                         r.randrange(256), r.randrange(1 << 16), r.getrandbits(32),
                         r.getrandbits(32), r.getrandbits(32)])

    def imm(self, bits):
        return self.imm32() & ((1 << bits) - 1)

    def reg(self, bits, prot, dest=True):
        """A register of BITS bits; as a destination none of PROT (ESP never)."""
        r = self.rng
        while True:
            i = r.randrange(8)
            base = R8_BASE[i] if bits == 8 else R32[i]
            if dest and (base == "esp" or base in prot):
                continue
            return {8: R8, 16: R16, 32: R32}[bits][i], base

    def mem(self, size, prot):
        """An in-bounds buffer operand of SIZE bytes: lines setting its base
        register just before, the operand text, the base register."""
        r = self.rng
        off = r.randrange(BUF - size + 1)
        kind = r.randrange(3)
        spec = {1: "byte ", 2: "word ", 4: "dword ", 6: ""}[size]
        if kind == 0:
            return [], "%s[buf + %d]" % (spec, off), None
        base = r.choice([x for x in DEST32 if x not in prot])
        if kind == 1 or len([x for x in DEST32 if x not in prot and x != base]) == 0:
            disp = r.randrange(min(off, 127) + 1)
            return (["mov %s, buf + %d" % (base, off - disp)],
                    "%s[%s + %d]" % (spec, base, disp), {base})
        idx = r.choice([x for x in DEST32 if x not in prot and x != base])
        scale = r.choice([1, 2, 4, 8])
        i = r.randrange(off // scale + 1)
        return (["mov %s, buf + %d" % (base, off - i * scale), "mov %s, %d" % (idx, i)],
                "%s[%s + %s * %d]" % (spec, base, idx, scale), {base, idx})

    def fix(self):
        """After an instruction that left flags undefined: CMP sets all six."""
        a = self.rng.choice(R32)
        b = self.rng.choice(R32)
        return ["cmp %s, %s" % (a, b)]

    # ---------------------------------------------------------------- simple instructions
    # Each returns (lines, clobbered 32-bit registers) or None (not possible
    # with PROT protected); none jumps, each leaves ESP as it found it.
    def simple(self, prot, in_loop=False):
        r = self.rng
        menu = [self.alu_rr, self.alu_ri, self.alu_rm, self.alu_mr, self.unary, self.unary_m,
                self.shift, self.shift_m, self.imul, self.muldiv, self.lea, self.movx, self.xchg,
                self.cmpxchg, self.xadd, self.bswap, self.bt, self.setcc, self.cmov, self.pushpop,
                self.mov_rm]
        weights = [6, 5, 3, 3, 3, 1, 4, 1, 3, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2]
        if self.sensitive:
            menu += [self.flags_insn, self.cli_sti, self.segread, self.tables, self.selector_insn,
                     self.ports, self.cpuid]
            weights += [3, 1, 2, 2, 3, 1, 1]
        while True:
            g = r.choices(menu, weights)[0]
            got = g(prot)
            if got is not None:
                return got

    def alu_rr(self, prot):
        bits = self.rng.choice([32, 32, 16, 8])
        op = self.rng.choice(ALU + ["test"])
        d, db = self.reg(bits, prot, dest=op not in ("cmp", "test"))
        s, _ = self.reg(bits, prot, dest=False)
        lines = ["%s %s, %s" % (op, d, s)]
        if op in LOGIC:
            lines += self.fix()
        return lines, {db}

    def alu_ri(self, prot):
        bits = self.rng.choice([32, 32, 16, 8])
        op = self.rng.choice(ALU + ["test"])
        d, db = self.reg(bits, prot, dest=op not in ("cmp", "test"))
        v = self.imm(bits)
        if bits > 8 and op != "test" and self.rng.random() < 0.4:
            v = self.rng.randrange(-128, 128)      # the sign-extended imm8 form
            lines = ["%s %s, byte %d" % (op, d, v)]
        else:
            lines = ["%s %s, 0x%x" % (op, d, v)]
        if op in LOGIC:
            lines += self.fix()
        return lines, {db}

    def alu_rm(self, prot):
        bits = self.rng.choice([32, 16, 8])
        op = self.rng.choice(ALU + ["test"])
        pre, m, mb = self.mem(bits // 8, prot)
        p2 = prot | (mb or set())
        d, db = self.reg(bits, p2, dest=op not in ("cmp", "test"))
        lines = pre + (["%s %s, %s" % (op, m, d)] if op == "test" else ["%s %s, %s" % (op, d, m)])
        if op in LOGIC:
            lines += self.fix()
        return lines, {db} | (mb or set())

    def alu_mr(self, prot):
        bits = self.rng.choice([32, 16, 8])
        op = self.rng.choice(ALU)
        pre, m, mb = self.mem(bits // 8, prot)
        s, _ = self.reg(bits, prot, dest=False)
        if self.rng.random() < 0.3:
            lines = pre + ["%s %s, 0x%x" % (op, m, self.imm(bits))]
        else:
            lines = pre + ["%s %s, %s" % (op, m, s)]
        if op in LOGIC:
            lines += self.fix()
        return lines, mb or set()

    def mov_rm(self, prot):
        bits = self.rng.choice([32, 16, 8])
        pre, m, mb = self.mem(bits // 8, prot)
        p2 = prot | (mb or set())
        d, db = self.reg(bits, p2)
        if self.rng.random() < 0.5:
            return pre + ["mov %s, %s" % (d, m)], {db} | (mb or set())
        return pre + ["mov %s, %s" % (m, d)], mb or set()

    def unary(self, prot):
        bits = self.rng.choice([32, 32, 16, 8])
        d, db = self.reg(bits, prot)
        return ["%s %s" % (self.rng.choice(["inc", "dec", "neg", "not"]), d)], {db}

    def unary_m(self, prot):
        bits = self.rng.choice([32, 16, 8])
        pre, m, mb = self.mem(bits // 8, prot)
        return pre + ["%s %s" % (self.rng.choice(["inc", "dec", "neg", "not"]), m)], mb or set()

    def shift(self, prot):
        d, db = self.reg(32, prot)
        op = self.rng.choice(SHIFTS)
        if self.rng.random() < 0.5:
            return ["%s %s, %d" % (op, d, self.rng.choice([1, 1, 2, 7, 31, self.rng.randrange(32)]))] + self.fix(), {db}
        if db == "ecx" or "ecx" in prot:
            return None
        return (["mov cl, %d" % self.rng.randrange(40), "%s %s, cl" % (op, d)] + self.fix(),
                {db, "ecx"})

    def shift_m(self, prot):
        pre, m, mb = self.mem(4, prot)
        op = self.rng.choice(SHIFTS)
        return pre + ["%s %s, %d" % (op, m, self.rng.randrange(32))] + self.fix(), mb or set()

    def imul(self, prot):
        r = self.rng
        k = r.randrange(4)
        if k == 0:
            d, db = self.reg(32, prot)
            s, _ = self.reg(32, prot, dest=False)
            return ["imul %s, %s" % (d, s)] + self.fix(), {db}
        if k == 1:
            d, db = self.reg(32, prot)
            s, _ = self.reg(32, prot, dest=False)
            return ["imul %s, %s, 0x%x" % (d, s, self.imm32())] + self.fix(), {db}
        if k == 2:
            pre, m, mb = self.mem(4, prot)
            d, db = self.reg(32, prot | (mb or set()))
            return pre + ["imul %s, %s" % (d, m)] + self.fix(), {db} | (mb or set())
        if "eax" in prot or "edx" in prot:
            return None
        s, _ = self.reg(32, prot, dest=False)
        return ["imul %s" % s] + self.fix(), {"eax", "edx"}

    def muldiv(self, prot):
        r = self.rng
        if "eax" in prot or "edx" in prot:
            return None
        k = r.randrange(4)
        cand = [x for x in DEST32 if x not in prot and x not in ("eax", "edx")]
        if not cand:
            return None
        s = r.choice(cand)
        if k == 0:
            return ["mul %s" % s] + self.fix(), {"eax", "edx"}
        if k == 1:       # DIV: EDX = 0 and a divisor >= 1: the quotient fits
            return ["xor edx, edx", "or %s, 1" % s, "div %s" % s] + self.fix(), {"eax", "edx", s}
        if k == 2:       # IDIV: EDX:EAX = EAX sign-extended, a divisor in 1..2^31-1
            return (["cdq", "or %s, 1" % s, "and %s, 0x7fffffff" % s, "idiv %s" % s] + self.fix(),
                    {"eax", "edx", s})
        if r.random() < 0.5:   # #DE on purpose: the kernel's handler skips the 2-byte DIV
            return ["mov %s, 0" % s, "div %s" % s] + self.fix(), {s}
        return ["mul %s" % s] + self.fix(), {"eax", "edx"}

    def lea(self, prot):
        d, db = self.reg(32, prot)
        a, _ = self.reg(32, prot, dest=False)
        b = self.rng.choice(["eax", "ecx", "edx", "ebx", "ebp", "esi", "edi"])
        return ["lea %s, [%s + %s * %d + %d]" % (d, a, b, self.rng.choice([1, 2, 4, 8]),
                                                   self.rng.randrange(-1000, 1000))], {db}

    def movx(self, prot):
        op = self.rng.choice(["movzx", "movsx"])
        bits = self.rng.choice([32, 16])
        if self.rng.random() < 0.3:
            pre, m, mb = self.mem(self.rng.choice([1, 2]) if bits == 32 else 1, prot)
            d, db = self.reg(bits, prot | (mb or set()))
            return pre + ["%s %s, %s" % (op, d, m)], {db} | (mb or set())
        sbits = self.rng.choice([8, 16]) if bits == 32 else 8
        d, db = self.reg(bits, prot)
        s, _ = self.reg(sbits, prot, dest=False)
        return ["%s %s, %s" % (op, d, s)], {db}

    def xchg(self, prot):
        bits = self.rng.choice([32, 16, 8])
        a, ab = self.reg(bits, prot)
        if self.rng.random() < 0.3:
            pre, m, mb = self.mem(bits // 8, prot | {ab})
            return pre + ["xchg %s, %s" % (m, a)], {ab} | (mb or set())
        b, bb = self.reg(bits, prot)
        return ["xchg %s, %s" % (a, b)], {ab, bb}

    def cmpxchg(self, prot):
        if "eax" in prot:
            return None
        bits = self.rng.choice([32, 16, 8])
        s, _ = self.reg(bits, prot, dest=False)
        if self.rng.random() < 0.5:
            pre, m, mb = self.mem(bits // 8, prot | {"eax"})
            return pre + ["cmpxchg %s, %s" % (m, s)], {"eax"} | (mb or set())
        d, db = self.reg(bits, prot)
        return ["cmpxchg %s, %s" % (d, s)], {"eax", db}

    def xadd(self, prot):
        bits = self.rng.choice([32, 16, 8])
        s, sb = self.reg(bits, prot)
        if self.rng.random() < 0.5:
            pre, m, mb = self.mem(bits // 8, prot | {sb})
            return pre + ["xadd %s, %s" % (m, s)], {sb} | (mb or set())
        d, db = self.reg(bits, prot)
        return ["xadd %s, %s" % (d, s)], {sb, db}

    def bswap(self, prot):
        d, db = self.reg(32, prot)
        return ["bswap %s" % d], {db}

    def bt(self, prot):
        op = self.rng.choice(["bt", "bts", "btr", "btc"])
        k = self.rng.randrange(3)
        if k == 0:
            d, db = self.reg(32, prot, dest=op != "bt")
            s, _ = self.reg(32, prot, dest=False)
            return ["%s %s, %s" % (op, d, s)] + self.fix(), {db}
        if k == 1:
            d, db = self.reg(32, prot, dest=op != "bt")
            return ["%s %s, %d" % (op, d, self.rng.randrange(32))] + self.fix(), {db}
        pre, m, mb = self.mem(4, prot)
        return pre + ["%s %s, %d" % (op, m, self.rng.randrange(32))] + self.fix(), mb or set()

    def setcc(self, prot):
        if self.rng.random() < 0.3:
            pre, m, mb = self.mem(1, prot)
            return pre + ["set%s %s" % (self.rng.choice(CC), m)], mb or set()
        d, db = self.reg(8, prot)
        return ["set%s %s" % (self.rng.choice(CC), d)], {db}

    def cmov(self, prot):
        bits = self.rng.choice([32, 16])
        if self.rng.random() < 0.3:
            pre, m, mb = self.mem(bits // 8, prot)
            d, db = self.reg(bits, prot | (mb or set()))
            return pre + ["cmov%s %s, %s" % (self.rng.choice(CC), d, m)], {db} | (mb or set())
        d, db = self.reg(bits, prot)
        s, _ = self.reg(bits, prot, dest=False)
        return ["cmov%s %s, %s" % (self.rng.choice(CC), d, s)], {db}

    def pushpop(self, prot):
        r = self.rng
        k = r.randrange(4)
        if k == 0:
            src = r.choice(R32)
        elif k == 1:
            src = "dword 0x%x" % self.imm32()
        elif k == 2:
            src = "byte %d" % r.randrange(-128, 128)
        else:
            pre, m, mb = self.mem(4, prot)
            d, db = self.reg(32, prot)
            return pre + ["push %s" % m, "pop %s" % d], {db} | (mb or set())
        if r.random() < 0.3:
            pre, m, mb = self.mem(4, prot)
            return pre + ["push %s" % src, "pop %s" % m], mb or set()
        d, db = self.reg(32, prot)
        return ["push %s" % src, "pop %s" % d], {db}

    # ---------------------------------------------------------------- the sensitive part
    def flags_insn(self, prot):
        r = self.rng
        k = r.randrange(4)
        d, db = self.reg(32, prot)
        if k == 0:
            return ["pushfd", "pop %s" % d], {db}
        if k == 1:      # POPF of random flags: IF and IOPL varied (the PIC is masked)
            v = (r.getrandbits(32) & FLAGS_MASK) | 2
            return ["push dword 0x%x" % v, "popfd"], set()
        if k == 2:
            return ["pushfd", "xor dword [esp], 0x%x" % (r.getrandbits(32) & FLAGS_MASK), "popfd"], set()
        return ["pushfd", "popfd"], set()

    def cli_sti(self, prot):
        return [self.rng.choice(["cli", "sti"])], set()

    def segread(self, prot):
        r = self.rng
        seg = r.choice(["cs", "ss", "ds", "es", "fs", "gs"])
        k = r.randrange(3)
        if k == 0:
            d, db = self.reg(16, prot)
            return ["mov %s, %s" % (d, seg)], {db}
        if k == 1:      # the 32-bit form: upper half as the CPU model writes it
            d, db = self.reg(32, prot)
            return ["mov %s, %s" % (d, seg)], {db}
        d, db = self.reg(32, prot)
        if seg in ("cs", "ss"):
            return ["push %s" % seg, "pop %s" % d], {db}
        return ["mov %s, %s" % (d, seg)], {db}

    def tables(self, prot):
        r = self.rng
        k = r.randrange(5)
        if k < 2:
            pre, m, mb = self.mem(6, prot)
            return pre + ["%s %s" % (["sgdt", "sidt"][k], m)], mb or set()
        op = ["sldt", "str", "smsw"][k - 2]
        bits = r.choice([16, 32])
        d, db = self.reg(bits, prot)
        if r.random() < 0.25:
            pre, m, mb = self.mem(2, prot)
            return pre + ["%s %s" % (op, m)], mb or set()
        return ["%s %s" % (op, d)], {db}

    def selector_insn(self, prot):
        r = self.rng
        op = r.choice(["lar", "lsl", "verr", "verw"])
        sel = r.choice([i * 8 for i in range(len(GDT))] + [len(GDT) * 8, 0x1F8, 0xFFF8]) | r.randrange(4)
        s, sb = self.reg(16, prot)
        lines = ["mov %s, 0x%x" % (s, sel)]
        if op in ("verr", "verw"):
            return lines + ["%s %s" % (op, s)], {sb}
        d, db = self.reg(r.choice([16, 32]), prot)
        return lines + ["%s %s, %s" % (op, d, s if d[0] != "e" else R32[R16.index(s)] if r.random() < 0.5 else s)], {sb, db}

    def ports(self, prot):
        if "eax" in prot:
            return None
        if self.rng.random() < 0.5:
            # bit 4: the refresh toggle, on the virtual clock: masked
            return ["in al, 0x61", "and al, 0xef"] + self.fix(), {"eax"}
        return ["out 0x80, al"], set()

    def cpuid(self, prot):
        if prot & {"eax", "ebx", "ecx", "edx"}:
            return None
        return ["mov eax, %d" % self.rng.randrange(2), "cpuid"], {"eax", "ebx", "ecx", "edx"}

    # ---------------------------------------------------------------- control flow
    def block(self, prot, n):
        lines, clob = [], set()
        for _ in range(n):
            ls, c = self.simple(prot)
            lines += ls
            clob |= c
        return lines, clob

    def sub(self, prot, ret_imm=0):
        lab = self.label()
        body, _ = self.block(prot, self.rng.randint(1, 4))
        self.subs.append((lab, body + (["ret %d" % ret_imm] if ret_imm else ["ret"])))
        return lab

    def control(self):
        r = self.rng
        k = r.randrange(10)
        if k == 0:      # forward Jcc / JMP, short or near
            lab = self.label()
            dist = r.choice(["short", "near"])
            j = r.choice(["j" + r.choice(CC)] * 3 + ["jmp"])
            body, _ = self.block(set(), r.randint(1, 2))
            return ["%s %s %s" % (j, dist, lab)] + body + [lab + ":"], 1 + len(body)
        if k == 1:      # a bounded backward loop: counter register, DEC, JNZ
            c = r.choice(DEST32)
            lab = self.label()
            body, _ = self.block({c}, r.randint(1, 3))
            j = r.choice(["jnz", "jnz short", "jnz near"])
            dec = r.choice(["dec %s" % c, "sub %s, 1" % c])
            return ["mov %s, %d" % (c, r.randint(1, 5)), lab + ":"] + body + [dec, "%s %s" % (j, lab)], 3 + len(body)
        if k == 2:      # LOOP
            lab = self.label()
            body, _ = self.block({"ecx"}, r.randint(1, 3))
            return ["mov ecx, %d" % r.randint(1, 5), lab + ":"] + body + ["loop %s" % lab], 2 + len(body)
        if k == 3:      # JECXZ over a block
            lab = self.label()
            pre = ["mov ecx, %d" % r.choice([0, 0, 1, 7])] if r.random() < 0.5 else []
            body, _ = self.block(set(), r.randint(1, 2))
            return pre + ["jecxz %s" % lab] + body + [lab + ":"], 1 + len(body)
        if k == 4:      # CALL a local subroutine
            return ["call %s" % self.sub(set())], 2
        if k == 5:      # CALL with 1-3 arguments, RET imm16
            n = r.randint(1, 3)
            lab = self.sub(set(), 4 * n)
            return ["push dword 0x%x" % self.imm32() for _ in range(n)] + ["call %s" % lab], 2 + n
        if k == 6:      # JMP through a register
            lab = self.label()
            x = r.choice(DEST32)
            dead, _ = self.block(set(), 1)
            return ["mov %s, %s" % (x, lab), "jmp %s" % x] + dead + [lab + ":"], 2
        if k == 7:      # CALL through a register
            x = r.choice(DEST32)
            lab = self.sub({x} if r.random() < 0.5 else set())
            return ["mov %s, %s" % (x, lab), "call %s" % x], 3
        if k == 8:      # CALL or JMP through a table in memory
            x = r.choice(DEST32)
            tab = self.label()
            if r.random() < 0.5:
                labs = [self.sub(set()) for _ in range(r.randint(1, 3))]
                self.rodata.append((tab, labs))
                i = r.randrange(len(labs))
                if r.random() < 0.5:
                    return ["mov %s, %d" % (x, i), "call [%s + %s * 4]" % (tab, x)], 3
                return ["call [%s + %d]" % (tab, 4 * i)], 3
            labs = [self.label() for _ in range(r.randint(1, 3))]
            self.rodata.append((tab, labs))
            i = r.randrange(len(labs))
            out = ["mov %s, %d" % (x, i), "jmp [%s + %s * 4]" % (tab, x)]
            end = self.label()
            for j, lab in enumerate(labs):       # each target runs a block, then on
                body, _ = self.block(set(), 1)
                out += [lab + ":"] + body + ["jmp %s" % end]
            return out + [end + ":"], 4
        # k == 9: REP MOVSB / STOSD / CMPSB on the buffer, DF either way
        op = r.choice(["rep movsb", "rep stosd", "repe cmpsb", "repne cmpsb", "rep movsd", "rep stosb"])
        size = 4 if op.endswith("d") else 1
        n = r.randint(0, 24)
        std = r.random() < 0.4
        span = n * size

        def ptr():
            if std:       # addresses go down: start at the last element
                return r.randrange(max(span - size, 0), BUF - size + 1)
            return r.randrange(0, BUF - span + 1)
        out = ["std" if std else "cld", "mov ecx, %d" % n, "mov edi, buf + %d" % ptr()]
        if "movs" in op or "cmps" in op:
            out.append("mov esi, buf + %d" % ptr())
        if "stos" in op and r.random() < 0.5:
            out.append("mov eax, 0x%x" % self.imm32())
        return out + [op], 2

    # ---------------------------------------------------------------- the sequence
    def build(self):
        r = self.rng
        regs = {x: self.imm32() for x in DEST32}
        flags = (r.getrandbits(32) & (0x8D5 | 0x400)) | 2       # CF PF AF ZF SF OF DF
        depth = 4 * r.randrange(16)
        out = ["seq%d:" % self.n,
               "mov [saved_esp], esp",
               "mov esp, stack_top - %d" % depth,
               "mov dword [stack_base], stack_top - %d" % depth,
               "push dword 0x%x" % flags,
               "popfd"]
        out += ["mov %s, 0x%x" % (x, v) for x, v in regs.items()]
        count, target = 0, r.randint(20, 40)
        while count < target:
            if r.random() < 0.25:
                ls, c = self.control()
                out += ls
                count += c
            else:
                ls, _ = self.simple(set())
                out += ls
                count += 1
        end = self.label()
        out += ["jmp %s" % end]
        for lab, body in self.subs:
            out += [lab + ":"] + body
        out += [end + ":", "jmp seq_end"]
        return out


HEADER = """\
; generated by tests/guests/bt_random.py %(seed)d %(count)d%(flag)s: do not edit
; (the generator's docstring says what this kernel does)
bits 32
extern serial_puts, serial_putc, serial_hex32, exit_pass, exit_fail

KCODE equ 0x%(kcode)02x
KDATA equ 0x%(kdata)02x

section .text
global main
main:
        mov al, 0xff              ; mask both PICs: no interrupt, even under STI
        out 0x21, al
        out 0xa1, al
        ; the LDT and TSS descriptors' bases, then LGDT and the segments
        mov eax, ldt
        mov [gdt + 0x18 + 2], ax
        shr eax, 16
        mov [gdt + 0x18 + 4], al
        mov [gdt + 0x18 + 7], ah
        mov eax, tss
        mov [gdt + 0x20 + 2], ax
        shr eax, 16
        mov [gdt + 0x20 + 4], al
        mov [gdt + 0x20 + 7], ah
        lgdt [gdt_ptr]
        jmp KCODE:.cs
.cs:    mov ax, KDATA
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov ax, 0x18
        lldt ax
        mov ax, 0x20
        ltr ax
        ; the IDT: 32 interrupt gates, vector 0 the #DE handler
        xor ecx, ecx
.gate:  mov eax, [isr_table + ecx * 4]
        mov edx, eax
        and eax, 0xffff
        or eax, KCODE << 16
        mov [idt + ecx * 8], eax
        and edx, 0xffff0000
        or edx, 0x8e00
        mov [idt + ecx * 8 + 4], edx
        inc ecx
        cmp ecx, 32
        jb .gate
        lidt [idt_ptr]
        mov dword [seq_no], 0
.next:  mov eax, [seq_no]
        cmp eax, %(count)d
        jae .done
        call init_buf
        call [seq_table + eax * 4]
        call dump
        inc dword [seq_no]
        jmp .next
.done:  mov esi, msg_done
        call serial_puts
        jmp exit_pass

; seq_end: where every sequence ends: its registers and flags saved, the
; kernel's stack back.
seq_end:
        pushfd
        pop dword [r_flags]
        mov [r_regs + 0], eax
        mov [r_regs + 4], ecx
        mov [r_regs + 8], edx
        mov [r_regs + 12], ebx
        mov [r_regs + 16], esp
        mov [r_regs + 20], ebp
        mov [r_regs + 24], esi
        mov [r_regs + 28], edi
        mov esp, [saved_esp]
        mov ax, KDATA             ; in case (nothing writes them)
        mov ds, ax
        cld
        ret

; init_buf: EAX = the sequence number; fills buf from an LCG it seeds.
init_buf:
        pushad
        imul eax, eax, 0x9e3779b9
        xor ecx, ecx
.fill:  imul eax, eax, 1103515245
        add eax, 12345
        mov edx, eax
        shr edx, 7
        xor edx, eax
        mov [buf + ecx * 4], edx
        inc ecx
        cmp ecx, 64
        jb .fill
        popad
        ret

; dump: "sNNN a=.. c=.. d=.. b=.. sp=.. bp=.. si=.. di=.. f=.. sum=.. de=.."
dump:
        pushad
        mov al, 's'
        call serial_putc
        mov eax, [seq_no]
        call serial_hex32
        xor ebx, ebx
.reg:   mov esi, [reg_names + ebx * 4]
        call serial_puts
        mov eax, [r_regs + ebx * 4]
        cmp ebx, 4
        jne .put
        sub eax, [stack_base]     ; ESP as its offset from where it started
.put:   call serial_hex32
        inc ebx
        cmp ebx, 8
        jb .reg
        mov esi, msg_f
        call serial_puts
        mov eax, [r_flags]
        and eax, 0x%(fmask)x
        call serial_hex32
        mov esi, msg_sum
        call serial_puts
        xor eax, eax
        xor ecx, ecx
.sum:   rol eax, 5
        add eax, [buf + ecx * 4]
        xor eax, ecx
        inc ecx
        cmp ecx, 64
        jb .sum
        call serial_hex32
        mov esi, msg_de
        call serial_puts
        mov eax, [de_count]
        call serial_hex32
        mov esi, newline
        call serial_puts
        popad
        ret

; #DE: count it and skip the 2-byte DIV r32 that faulted (the only
; instruction that divides by zero here).
isr0:   add dword [esp], 2
        inc dword [ss:de_count]
        iret
; anything else: a line, then exit_fail
isr_other:
        mov esi, msg_unexpected
        call serial_puts
        mov eax, [esp]
        call serial_hex32
        mov esi, newline
        call serial_puts
        jmp exit_fail

"""

TRAILER = """\
section .rodata
isr_table:  dd isr0
            times 31 dd isr_other
reg_names:  dd n_a, n_c, n_d, n_b, n_sp, n_bp, n_si, n_di
n_a:  db " a=", 0
n_c:  db " c=", 0
n_d:  db " d=", 0
n_b:  db " b=", 0
n_sp: db " sp=", 0
n_bp: db " bp=", 0
n_si: db " si=", 0
n_di: db " di=", 0
msg_f:   db " f=", 0
msg_sum: db " sum=", 0
msg_de:  db " de=", 0
msg_done: db "bt_random: done", 10, 0
msg_unexpected: db "FAIL unexpected exception (error code or EIP) 0x", 0
newline: db 10, 0

section .data
align 8
gdt:
%(gdt)s
gdt_ptr: dw %(gdt_limit)d
         dd gdt
idt_ptr: dw 32 * 8 - 1
         dd idt
ldt:     dq 0, 0x00CF92000000FFFF    ; an LDT of two entries, for SLDT's sake
tss:     times 104 db 0

section .bss
alignb 16
buf:        resb %(buf)d
stack:      resb 4096
stack_top:
idt:        resb 32 * 8
saved_esp:  resd 1
stack_base: resd 1
seq_no:     resd 1
de_count:   resd 1
r_flags:    resd 1
r_regs:     resd 8
"""


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    flags = [a for a in sys.argv[1:] if a.startswith("--")]
    if len(args) != 2 or any(f != "--no-sensitive" for f in flags):
        sys.exit("usage: bt_random.py SEED COUNT [--no-sensitive]")
    seed, count = int(args[0]), int(args[1])
    sensitive = "--no-sensitive" not in flags
    rng = random.Random(seed * 2 + (0 if sensitive else 1))
    out = [HEADER % {"seed": seed, "count": count, "flag": "" if sensitive else " --no-sensitive",
                     "kcode": KCODE, "kdata": KDATA, "fmask": FLAGS_MASK}]
    rodata = []
    for n in range(count):
        s = Seq(rng, n, sensitive)
        out.append("\n".join(("        " + x) if not x.endswith(":") else x for x in s.build()) + "\n\n")
        rodata += s.rodata
    out.append(TRAILER % {
        "gdt": "\n".join("        dq %s    ; 0x%02x %s" % (d, 8 * i, name) for i, (name, d) in enumerate(GDT)),
        "gdt_limit": GDT_LIMIT, "buf": BUF})
    out.append("section .rodata\nalign 4\nseq_table:\n")
    out.append("".join("        dd seq%d\n" % n for n in range(count)))
    for tab, labs in rodata:
        out.append("%s: dd %s\n" % (tab, ", ".join(labs)))
    sys.stdout.write("".join(out))


if __name__ == "__main__":
    main()
