/* jsonpath: the subset of Kubernetes JSONPath that CRD
 * additionalPrinterColumns (and kubectl-style templates) use:
 *
 *   .spec.replicas            .metadata.labels.app       $.a.b
 *   .spec.items[0].name       .spec.items[-1]            .spec.items[1:3]
 *   .spec.items[*].name       .metadata['kubernetes.io/x'] .a[0,2]
 *   ..name                    .status.conditions[?(@.type=="Ready")].status
 *   filters: @.path, @.path == lit, != < <= > >=; lit is "str", 'str',
 *   a number, true/false/null.
 *
 * An optional surrounding "{...}" is accepted. Missing keys yield no
 * result, not an error (kube's AllowMissingKeys). Parsing is bounded
 * (expression length, step count, filter nesting) and evaluation caps the
 * number of intermediate results. */
#ifndef CN_JSONPATH_H
#define CN_JSONPATH_H

#include <stddef.h>
#include <jansson.h>

#define CN_JSONPATH_MAX_LEN 1024
#define CN_JSONPATH_MAX_STEPS 64
#define CN_JSONPATH_MAX_RESULTS 4096

typedef struct cn_jsonpath cn_jsonpath;

/* Compile expr; *out owned by the caller (cn_jsonpath_free). -EINVAL on a
 * syntax error or an expression over the limits. */
int cn_jsonpath_parse(const char *expr, cn_jsonpath **out);
void cn_jsonpath_free(cn_jsonpath *p);

/* All matches, in document order, as a new JSON array (holding references
 * to the values in root). Never NULL. */
json_t *cn_jsonpath_eval(const cn_jsonpath *p, const json_t *root);
/* First match, borrowed from root, or NULL. */
const json_t *cn_jsonpath_first(const cn_jsonpath *p, const json_t *root);

#endif
