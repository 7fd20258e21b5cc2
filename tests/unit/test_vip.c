/* test_vip: the control-plane endpoint holder (ctrl/vip.c) and its
 * primitives (lib/netaddr.c addresses and link events, lib/garp.c) on a
 * veth pair inside a network namespace of a forked child (unshare), so
 * nothing touches the machine's own network; the namespace dies with the
 * child. One end, "va", is the server's interface; on the other, "vb", an
 * AF_PACKET socket captures what the holder announces, as a neighbour on
 * the LAN would see it. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "agent/podnet-internal.h"
#include "ctrl/vip.h"
#include "lib/garp.h"
#include "lib/netaddr.h"
#include "lib/util.h"
#include "test.h"

static atomic_bool leader;
static bool is_leader(void *ud) { (void)ud; return atomic_load(&leader); }

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t vip_ip(void) { return htonl(0x0a090864); }   /* 10.9.8.100 */

static bool has_vip(cn_nl *nl, unsigned idx)
{
    bool has = false;
    cn_nl_addr_has(nl, idx, vip_ip(), &has);
    return has;
}

/* Wait (bounded, generous) until the address is there or not. */
static bool wait_vip(cn_nl *nl, unsigned idx, bool want)
{
    for (int64_t end = now_ms() + 10000; now_ms() < end; usleep(20000))
        if (has_vip(nl, idx) == want) return true;
    return false;
}

/* Gratuitous ARP for the VIP caught on fd within timeout_ms: which ops
 * arrived (bit 1 request, bit 2 reply), checking every field. */
static int capture(int fd, const unsigned char mac[6], int timeout_ms, int *bad)
{
    int ops = 0;
    for (int64_t end = now_ms() + timeout_ms; ops != 6 && now_ms() < end;) {
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, 100) <= 0) continue;
        unsigned char f[128];
        struct sockaddr_ll from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, f, sizeof f, 0, (struct sockaddr *)&from, &fl);
        if (n < 14 + 28) continue;
        static const unsigned char bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
        uint16_t op, ptype;
        memcpy(&ptype, f + 14 + 2, 2);
        memcpy(&op, f + 14 + 6, 2);
        uint32_t sip, tip;
        memcpy(&sip, f + 14 + 14, 4);
        memcpy(&tip, f + 14 + 24, 4);
        if (sip != vip_ip()) continue;    /* the kernel's own ARP traffic */
        if (memcmp(f, bcast, 6) || memcmp(f + 6, mac, 6) || ntohs(ptype) != ETH_P_IP || tip != vip_ip() ||
            memcmp(f + 14 + 8, mac, 6))
            (*bad)++;
        ops |= 1 << ntohs(op);
    }
    return ops;
}

static void test_parse(void)
{
    uint32_t ip;
    int p;
    CHECK_INT(cn_vip_parse("10.1.2.100/24", &ip, &p), 0);
    CHECK_INT(ip, 0x0a010264);
    CHECK_INT(p, 24);
    CHECK_INT(cn_vip_parse("10.1.2.100", &ip, &p), 0);
    CHECK_INT(p, 32);
    CHECK_INT(cn_vip_parse("10.1.2.100/33", &ip, &p), -EINVAL);
    CHECK_INT(cn_vip_parse("10.1.2.100/0", &ip, &p), -EINVAL);
    CHECK_INT(cn_vip_parse("10.1.2/24", &ip, &p), -EINVAL);
    CHECK_INT(cn_vip_parse("", &ip, &p), -EINVAL);
    CHECK_INT(cn_vip_parse("host/24", &ip, &p), -EINVAL);
}

static void test_packet(void)
{
    unsigned char b[28], mac[6] = { 2, 0, 0, 0, 0, 7 };
    CHECK_INT(cn_garp_packet(b, ARPOP_REQUEST, mac, vip_ip()), 28);
    CHECK_INT(b[1], 1);            /* Ethernet */
    CHECK_INT(b[2], 0x08);         /* IPv4 */
    CHECK_INT(b[7], ARPOP_REQUEST);
    CHECK(!memcmp(b + 8, mac, 6));
    CHECK(!memcmp(b + 14, (unsigned char[]){ 10, 9, 8, 100 }, 4));
    CHECK(!memcmp(b + 24, (unsigned char[]){ 10, 9, 8, 100 }, 4));
    cn_garp_packet(b, ARPOP_REPLY, mac, vip_ip());
    CHECK_INT(b[7], ARPOP_REPLY);
    CHECK(!memcmp(b + 18, mac, 6));
}

static void test_holder(void)
{
    cn_nl *nl = NULL;
    unsigned va = 0, vb = 0, flags = 0;
    unsigned char mac[6];
    CHECK_INT(cn_nl_open(-1, &nl), 0);
    if (!nl) return;
    CHECK_INT(cn_nl_veth_add(nl, "va", "vb", -1, 1500), 0);
    cn_nl_link_index(nl, "va", &va);
    cn_nl_link_index(nl, "vb", &vb);
    CHECK(va && vb);
    CHECK_INT(cn_nl_link_up(nl, va, 0), 0);
    CHECK_INT(cn_nl_link_up(nl, vb, 0), 0);
    CHECK_INT(cn_nl_link_info(nl, va, &flags, mac), 0);
    CHECK(flags & IFF_UP);
    CHECK_INT(cn_nl_link_info(nl, 999999, &flags, mac), -ENODEV);

    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP));
    CHECK(fd >= 0);
    struct sockaddr_ll at = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP), .sll_ifindex = (int)vb };
    CHECK_INT(bind(fd, (struct sockaddr *)&at, sizeof at), 0);

    /* A stale address left by a holder that died in this namespace goes
     * when a server without the lease starts. */
    CHECK_INT(cn_nl_addr_add(nl, va, vip_ip(), 24), 0);
    CHECK(has_vip(nl, va));
    atomic_store(&leader, false);
    cn_vip *v = NULL;
    cn_err err = CN_ERR_INIT;
    cn_vip_config cfg = { .address = "10.9.8.100/24", .ifname = "va", .is_leader = is_leader,
                          .garp_count = 3, .garp_interval_ms = 50 };
    CHECK_INT(cn_vip_start(&cfg, &v, &err), 0);
    if (!v) goto out;
    CHECK(wait_vip(nl, va, false));
    CHECK(!cn_vip_held(v));

    /* Acquire: the address appears and both kinds of ARP are broadcast. */
    atomic_store(&leader, true);
    CHECK(wait_vip(nl, va, true));
    int bad = 0;
    CHECK_INT(capture(fd, mac, 10000, &bad), 6);
    CHECK_INT(bad, 0);
    CHECK(cn_vip_held(v));
    cn_nl_addr addrs[8];
    size_t n = 0;
    cn_nl_addr_list(nl, va, addrs, 8, &n);
    bool prefix_ok = false;
    for (size_t i = 0; i < n; i++)
        if (addrs[i].ip == vip_ip() && addrs[i].prefix == 24) prefix_ok = true;
    CHECK(prefix_ok);

    /* Link down and up again (a cable pulled, a bridge port flapping):
     * announced again once it is up. */
    unsigned before = cn_vip_announcements(v);
    CHECK_INT(system("ip link set va down && ip link set va up"), 0);
    bad = 0;
    CHECK(capture(fd, mac, 10000, &bad) & 2);
    CHECK_INT(bad, 0);
    for (int64_t end = now_ms() + 10000; cn_vip_announcements(v) <= before && now_ms() < end;) usleep(20000);
    CHECK(cn_vip_announcements(v) > before);

    /* The address was removed behind the holder's back: put back. */
    CHECK_INT(cn_nl_addr_del(nl, va, vip_ip(), 24), 0);
    CHECK(wait_vip(nl, va, true));

    /* Lose the lease: off the interface. */
    atomic_store(&leader, false);
    CHECK(wait_vip(nl, va, false));
    CHECK(!cn_vip_held(v));

    /* Leader again, then shut down: removed on stop. */
    atomic_store(&leader, true);
    CHECK(wait_vip(nl, va, true));
    cn_vip_stop(v);
    v = NULL;
    CHECK(!has_vip(nl, va));
out:
    cn_vip_stop(v);
    cn_err_clear(&err);
    if (fd >= 0) close(fd);
    cn_nl_link_del(nl, va);
    cn_nl_close(nl);
}

static void test_bad_config(void)
{
    cn_vip *v = NULL;
    cn_err err = CN_ERR_INIT;
    cn_vip_config cfg = { .address = "10.9.8.300/24", .is_leader = is_leader };
    CHECK(cn_vip_start(&cfg, &v, &err) < 0);
    CHECK(v == NULL);
    CHECK(err.message && strstr(err.message, "10.9.8.300/24"));
    cn_err_clear(&err);
}

int main(void)
{
    if (geteuid() != 0) {
        printf("skip: test_vip needs root (network namespaces)\n");
        return 0;
    }
    TEST_RUN(test_parse);
    TEST_RUN(test_packet);
    TEST_RUN(test_bad_config);
    fflush(stdout);
    /* The namespace is the child's alone and goes when it exits. */
    pid_t pid = fork();
    if (pid == 0) {
        if (unshare(CLONE_NEWNET) < 0) {
            printf("skip: cannot create a network namespace: %s\n", strerror(errno));
            _exit(0);
        }
        TEST_RUN(test_holder);
        fflush(stdout);
        _exit(test_failures ? 1 : 0);
    }
    int st = 0;
    CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    return TEST_DONE();
}
