# guests/guests.mk - included by the top Makefile: the test and benchmark
# guest kernels, built from source into $(BUILD)/guests/.
#
#   $(BUILD)/guests/NAME.elf   Multiboot v1 kernels (-kernel): hello, pmode,
#                              compute, exit0, spin, ...; each links with lib.asm
#   $(BUILD)/guests/NAME.img   1.44 MB boot floppies for Bochs (-fda):
#                              compute, exit0 (from NAME_floppy.asm)
#
# Needs nasm and a binutils ld that can write elf_i386; a missing one is named.

GUEST_KERNELS = hello pmode paging compute exit0 pagebench timer timerbench rtc ioloop ide vga_text smc syscall fidelity hostile nanobench spin smc_bt
GUEST_FLOPPIES = compute exit0 boot_hello boot_loader boot_kbd floppy_odd sercon
GUEST_ELFS = $(GUEST_KERNELS:%=$(BUILD)/guests/%.elf)
# boot.img: the name the PC board issue gives the boot-sector hello (a copy of boot_hello.img).
GUEST_IMGS = $(GUEST_FLOPPIES:%=$(BUILD)/guests/%.img) $(BUILD)/guests/boot.img
# -bios ROM images (flat, 64 KiB, reset vector at offset FFF0): NAME.rom
GUEST_ROMS = $(BUILD)/guests/realmode_bios.rom $(BUILD)/guests/realmode.rom $(BUILD)/guests/ioloop_bios.rom

NASM ?= nasm
GUEST_LD ?= ld
# Kernels are one RWX load segment by design; newer ld warns about it.
GUEST_LDFLAGS = -m elf_i386 -T guests/link.ld \
    $(shell $(GUEST_LD) --help 2>/dev/null | grep -q no-warn-rwx-segments && echo --no-warn-rwx-segments)

.PHONY: guests guest-tools
guests: $(GUEST_ELFS) $(GUEST_IMGS) $(GUEST_ROMS)

guest-tools:
	@command -v $(NASM) >/dev/null 2>&1 || { echo "trapeze: nasm not found: the guests are written for it (apt-get install nasm, or make deps)" >&2; exit 1; }
	@$(GUEST_LD) -V 2>/dev/null | grep -q elf_i386 || { echo "trapeze: $(GUEST_LD) cannot link elf_i386 guests (apt-get install binutils, or make deps)" >&2; exit 1; }

# The %include files, by hand: nasm 2.16.01's -MD leaves them out.
GUEST_INCLUDES = guests/common.inc guests/checks.inc guests/gdt.inc guests/irq.inc guests/idt.inc guests/paging.inc guests/print.inc
$(BUILD)/guests/compute.o $(BUILD)/guests/compute.img: guests/compute_loop.inc
$(BUILD)/guests/boot_kbd.img: guests/boot_loader_floppy.asm

$(BUILD)/guests/boot.img: $(BUILD)/guests/boot_hello.img
	$(call say,CP,$@)
	$(Q)cp $< $@

$(BUILD)/guests/%.o: guests/%.asm $(GUEST_INCLUDES) | guest-tools
	$(call say,NASM,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(NASM) -f elf32 -I. -o $@ $<

$(BUILD)/guests/%.elf: $(BUILD)/guests/%.o $(BUILD)/guests/lib.o guests/link.ld
	$(call say,LD,$@)
	$(Q)$(GUEST_LD) $(GUEST_LDFLAGS) -o $@ $< $(BUILD)/guests/lib.o

$(BUILD)/guests/%.img: guests/%_floppy.asm $(GUEST_INCLUDES) | guest-tools
	$(call say,NASM,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(NASM) -f bin -I. -o $@ $<

$(BUILD)/guests/%.rom: guests/%.asm $(GUEST_INCLUDES) | guest-tools
	$(call say,NASM,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(NASM) -f bin -I. -o $@ $<

# Keep the objects: they are what a debugger's symbol-file wants.
.SECONDARY: $(GUEST_KERNELS:%=$(BUILD)/guests/%.o) $(BUILD)/guests/lib.o
