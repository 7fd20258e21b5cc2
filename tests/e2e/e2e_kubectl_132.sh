#!/bin/bash
# The kubectl suite with kubectl 1.32 (see kubectl_suite.sh).
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/kubectl_suite.sh"
K=/usr/bin/kubectl   # the dispatcher: runs kubectl 1.32 for our /version
[ -x "$K" ] || K=$(command -v kubectl)
run_kubectl_suite
finish
