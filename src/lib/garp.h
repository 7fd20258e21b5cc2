/* garp: gratuitous ARP, how the holder of a moving IPv4 address (the
 * control-plane endpoint, ctrl/vip.c) tells the LAN that the address now
 * lives at its MAC, so switches and neighbours' ARP caches follow at once
 * instead of after their entries expire (what keepalived and kube-vip do).
 *
 * Each announcement is a broadcast ARP request and a broadcast ARP reply,
 * both with sender IP = target IP = the address and sender MAC = the
 * link's: hosts update an existing entry from either, and some devices
 * only listen to one of the two. */
#ifndef CN_GARP_H
#define CN_GARP_H

#include <stdint.h>
#include "lib/err.h"

/* Announce ip (network byte order) from link ifindex with hardware
 * address mac, `count` times (request + reply each), interval_ms apart
 * (the call sleeps between them). 0 or a negative errno with err set. */
int cn_garp_announce(unsigned ifindex, const unsigned char mac[6], uint32_t ip, int count,
                     int interval_ms, cn_err *err);

/* Build one gratuitous ARP packet (op 1 request, 2 reply) into buf (at
 * least 28 bytes): the ARP payload without the Ethernet header. Returns
 * its length. Exposed for tests that check what arrives. */
int cn_garp_packet(unsigned char *buf, int op, const unsigned char mac[6], uint32_t ip);

#endif
