/* apps: the apps/v1 workload controllers this directory implements for
 * manager.c's table: ReplicaSet (replicaset.c) and Deployment
 * (deployment.c, with its pure rollout arithmetic in deployment_util.c). */
#ifndef CN_CTRL_APPS_H
#define CN_CTRL_APPS_H

#include "ctrl/ctrl.h"

extern const cn_controller cn_ctrl_replicaset;
extern const cn_controller cn_ctrl_deployment;

#endif
