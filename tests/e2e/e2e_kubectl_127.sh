#!/bin/bash
# The kubectl suite with kubectl 1.27 (see kubectl_suite.sh).
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/kubectl_suite.sh"
K=/usr/lib/google-cloud-sdk/bin/kubectl.1.27
[ -x "$K" ] || K=$(command -v kubectl)
run_kubectl_suite
finish
