/* admission: an ordered list of plugins per phase. */
#include "api/admission.h"

#include <stdlib.h>

#include "lib/util.h"

struct plugin {
    bool mutating;
    char *name;
    cn_admit_fn fn;
    void *ud;
};

struct cn_admission {
    struct plugin *items;
    size_t n;
};

cn_admission *cn_admission_new(void) { return cn_calloc(1, sizeof(cn_admission)); }

void cn_admission_free(cn_admission *ch)
{
    if (!ch) return;
    for (size_t i = 0; i < ch->n; i++) free(ch->items[i].name);
    free(ch->items);
    free(ch);
}

void cn_admission_add(cn_admission *ch, bool mutating, const char *name, cn_admit_fn fn, void *ud)
{
    ch->items = cn_realloc(ch->items, (ch->n + 1) * sizeof *ch->items);
    ch->items[ch->n++] = (struct plugin){ mutating, cn_strdup(name), fn, ud };
}

static int run(cn_admission *ch, bool mutating, const cn_admit_attrs *a, json_t *obj, cn_err *err)
{
    for (size_t i = 0; ch && i < ch->n; i++) {
        if (ch->items[i].mutating != mutating) continue;
        int r = ch->items[i].fn(ch->items[i].ud, a, obj, err);
        if (r < 0) return r;
    }
    return 0;
}

int cn_admission_mutate(cn_admission *ch, const cn_admit_attrs *a, json_t *obj, cn_err *err)
{
    return run(ch, true, a, obj, err);
}

int cn_admission_validate(cn_admission *ch, const cn_admit_attrs *a, json_t *obj, cn_err *err)
{
    return run(ch, false, a, obj, err);
}
