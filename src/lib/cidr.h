/* cidr: IPv4 addresses and CIDRs as host-byte-order integers, for the pod
 * network (agent/podnet) and the node IPAM controller (ctrl/nodeipam). */
#ifndef CN_CIDR_H
#define CN_CIDR_H

#include <stdint.h>

#define CN_IP4_STRLEN 16

/* "10.244.3.7" -> host byte order; -EINVAL if not a dotted IPv4 address. */
int cn_ip4_parse(const char *s, uint32_t *out);
/* "10.244.0.0/16" -> network and prefix (0..32); -EINVAL unless an IPv4
 * CIDR with no host bits set. */
int cn_cidr4_parse(const char *s, uint32_t *net, int *prefix);
void cn_ip4_str(uint32_t ip, char out[CN_IP4_STRLEN]);
/* The netmask of a prefix length, host byte order (0 for /0). */
uint32_t cn_ip4_mask(int prefix);

#endif
