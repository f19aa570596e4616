/*
 * fdc_absent.c - the floppy controller that is not there (see fdc_absent.h).
 */
#include "devices/fdc_absent.h"

#include <stdio.h>

#include "base/log.h"

static void fdc_absent_warn(struct fdc_absent *f, uint16_t port, bool write)
{
    if (!LOG_ON(LOG_UNIMP) || f->warned) return;
    f->warned = true;
    log_printf("unimp: the guest %s the floppy controller (port 0x%03X): there is no "
               "floppy controller model (floppy images are served through BIOS int 13h only); "
               "its ports read as absent\n", write ? "programs" : "reads", port);
}

static uint32_t fdc_absent_low_read(void *opaque, uint32_t offset, unsigned size)
{
    fdc_absent_warn(opaque, (uint16_t)(FDC_BASE + offset), false);
    return 0xFFFFFFFFu;
}

static void fdc_absent_low_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    fdc_absent_warn(opaque, (uint16_t)(FDC_BASE + offset), true);
}

static uint32_t fdc_absent_dir_read(void *opaque, uint32_t offset, unsigned size)
{
    fdc_absent_warn(opaque, FDC_DIR, false);
    return 0xFFFFFFFFu;
}

static void fdc_absent_dir_write(void *opaque, uint32_t offset, uint32_t value, unsigned size)
{
    fdc_absent_warn(opaque, FDC_DIR, true);
}

const struct io_ops fdc_absent_low_ops = { .read = fdc_absent_low_read, .write = fdc_absent_low_write };
const struct io_ops fdc_absent_dir_ops = { .read = fdc_absent_dir_read, .write = fdc_absent_dir_write };
