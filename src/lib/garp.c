/* garp: gratuitous ARP over an AF_PACKET socket (garp.h). */
#include "lib/garp.h"

#include <errno.h>
#include <arpa/inet.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"

int cn_garp_packet(unsigned char *buf, int op, const unsigned char mac[6], uint32_t ip)
{
    /* RFC 826 layout for Ethernet/IPv4: htype, ptype, hlen, plen, op, then
     * sender MAC, sender IP, target MAC, target IP. */
    unsigned char *p = buf;
    uint16_t v16 = htons(ARPHRD_ETHER);
    memcpy(p, &v16, 2), p += 2;
    v16 = htons(ETH_P_IP);
    memcpy(p, &v16, 2), p += 2;
    *p++ = 6;
    *p++ = 4;
    v16 = htons((uint16_t)op);
    memcpy(p, &v16, 2), p += 2;
    memcpy(p, mac, 6), p += 6;
    memcpy(p, &ip, 4), p += 4;
    /* The target MAC: zero in the request (an announcement, RFC 5227),
     * our own in the reply (what arping -A sends). */
    if (op == ARPOP_REQUEST) memset(p, 0, 6);
    else memcpy(p, mac, 6);
    p += 6;
    memcpy(p, &ip, 4), p += 4;
    return (int)(p - buf);
}

int cn_garp_announce(unsigned ifindex, const unsigned char mac[6], uint32_t ip, int count,
                     int interval_ms, cn_err *err)
{
    int rc = 0;
    /* SOCK_DGRAM: the kernel writes the Ethernet header for sll_addr. */
    int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP));
    if (fd < 0) {
        rc = -errno;
        cn_err_internal(err, "gratuitous ARP: cannot open a packet socket: %s", strerror(errno));
        goto out;
    }
    struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP),
                              .sll_ifindex = (int)ifindex, .sll_halen = 6 };
    memset(to.sll_addr, 0xff, 6);
    for (int i = 0; i < count; i++) {
        if (i > 0) {
            struct timespec ts = { interval_ms / 1000, (long)(interval_ms % 1000) * 1000000L };
            while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
        }
        for (int op = ARPOP_REQUEST; op <= ARPOP_REPLY; op++) {
            unsigned char pkt[28];
            int len = cn_garp_packet(pkt, op, mac, ip);
            if (sendto(fd, pkt, (size_t)len, 0, (struct sockaddr *)&to, sizeof to) < 0) {
                rc = -errno;
                char a[INET_ADDRSTRLEN];
                inet_ntop(AF_INET, &ip, a, sizeof a);
                cn_err_internal(err, "gratuitous ARP for %s on link %u: %s", a, ifindex, strerror(errno));
                goto out;
            }
        }
    }
out:
    if (fd >= 0) close(fd);
    return rc;
}
