/* selector: label selectors and field selectors as they appear in
 * ?labelSelector= and ?fieldSelector=, and label selectors given as
 * metav1.LabelSelector objects (matchLabels / matchExpressions).
 * Parsing is strict and bounded; errors are 400 BadRequest. */
#ifndef CN_SELECTOR_H
#define CN_SELECTOR_H

#include <stdbool.h>
#include <jansson.h>
#include "lib/err.h"

typedef struct cn_selector cn_selector;   /* label selector */

/* "a=b,c!=d,e in (x,y),f notin (z),g,!h"; empty string selects everything. */
int cn_selector_parse(const char *text, cn_selector **out, cn_err *err);
/* From a metav1.LabelSelector JSON object (NULL or {} selects everything). */
int cn_selector_from_json(const json_t *sel, cn_selector **out, cn_err *err);
/* labels: a JSON object of string->string, or NULL (no labels). */
bool cn_selector_matches(const cn_selector *s, const json_t *labels);
bool cn_selector_empty(const cn_selector *s);
/* Canonical text form ("app=web,tier in (a,b)"); caller frees. */
char *cn_selector_string(const cn_selector *s);
void cn_selector_free(cn_selector *s);

typedef struct cn_fieldsel cn_fieldsel;   /* field selector */

/* "metadata.name=x,spec.nodeName!=y" (=, ==, !=; values may use \ escapes).
 * `allowed` is a NULL-terminated list of field names the resource supports
 * (metadata.name and metadata.namespace are always allowed); an unknown
 * field is 400 BadRequest 'field label not supported: X'. */
int cn_fieldsel_parse(const char *text, const char *const *allowed,
                      cn_fieldsel **out, cn_err *err);
/* Evaluate against an object: each field is looked up by its dotted JSON
 * path in obj (missing = ""). */
bool cn_fieldsel_matches(const cn_fieldsel *s, const json_t *obj);
/* If the selector pins metadata.name (or metadata.namespace) with "=",
 * return that value (borrowed), else NULL. Lets lists narrow the scan. */
const char *cn_fieldsel_exact(const cn_fieldsel *s, const char *field);
void cn_fieldsel_free(cn_fieldsel *s);

#endif
