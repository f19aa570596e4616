/*
 * gdb_target.c - the GDB stub's target description (target.xml), read by
 * gdb with qXfer:features:read (gdb_commands.c).
 */
#include "monitor/gdb_private.h"

#include <stdio.h>

/*
 * target.xml (gdb manual, "Target Descriptions" and "i386 Features").  gdb
 * accepts an org.gnu.gdb.i386.core feature only with all of its registers,
 * the x87 ones (st0-st7, fctrl..fop) included; without them it says
 * "Architecture rejected target-supplied description" and refuses `set
 * architecture`.  They are described, left out of the g packet, and read
 * as unavailable ('x', cmd_read_register): there is no FPU.  The
 * <architecture> is filled in when gdb reads the document (on connecting,
 * guest stopped): i8086 in real or virtual-8086 mode, else i386, so gdb
 * disassembles the code it starts in right.  gdb 13 lets `set architecture
 * i386` override a target's i8086 but not `set architecture i8086` a
 * target's i386, hence the choice by mode.  <osabi>none: a bare machine
 * (without it gdb warns that its default GNU/Linux ABI has no i8086 handler).
 */
static const char gdb_target_xml_head[] =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
    "<target version=\"1.0\">\n";
static const char gdb_target_xml_body[] =
    "  <osabi>none</osabi>\n"
    "  <feature name=\"org.gnu.gdb.i386.core\">\n"
    "    <flags id=\"i386_eflags\" size=\"4\">\n"
    "      <field name=\"CF\" start=\"0\" end=\"0\"/>\n"
    "      <field name=\"\" start=\"1\" end=\"1\"/>\n"
    "      <field name=\"PF\" start=\"2\" end=\"2\"/>\n"
    "      <field name=\"AF\" start=\"4\" end=\"4\"/>\n"
    "      <field name=\"ZF\" start=\"6\" end=\"6\"/>\n"
    "      <field name=\"SF\" start=\"7\" end=\"7\"/>\n"
    "      <field name=\"TF\" start=\"8\" end=\"8\"/>\n"
    "      <field name=\"IF\" start=\"9\" end=\"9\"/>\n"
    "      <field name=\"DF\" start=\"10\" end=\"10\"/>\n"
    "      <field name=\"OF\" start=\"11\" end=\"11\"/>\n"
    "      <field name=\"NT\" start=\"14\" end=\"14\"/>\n"
    "      <field name=\"RF\" start=\"16\" end=\"16\"/>\n"
    "      <field name=\"VM\" start=\"17\" end=\"17\"/>\n"
    "      <field name=\"AC\" start=\"18\" end=\"18\"/>\n"
    "      <field name=\"VIF\" start=\"19\" end=\"19\"/>\n"
    "      <field name=\"VIP\" start=\"20\" end=\"20\"/>\n"
    "      <field name=\"ID\" start=\"21\" end=\"21\"/>\n"
    "    </flags>\n"
    "    <reg name=\"eax\" bitsize=\"32\" type=\"int32\" regnum=\"0\"/>\n"
    "    <reg name=\"ecx\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"edx\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"ebx\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"esp\" bitsize=\"32\" type=\"data_ptr\"/>\n"
    "    <reg name=\"ebp\" bitsize=\"32\" type=\"data_ptr\"/>\n"
    "    <reg name=\"esi\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"edi\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"eip\" bitsize=\"32\" type=\"code_ptr\"/>\n"
    "    <reg name=\"eflags\" bitsize=\"32\" type=\"i386_eflags\"/>\n"
    "    <reg name=\"cs\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"ss\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"ds\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"es\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"fs\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"gs\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "    <reg name=\"st1\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "    <reg name=\"st2\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "    <reg name=\"st3\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "    <reg name=\"st4\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "    <reg name=\"st5\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "    <reg name=\"st6\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "    <reg name=\"st7\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "    <reg name=\"fctrl\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "    <reg name=\"fstat\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "    <reg name=\"ftag\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "    <reg name=\"fiseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "    <reg name=\"fioff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "    <reg name=\"foseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "    <reg name=\"fooff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "    <reg name=\"fop\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    /* CR0 and CR4 bits: SDM Vol. 3A 2.5 (mmu/control_regs.h). */
    "    <flags id=\"i386_cr0\" size=\"4\">\n"
    "      <field name=\"PE\" start=\"0\" end=\"0\"/>\n"
    "      <field name=\"MP\" start=\"1\" end=\"1\"/>\n"
    "      <field name=\"EM\" start=\"2\" end=\"2\"/>\n"
    "      <field name=\"TS\" start=\"3\" end=\"3\"/>\n"
    "      <field name=\"ET\" start=\"4\" end=\"4\"/>\n"
    "      <field name=\"NE\" start=\"5\" end=\"5\"/>\n"
    "      <field name=\"WP\" start=\"16\" end=\"16\"/>\n"
    "      <field name=\"AM\" start=\"18\" end=\"18\"/>\n"
    "      <field name=\"NW\" start=\"29\" end=\"29\"/>\n"
    "      <field name=\"CD\" start=\"30\" end=\"30\"/>\n"
    "      <field name=\"PG\" start=\"31\" end=\"31\"/>\n"
    "    </flags>\n"
    "    <flags id=\"i386_cr4\" size=\"4\">\n"
    "      <field name=\"VME\" start=\"0\" end=\"0\"/>\n"
    "      <field name=\"PVI\" start=\"1\" end=\"1\"/>\n"
    "      <field name=\"TSD\" start=\"2\" end=\"2\"/>\n"
    "      <field name=\"DE\" start=\"3\" end=\"3\"/>\n"
    "      <field name=\"PSE\" start=\"4\" end=\"4\"/>\n"
    "      <field name=\"PAE\" start=\"5\" end=\"5\"/>\n"
    "      <field name=\"MCE\" start=\"6\" end=\"6\"/>\n"
    "      <field name=\"PGE\" start=\"7\" end=\"7\"/>\n"
    "    </flags>\n"
    "    <reg name=\"cr0\" bitsize=\"32\" type=\"i386_cr0\" regnum=\"32\"/>\n"
    "    <reg name=\"cr2\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"cr3\" bitsize=\"32\" type=\"int32\"/>\n"
    "    <reg name=\"cr4\" bitsize=\"32\" type=\"i386_cr4\"/>\n"
    "  </feature>\n"
    "</target>\n";

size_t gdb_target_xml(char *buf, size_t size, bool code16)
{
    int n = snprintf(buf, size, "%s  <architecture>%s</architecture>\n%s", gdb_target_xml_head,
                     code16 ? "i8086" : "i386", gdb_target_xml_body);
    return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}
