/* table: server-side printing (meta.k8s.io/v1 Table) with the columns
 * upstream shows for each built-in kind, and a CRD's
 * additionalPrinterColumns (JSONPath) for custom resources. */
#ifndef CN_TABLE_H
#define CN_TABLE_H

#include <stdint.h>
#include <jansson.h>
#include "api/resource.h"

/* columnDefinitions array for the resource (new reference). */
json_t *cn_table_columns(const cn_resource *res);
/* One row's cells (new reference), matching cn_table_columns, for obj.
 * now = seconds since the epoch, for the Age column. */
json_t *cn_table_cells(const cn_resource *res, const json_t *obj, int64_t now);
/* Short human duration as kubectl prints it: "5s", "3m12s", "5h", "2d3h", "4y". */
void cn_human_duration(int64_t seconds, char out[32]);

#endif
