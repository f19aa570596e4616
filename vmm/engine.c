/*
 * engine.c - the table of engines and the generic create/destroy.
 *
 * Every engine named in DESIGN.md has a row here (emu, tae, bt, kvm);
 * a name not in the table is refused with one line listing them.
 */
#include "vmm/engine.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

extern const struct engine_ops engine_emu_ops;   /* vmm/engine_emu.c */
extern const struct engine_ops engine_kvm_ops;   /* vmm/engine_kvm.c */
extern const struct engine_ops engine_tae_ops;   /* vmm/engine_tae.c */
extern const struct engine_ops engine_bt_ops;    /* vmm/engine_tae.c, vmm/bt_vmm.c */
/* Open /dev/kvm: the fd, or -errno after one line saying why and what to try. */
extern int kvm_open_device(bool quiet);

static const struct engine_row {
    const char *name;
    const struct engine_ops *ops;
} engine_table[] = {
    { "emu", &engine_emu_ops },
    { "tae", &engine_tae_ops },
    { "bt",  &engine_bt_ops },
    { "kvm", &engine_kvm_ops },
};

#define ENGINE_COUNT (sizeof engine_table / sizeof engine_table[0])

static const struct engine_row *engine_row_find(const char *name)
{
    for (size_t i = 0; i < ENGINE_COUNT; i++)
        if (strcmp(engine_table[i].name, name) == 0)
            return &engine_table[i];
    return NULL;
}

bool engine_known(const char *name)
{
    return engine_row_find(name) != NULL;
}

int engine_available(const char *name)
{
    const struct engine_row *row = engine_row_find(name);

    if (!row) {
        fprintf(stderr, "trapeze: -engine %s: unknown engine (use emu, tae, bt or kvm)\n", name);
        return -EINVAL;
    }
    if (row->ops == &engine_kvm_ops) {
        /* No KVM, or no permission: said here, before any image is read. */
        int fd = kvm_open_device(false);
        if (fd < 0) return fd;
        close(fd);
        return 0;
    }
    return 0;
}

struct engine_options engine_default_options(void)
{
    return (struct engine_options){ .kvm_fallback = true };
}

int engine_create(struct engine *e, const char *name, struct machine *m)
{
    struct engine_options defaults = engine_default_options();
    return engine_create_with(e, name, m, &defaults);
}

int engine_create_with(struct engine *e, const char *name, struct machine *m,
                       const struct engine_options *options)
{
    memset(e, 0, sizeof *e);
    int err = engine_available(name);
    if (err < 0)
        return err;
    const struct engine_row *row = engine_row_find(name);
    e->ops = row->ops;
    e->machine = m;
    e->options = *options;
    err = e->ops->create(e, m);
    if (err < 0)
        e->ops = NULL;
    return err;
}

void engine_destroy(struct engine *e)
{
    if (e->ops)
        e->ops->destroy(e);
    e->ops = NULL;
    e->priv = NULL;
}
