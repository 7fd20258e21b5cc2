/* validate: defaulting and validation of objects, the way upstream does for
 * the fields users touch. Built-in kinds are checked by hand-written rules;
 * custom resources against their CRD's structural schema (openAPIV3Schema).
 *
 * Validation failures are 422 Invalid with details.causes[] (reason
 * FieldValueInvalid / FieldValueRequired / FieldValueNotSupported /
 * FieldValueDuplicate, field path like "spec.containers[0].name"), and
 * details.kind = Kind, details.name = name. */
#ifndef CN_VALIDATE_H
#define CN_VALIDATE_H

#include <stdbool.h>
#include <jansson.h>
#include "lib/err.h"
#include "api/resource.h"

/* Apply defaults in place (e.g. Secret.type=Opaque, Service.spec.type,
 * container imagePullPolicy/terminationMessagePath, Deployment strategy,
 * replicas=1, restartPolicy=Always). */
void cn_defaults_apply(const cn_resource *res, json_t *obj);

/* Validate obj (old: the stored object on update, NULL on create). */
int cn_validate(const cn_resource *res, const json_t *obj, const json_t *old, cn_err *err);

/* DNS-1123 label / subdomain and label key/value syntax checks, shared with
 * other modules. Return NULL when valid, else a static message. */
const char *cn_check_dns1123_label(const char *s);
const char *cn_check_dns1123_subdomain(const char *s);
const char *cn_check_label_key(const char *s);
const char *cn_check_label_value(const char *s);

/* Strict field validation: collect the paths of fields the kind does not
 * know (built-ins: the schema table; custom: the CRD schema, unless
 * x-kubernetes-preserve-unknown-fields). *unknown is a new array of path
 * strings like "spec.replicass" (empty array when all is known). */
int cn_unknown_fields(const cn_resource *res, const json_t *obj, json_t **unknown);

/* Drop fields a CRD's structural schema does not declare (pruning), in place. */
void cn_prune_custom(const cn_resource *res, json_t *obj);

#endif
