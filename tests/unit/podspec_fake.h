/* podspec_fake: what the podspec/volumes tests share — a fetch callback
 * over an in-memory "resource/ns/name" -> object table, and J() to write
 * JSON inline, slurp() to read a file. Included by one test file each
 * (everything static). */
#ifndef CN_PODSPEC_FAKE_H
#define CN_PODSPEC_FAKE_H

#include <errno.h>
#include <stdio.h>
#include <jansson.h>
#include "lib/err.h"

#include <stdlib.h>
#include "lib/util.h"

#define FAKE_UNUSED __attribute__((unused))

static json_t *db;           /* "resource/ns/name" -> object */

/* The first 16 KiB of a file, malloc'd, or NULL. */
static FAKE_UNUSED char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return cn_strdup(buf);
}

static FAKE_UNUSED int fake_fetch(void *ud, const char *resource, const char *ns, const char *name,
                      json_t **out, cn_err *err)
{
    char key[512];
    (void)ud;
    snprintf(key, sizeof key, "%s/%s/%s", resource, ns ? ns : "", name);
    json_t *o = json_object_get(db, key);
    if (!o) {
        cn_err_set(err, 404, "NotFound", "%s \"%s\" not found", resource, name);
        return -ENOENT;
    }
    *out = json_incref(o);
    return 0;
}

static FAKE_UNUSED json_t *J(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j) fprintf(stderr, "bad test JSON: %s: %s\n", e.text, text);
    return j;
}

#endif
