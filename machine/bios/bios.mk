# machine/bios/bios.mk - included by the top Makefile: the BIOS ROM.
#
#   machine/bios/bios.asm --nasm--> $(BUILD)/machine/bios/bios.bin (64 KiB)
#       --bin2c.sh--> $(BUILD)/machine/bios/bios_rom.c --cc--> bios_rom.o
# bios_rom.o is part of LIB_OBJS (the top Makefile), so trapeze and the
# unit tests carry the ROM; nothing is read from disk at run time.

$(BUILD)/machine/bios/bios.bin: machine/bios/bios.asm | guest-tools
	$(call say,NASM,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(NASM) -f bin -o $@ $<

$(BUILD)/machine/bios/bios_rom.c: $(BUILD)/machine/bios/bios.bin machine/bios/bin2c.sh
	$(call say,GEN,$@)
	$(Q)sh machine/bios/bin2c.sh $< > $@.tmp && mv $@.tmp $@

$(BUILD)/machine/bios/bios_rom.o: $(BUILD)/machine/bios/bios_rom.c machine/bios/bios.h
	$(call say,CC,$<)
	$(Q)$(CC) $(CFLAGS) $(SANITIZE) -c $< -o $@
