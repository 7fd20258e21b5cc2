/* gc: the garbage collector (kube-controller-manager's garbagecollector):
 * deletes objects whose owners are gone, and carries out foreground and
 * orphan deletion (the "foregroundDeletion" and "orphan" finalizers the API
 * adds on DELETE with propagationPolicy Foreground / Orphan). */
#ifndef CN_CTRL_GC_H
#define CN_CTRL_GC_H

#include <stddef.h>
#include <jansson.h>
#include "ctrl/ctrl.h"

extern const cn_controller cn_ctrl_gc;

/* The state of one owner of an object, as upstream classifies them. */
typedef enum cn_gc_owner {
    CN_GC_SOLID,      /* exists and is not waiting for its dependents */
    CN_GC_DANGLING,   /* gone, or replaced by another object (other uid) */
    CN_GC_WAITING,    /* being deleted in the foreground */
    CN_GC_UNKNOWN,    /* cannot tell (kind not served): treated as solid */
} cn_gc_owner;

typedef enum cn_gc_action {
    CN_GC_KEEP,               /* nothing to do */
    CN_GC_DROP_REFS,          /* remove the dangling/waiting refs, keep the object */
    CN_GC_DELETE_BACKGROUND,
    CN_GC_DELETE_FOREGROUND,
    CN_GC_DELETE_ORPHAN,
} cn_gc_action;

/* What to do with obj (live state) given the state of each of its
 * ownerReferences, in order (n of them), and whether it has dependents of
 * its own. As upstream's attemptToDeleteItem: a solid owner keeps the
 * object (other refs to gone owners are dropped); with no solid owner the
 * object is deleted, in the foreground when an owner waits for it and it
 * has dependents to block on, else with the policy its own finalizers
 * ask for. Objects already being deleted are kept. */
cn_gc_action cn_gc_decide(const json_t *obj, const cn_gc_owner *owners, size_t n, bool has_dependents);

#endif
