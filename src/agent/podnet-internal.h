/* podnet-internal: what podnet.c adds on top of the generic rtnetlink
 * calls in lib/netlink.h. */
#ifndef CN_PODNET_INTERNAL_H
#define CN_PODNET_INTERNAL_H

#include "lib/netlink.h"

/* rtm_protocol of the routes to other nodes' blocks: how set_routes tells
 * its own routes from everyone else's (iproute2 shows "proto 77"). */
#define CN_PODNET_RTPROT 77

#endif
