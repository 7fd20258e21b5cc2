/* yamlemit: JSON values written as block-style YAML, the way kubectl's
 * `-o yaml` prints objects (maps as "key: value", lists as "- item" at the
 * key's indentation). Strings that YAML would read back as something else
 * (numbers, booleans, null, empty, or holding syntax characters) are
 * double-quoted in JSON syntax, which is also valid YAML, so the output
 * parses back (lib/yaml.h) to the same value. */
#ifndef CN_YAMLEMIT_H
#define CN_YAMLEMIT_H

#include <jansson.h>
#include "lib/util.h"

/* Append v as a YAML document (no "---"; ends with a newline). */
void cn_yaml_emit(cn_buf *out, const json_t *v);

#endif
