/* admit: the fleet admission plugin of `cairn bridge`: defaults and
 * admission of fleet.cairn.io objects through the fleet model (fleet.h),
 * on a snapshot listed from the bridge's store at the moment of the write
 * (the API server serializes fleet.cairn.io writes, apiserver.h). */
#ifndef CN_BRIDGE_ADMIT_H
#define CN_BRIDGE_ADMIT_H

#include "api/apiserver.h"
#include "client/client.h"

/* Register the mutating and validating plugins on s; c is an in-process
 * client of s (borrowed: must outlive s's request handling). */
void cn_bridge_admission_register(cn_apiserver *s, cn_client *c);

#endif
