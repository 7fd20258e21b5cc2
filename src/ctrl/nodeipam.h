/* nodeipam: the node IPAM controller — kube-controller-manager's
 * nodeipam (range allocator) for the pod network of agent/podnet.h.
 *
 * The cluster pod CIDR (cfg->cluster_cidr, server flag --cluster-cidr,
 * default 10.244.0.0/16) is cut into blocks of cfg->node_cidr_mask_size
 * (--node-cidr-mask-size, default 24). Every Node without spec.podCIDR gets
 * a free block written as spec.podCIDR and spec.podCIDRs (a merge patch;
 * the API forbids changing a set podCIDR, so a Node's block never moves).
 *
 * A block is free when no Node in the informer holds a CIDR overlapping it
 * and no allocation of this controller is still on its way to the
 * informer. The used set is recomputed from the informer on every
 * allocation, so a restarted or failed-over controller, or Nodes created
 * with a podCIDR of their own (`cairn agent --simulate`), can never be
 * handed a block twice, and a deleted Node's block is free again. When the
 * cluster CIDR is exhausted the Node gets a "CIDRNotAvailable" event and
 * waits: it is tried again when another Node goes away (or on its next
 * update), not on a timer.
 * IPv4 only; an empty cluster_cidr turns the controller off. */
#ifndef CN_CTRL_NODEIPAM_H
#define CN_CTRL_NODEIPAM_H

#include "ctrl/ctrl.h"

extern const cn_controller cn_nodeipam_controller;

#endif
