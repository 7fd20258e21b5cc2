/* quantity: Kubernetes resource quantities (see quantity.c). */
#ifndef CN_QUANTITY_H
#define CN_QUANTITY_H

#include <stdint.h>

/* "1.5Gi" -> nano-units (value x 1e9), rounded up; -EINVAL if malformed,
 * -ERANGE beyond ~1e21 units. */
int cn_quantity_parse(const char *s, __int128 *nano);
/* The same in milli-units (cpu) or whole units (memory, counts), rounded
 * up as upstream's MilliValue()/Value(); -ERANGE beyond int64. */
int cn_quantity_milli(const char *s, int64_t *milli);
int cn_quantity_value(const char *s, int64_t *value);

#endif
