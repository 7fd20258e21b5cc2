/* events: core/v1 Events about objects, as kubectl describe shows them,
 * for the scheduler and controllers. Like client-go's event correlator, a
 * repeat of the same (object, type, reason, message) within 10 minutes
 * bumps count/lastTimestamp of the existing Event instead of creating one,
 * so a pod that stays unschedulable does not flood the store. Recording
 * never fails the caller: errors are logged. */
#ifndef CN_EVENTS_H
#define CN_EVENTS_H

#include <jansson.h>
#include "client/client.h"

typedef struct cn_recorder cn_recorder;

/* component: source.component / reportingController, e.g. "default-scheduler". */
cn_recorder *cn_recorder_new(cn_client *c, const char *component);
void cn_recorder_free(cn_recorder *r);
/* type: "Normal" or "Warning". obj: the involved object (kind, apiVersion,
 * metadata used). */
void cn_recorder_event(cn_recorder *r, const json_t *obj, const char *type, const char *reason,
              const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
