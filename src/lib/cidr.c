/* cidr: see cidr.h. */
#include "lib/cidr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "lib/util.h"

int cn_ip4_parse(const char *s, uint32_t *out)
{
    struct in_addr a;
    if (!s || inet_pton(AF_INET, s, &a) != 1) return -EINVAL;
    *out = ntohl(a.s_addr);
    return 0;
}

uint32_t cn_ip4_mask(int prefix)
{
    return prefix <= 0 ? 0 : prefix >= 32 ? 0xffffffffu : 0xffffffffu << (32 - prefix);
}

int cn_cidr4_parse(const char *s, uint32_t *net, int *prefix)
{
    const char *slash = s ? strchr(s, '/') : NULL;
    char ip[CN_IP4_STRLEN];
    int64_t p;
    uint32_t n;
    if (!slash || (size_t)(slash - s) >= sizeof ip || !slash[1] || cn_parse_int64(slash + 1, &p) < 0 || p < 0 ||
        p > 32)
        return -EINVAL;
    memcpy(ip, s, (size_t)(slash - s));
    ip[slash - s] = '\0';
    if (cn_ip4_parse(ip, &n) < 0 || (n & ~cn_ip4_mask((int)p))) return -EINVAL;
    *net = n;
    *prefix = (int)p;
    return 0;
}

void cn_ip4_str(uint32_t ip, char out[CN_IP4_STRLEN])
{
    struct in_addr a = { htonl(ip) };
    inet_ntop(AF_INET, &a, out, CN_IP4_STRLEN);
}
