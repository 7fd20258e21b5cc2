#!/bin/bash
# e2e_api.sh (authentication, every bad-input case, watch semantics, 410
# after compaction, restart) against a 3-member etcd cluster instead of
# SQLite: the same checks, the same codes.
d=$(dirname "$0")
exec bash "$d/../etcd/cluster.sh" run 3 -- bash "$d/e2e_api.sh" "$1"
