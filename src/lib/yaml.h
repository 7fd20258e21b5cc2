/* yaml: YAML (1.1 as libyaml reads it, the subset Kubernetes manifests use)
 * to jansson values. Multi-document streams give several values. Scalars
 * follow Kubernetes' YAML->JSON rules: plain true/false/null/numbers are
 * typed, quoted scalars stay strings. Anchors/aliases are refused (billion
 * laughs), depth and size are bounded. */
#ifndef CN_YAML_H
#define CN_YAML_H

#include <stddef.h>
#include <jansson.h>
#include "lib/err.h"

/* Parse one document (the first; an empty stream gives JSON null). */
int cn_yaml_parse(const char *text, size_t len, json_t **out, cn_err *err);
/* Parse every document into a new JSON array. */
int cn_yaml_parse_all(const char *text, size_t len, json_t **out, cn_err *err);

#endif
