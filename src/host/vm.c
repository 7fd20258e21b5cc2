/* vm: making and removing a node VM sandbox on this host (see vm.h):
 * cgroups, network namespace and veth, the node software's command lines
 * and the VM init's config, and the clone into new namespaces. The VM
 * init itself is vminit.c. */
#define _GNU_SOURCE
#include "host/vm.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/client.h"
#include "lib/log.h"
#include "lib/netlink.h"
#include "lib/strmap.h"
#include "lib/pki.h"
#include "lib/util.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define CFS_PERIOD 100000
#define VETH_MTU 1500

void cn_vm_pki_release(cn_vm_pki *p)
{
    free(p->ca_crt);
    free(p->ca_key);
    free(p->sa_key);
    free(p->sa_pub);
    free(p->token);
    memset(p, 0, sizeof *p);
}

char *cn_vm_netns_path(const char *host, const char *vm)
{
    return cn_asprintf("/run/netns/cnvm-%s-%s", host, vm);
}

/* Interface names are at most 15 characters and VM names up to 63: the
 * host end is named by a hash of the VM name. */
void cn_vm_veth_name(const char *vm, char out[16])
{
    uint32_t h = 2166136261u;    /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)vm; *p; p++) h = (h ^ *p) * 16777619u;
    snprintf(out, 16, "cnv-%08x", h);
}

static char *pid_path(const cn_vm_env *env, const char *vm)
{
    return cn_asprintf("%s/vms/%s.pid", env->data_dir, vm);
}

static char *config_path(const cn_vm_env *env, const char *vm)
{
    return cn_asprintf("%s/vms/%s.json", env->data_dir, vm);
}

static char *disk_path(const cn_vm_env *env, const char *vm)
{
    return cn_asprintf("%s/vms/%s", env->storage, vm);
}

int cn_vm_write_str(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    ssize_t n = write(fd, s, strlen(s));
    int rc = n < 0 ? -errno : 0;
    close(fd);
    return rc;
}

/* ---- cgroups ---- */

/* The cgroup v1 hierarchies mounted under /sys/fs/cgroup (directories
 * with a cgroup.procs; "cpu,cpuacct" style symlinks and the v2 "unified"
 * mount are skipped). Owned array of owned names. */
static char **cgroup_hierarchies(size_t *n)
{
    char **out = NULL;
    *n = 0;
    DIR *d = opendir(CGROUP_ROOT);
    if (!d) return NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !strcmp(e->d_name, "unified")) continue;
        char *dir = cn_asprintf("%s/%s", CGROUP_ROOT, e->d_name);
        char *procs = cn_asprintf("%s/cgroup.procs", dir);
        struct stat st;
        if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && access(procs, F_OK) == 0) {
            out = cn_realloc(out, (*n + 1) * sizeof *out);
            out[(*n)++] = cn_strdup(e->d_name);
        }
        free(dir);
        free(procs);
    }
    closedir(d);
    return out;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* A new cpuset cgroup has no CPUs or memory nodes: copy the parent's. */
static void cpuset_inherit(const char *dir)
{
    static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
    for (size_t i = 0; i < 2; i++) {
        char *mine = cn_asprintf("%s/%s", dir, files[i]);
        char *parent = cn_asprintf("%s/../%s", dir, files[i]);
        char *text = NULL;
        size_t len;
        if (cn_read_file(parent, &text, &len, NULL) == 0) cn_vm_write_str(mine, text);
        free(text);
        free(mine);
        free(parent);
    }
}

static char *cgroup_dir(const char *ctrl, const char *host, const char *vm)
{
    return vm ? cn_asprintf("%s/%s/cairn-host-%s/%s", CGROUP_ROOT, ctrl, host, vm)
              : cn_asprintf("%s/%s/cairn-host-%s", CGROUP_ROOT, ctrl, host);
}

/* rmdir a cgroup and everything nested in it (the agent's containers),
 * deepest first; a few tries while the last processes are going away. */
static int cgroup_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : -errno;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
        char *sub = cn_asprintf("%s/%s", dir, e->d_name);
        cgroup_remove(sub);
        free(sub);
    }
    closedir(d);
    for (int i = 0; i < 40; i++) {
        if (rmdir(dir) == 0 || errno == ENOENT) return 0;
        if (errno != EBUSY) return -errno;
        struct timespec ts = { 0, 50 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    return -EBUSY;
}

/* Make the VM's cgroups and add them to the config as {mount, dir}. */
static int cgroups_make(const cn_vm_env *env, const char *vm, int64_t cpu, int64_t mem_mib,
                        json_t *list, cn_err *err)
{
    size_t n;
    char **ctrls = cgroup_hierarchies(&n);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *base = cgroup_dir(ctrls[i], env->host, NULL);
        char *dir = cgroup_dir(ctrls[i], env->host, vm);
        bool cpuset = !strcmp(ctrls[i], "cpuset");
        if ((mkdir(base, 0755) < 0 && errno != EEXIST) || (cpuset && (cpuset_inherit(base), 0)) ||
            (mkdir(dir, 0755) < 0 && errno != EEXIST)) {
            rc = -errno;
            cn_err_internal(err, "cgroup %s: %s", dir, strerror(errno));
        } else {
            if (cpuset) cpuset_inherit(dir);
            char val[32];
            if (!strcmp(ctrls[i], "cpu") && cpu > 0) {
                snprintf(val, sizeof val, "%d", CFS_PERIOD);
                char *p = cn_asprintf("%s/cpu.cfs_period_us", dir);
                cn_vm_write_str(p, val);
                free(p);
                snprintf(val, sizeof val, "%lld", (long long)cpu * CFS_PERIOD);
                p = cn_asprintf("%s/cpu.cfs_quota_us", dir);
                if ((rc = cn_vm_write_str(p, val)) < 0) cn_err_internal(err, "%s: %s", p, strerror(-rc));
                free(p);
            } else if (!strcmp(ctrls[i], "memory") && mem_mib > 0) {
                snprintf(val, sizeof val, "%lld", (long long)mem_mib * 1024 * 1024);
                char *p = cn_asprintf("%s/memory.limit_in_bytes", dir);
                if ((rc = cn_vm_write_str(p, val)) < 0) cn_err_internal(err, "%s: %s", p, strerror(-rc));
                free(p);
            }
            char *m = cn_asprintf("%s/%s", CGROUP_ROOT, ctrls[i]);
            json_array_append_new(list, json_pack("{s:s, s:s}", "mount", m, "dir", dir));
            free(m);
        }
        free(base);
        free(dir);
    }
    free_strv(ctrls, n);
    return rc;
}

static void cgroups_remove(const cn_vm_env *env, const char *vm)
{
    size_t n;
    char **ctrls = cgroup_hierarchies(&n);
    for (size_t i = 0; i < n; i++) {
        char *dir = cgroup_dir(ctrls[i], env->host, vm);
        int rc = cgroup_remove(dir);
        if (rc < 0) cn_warn("host: removing cgroup %s: %s", dir, strerror(-rc));
        free(dir);
    }
    free_strv(ctrls, n);
}

/* ---- network ---- */

static void netns_remove(const char *host, const char *vm)
{
    char *path = cn_vm_netns_path(host, vm);
    umount2(path, MNT_DETACH);
    unlink(path);
    free(path);
}

/* In the forked child: system calls only. */
static int child_netns(const char *path)
{
    if (unshare(CLONE_NEWNET) < 0) return errno;
    if (mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0) return errno;
    return 0;
}

static int netns_make(const char *host, const char *vm, cn_err *err)
{
    char *path = cn_vm_netns_path(host, vm);
    int rc = 0;
    netns_remove(host, vm);
    cn_mkdir_p("/run/netns", 0755);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    if (fd < 0) {
        rc = -errno;
        cn_err_internal(err, "creating %s: %s", path, strerror(errno));
        goto out;
    }
    close(fd);
    pid_t pid = fork();
    if (pid < 0) {
        rc = -errno;
        cn_err_internal(err, "fork: %s", strerror(errno));
        goto out;
    }
    if (pid == 0) _exit(child_netns(path));
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        rc = -(WIFEXITED(st) ? WEXITSTATUS(st) : EIO);
        cn_err_internal(err, "making network namespace %s: %s", path, strerror(-rc));
    }
out:
    if (rc < 0) netns_remove(host, vm);
    free(path);
    return rc;
}

static int parse_ip(const char *s, uint32_t *out)
{
    struct in_addr a;
    if (!s || inet_pton(AF_INET, s, &a) != 1) return -EINVAL;
    *out = a.s_addr;
    return 0;
}

/* The veth pair (host end joined to the VM switch, eth0 in the VM) and the
 * VM side's address, routes and loopback. */
static int network_make(const cn_vm_env *env, const char *vm, const json_t *spec, cn_err *err)
{
    const char *sw = json_string_value(json_object_get(spec, "vmSwitchName"));
    const char *ips = json_string_value(json_object_get(spec, "ip"));
    const char *gws = json_string_value(json_object_get(spec, "gateway"));
    int prefix = (int)json_integer_value(json_object_get(spec, "prefixLength"));
    char veth[16];
    char *nspath = cn_vm_netns_path(env->host, vm);
    cn_nl *host = NULL, *in = NULL;
    unsigned br = 0, hidx = 0, eth = 0, lo = 0;
    uint32_t ip, gw = 0;
    int nsfd = -1, rc;

    cn_vm_veth_name(vm, veth);
    if (!sw || !*sw || parse_ip(ips, &ip) < 0 || prefix <= 0 || prefix > 32 ||
        (gws && *gws && parse_ip(gws, &gw) < 0)) {
        rc = cn_err_bad_request(err, "vm %s: spec needs vmSwitchName, ip, prefixLength (and a valid gateway)", vm);
        goto out;
    }
    if ((rc = cn_nl_open(-1, &host)) < 0) {
        cn_err_internal(err, "netlink: %s", strerror(-rc));
        goto out;
    }
    if ((rc = cn_nl_link_index(host, sw, &br)) < 0) goto nlfail;
    if (!br) {
        rc = cn_err_set(err, 404, "NotFound", "vm switch \"%s\" not found on host %s", sw, env->host);
        rc = -ENODEV;
        goto out;
    }
    /* A veth left from an earlier run of this VM goes first. */
    if ((rc = cn_nl_link_index(host, veth, &hidx)) < 0) goto nlfail;
    if (hidx && (rc = cn_nl_link_del(host, hidx)) < 0) goto nlfail;
    if ((rc = netns_make(env->host, vm, err)) < 0) goto out;
    nsfd = open(nspath, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) {
        rc = -errno;
        cn_err_internal(err, "%s: %s", nspath, strerror(errno));
        goto out;
    }
    if ((rc = cn_nl_veth_add(host, veth, "eth0", nsfd, VETH_MTU)) < 0) goto nlfail;
    if ((rc = cn_nl_link_index(host, veth, &hidx)) < 0 || (rc = cn_nl_link_up(host, hidx, br)) < 0) goto nlfail;
    if ((rc = cn_nl_open(nsfd, &in)) < 0) goto nlfail;
    if ((rc = cn_nl_link_index(in, "lo", &lo)) < 0 || (rc = cn_nl_link_up(in, lo, 0)) < 0) goto nlfail;
    /* One MAC for the VM's life, wherever it runs (as a Hyper-V VM keeps
     * its NIC's): after a failover its neighbours' ARP entries still hold.
     * Locally administered, unicast, from the VM's name. */
    uint64_t hv = cn_str_hash(vm);
    unsigned char mac[6] = { 0x02, (unsigned char)(hv >> 32), (unsigned char)(hv >> 24), (unsigned char)(hv >> 16),
                             (unsigned char)(hv >> 8), (unsigned char)hv };
    if ((rc = cn_nl_link_index(in, "eth0", &eth)) < 0 || (rc = cn_nl_link_set_mac(in, eth, mac)) < 0 ||
        (rc = cn_nl_addr_add(in, eth, ip, prefix)) < 0 || (rc = cn_nl_link_up(in, eth, 0)) < 0)
        goto nlfail;
    if (gw && (rc = cn_nl_route_replace(in, 0, 0, gw, RTPROT_BOOT)) < 0) goto nlfail;
    rc = 0;
    goto out;
nlfail:
    cn_err_internal(err, "vm %s: wiring eth0 (%s on switch %s): %s", vm, ips, sw, strerror(-rc));
out:
    if (nsfd >= 0) close(nsfd);
    cn_nl_close(in);
    cn_nl_close(host);
    free(nspath);
    return rc;
}

static void network_remove(const char *host, const char *vm)
{
    char veth[16];
    cn_nl *c = NULL;
    unsigned idx = 0;
    cn_vm_veth_name(vm, veth);
    if (cn_nl_open(-1, &c) == 0 && cn_nl_link_index(c, veth, &idx) == 0 && idx) cn_nl_link_del(c, idx);
    cn_nl_close(c);
    netns_remove(host, vm);
}

/* ---- the node software ---- */

static void add_proc(json_t *procs, const char *name, json_t *argv)
{
    json_array_append_new(procs, json_pack("{s:s, s:o}", "name", name, "argv", argv));
}

static void argv_add(json_t *argv, const char *s)
{
    json_array_append_new(argv, json_string(s));
}

static void argv_addf(json_t *argv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void argv_addf(json_t *argv, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = cn_vasprintf(fmt, ap);
    va_end(ap);
    json_array_append_new(argv, json_string(s));
    free(s);
}

/* Seed DISK/server with the cluster's CA, service-account key and token
 * before the first start, so every server of the cluster shares them and
 * the bridge's admin kubeconfig (issued by the same CA) works. */
static int seed_pki(const char *server_dir, const cn_vm_pki *pki, cn_err *err)
{
    char *ca = cn_asprintf("%s/pki/ca.crt", server_dir);
    char *tok = cn_asprintf("%s/token", server_dir);
    int rc = 0;
    if (access(ca, F_OK) == 0) goto out;
    if (!pki->ca_crt || !pki->ca_key || !pki->sa_key || !pki->sa_pub || !pki->token) {
        rc = cn_err_bad_request(err, "the PKI Secret lacks one of ca.crt, ca.key, sa.key, sa.pub, token");
        goto out;
    }
    if ((rc = cn_mkdir_p(server_dir, 0700)) < 0) {
        cn_err_internal(err, "mkdir %s: %s", server_dir, strerror(-rc));
        goto out;
    }
    if ((rc = cn_pki_install(server_dir, pki->ca_crt, pki->ca_key, pki->sa_key, pki->sa_pub, err)) < 0)
        goto out;
    rc = cn_write_file_atomic(tok, pki->token, strlen(pki->token), 0600, err);
out:
    free(ca);
    free(tok);
    return rc;
}

static int control_plane_procs(const cn_vm_env *env, const char *vm, const json_t *spec,
                               const char *disk, json_t *procs)
{
    const char *ip = cn_json_str_at(spec, "ip");
    const char *ep = cn_json_str_at(spec, "controlPlaneEndpoint");
    if (!*ep) ep = ip;
    json_t *members = json_object_get(spec, "etcdMembers");
    size_t nm = json_array_size(members);
    json_t *srv = json_array();
    argv_add(srv, env->cairn);
    argv_add(srv, "server");
    argv_addf(srv, "--data-dir=%s/server", disk);
    /* Every address of the VM: its own, and the endpoint while it holds
     * it (the namespace is the VM's alone). */
    argv_add(srv, "--listen=0.0.0.0:6443");
    argv_addf(srv, "--tls-san=%s", ep);
    argv_addf(srv, "--tls-san=%s", ip);
    argv_addf(srv, "--advertise-host=%s", ep);
    if (*cn_json_str_at(spec, "podCidr")) argv_addf(srv, "--cluster-cidr=%s", cn_json_str_at(spec, "podCidr"));
    if (*cn_json_str_at(spec, "serviceCidr"))
        argv_addf(srv, "--service-cidr=%s", cn_json_str_at(spec, "serviceCidr"));
    argv_add(srv, "--leader-elect-lease-duration=4s");
    argv_add(srv, "--leader-elect-renew-deadline=3s");
    argv_add(srv, "--leader-elect-retry-period=1s");
    if (env->server_has_vip && strcmp(ep, ip) != 0) {
        argv_addf(srv, "--vip=%s/%lld", ep, (long long)json_integer_value(json_object_get(spec, "prefixLength")));
        argv_add(srv, "--vip-interface=eth0");
    }
    if (nm >= 3) {
        cn_buf cluster;
        cn_buf_init(&cluster);
        for (size_t i = 0; i < nm; i++) {
            json_t *m = json_array_get(members, i);
            cn_buf_addf(&cluster, "%s%s=http://%s:2380", i ? "," : "", cn_json_str_at(m, "name"),
                        cn_json_str_at(m, "ip"));
        }
        json_t *etcd = json_array();
        argv_add(etcd, env->etcd);
        argv_addf(etcd, "--name=%s", vm);
        argv_addf(etcd, "--data-dir=%s/etcd", disk);
        argv_addf(etcd, "--listen-client-urls=http://%s:2379,http://127.0.0.1:2379", ip);
        argv_addf(etcd, "--advertise-client-urls=http://%s:2379", ip);
        argv_addf(etcd, "--listen-peer-urls=http://%s:2380", ip);
        argv_addf(etcd, "--initial-advertise-peer-urls=http://%s:2380", ip);
        argv_addf(etcd, "--initial-cluster=%s", cluster.data);
        argv_add(etcd, "--initial-cluster-state=new");
        add_proc(procs, "etcd", etcd);
        cn_buf_release(&cluster);
        argv_add(srv, "--datastore-endpoint=http://127.0.0.1:2379");
    }
    add_proc(procs, "server", srv);
    return 0;
}

/* The node's kubelet: every VM is a node, as in AKS Arc. A worker joins
 * through the endpoint; a control-plane VM through its own server (it
 * must not wait for the endpoint, which its own server may be the one to
 * hold) and is labelled and tainted as kubeadm does, so workloads stay on
 * the workers. */
static int agent_procs(const cn_vm_env *env, const char *vm, const json_t *spec, const char *disk,
                       const cn_vm_pki *pki, bool cp, json_t *procs, cn_err *err)
{
    const char *ip = cn_json_str_at(spec, "ip");
    const char *ep = cn_json_str_at(spec, "controlPlaneEndpoint");
    if (cp || !*ep) ep = ip;
    if (!pki->token) return cn_err_bad_request(err, "the PKI Secret has no token");
    json_t *a = json_array();
    argv_add(a, env->cairn);
    argv_add(a, "agent");
    argv_addf(a, "--data-dir=%s/agent", disk);
    argv_addf(a, "--server=https://%s:6443", ep);
    argv_addf(a, "--token=%s", pki->token);
    argv_addf(a, "--node-name=%s", vm);
    argv_addf(a, "--node-ip=%s", ip);
    if (cp) {
        argv_add(a, "--label=node-role.kubernetes.io/control-plane=");
        argv_add(a, "--taint=node-role.kubernetes.io/control-plane:NoSchedule");
    }
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(spec, "labels"), k, v)
        if (json_is_string(v)) argv_addf(a, "--label=%s=%s", k, json_string_value(v));
    size_t i;
    json_array_foreach(json_object_get(spec, "taints"), i, v)
        if (json_is_string(v)) argv_addf(a, "--taint=%s", json_string_value(v));
    for (size_t j = 0; j < env->nagent_args; j++) argv_add(a, env->agent_args[j]);
    add_proc(procs, "agent", a);
    return 0;
}

/* ---- start, stop, find ---- */

typedef struct clone_arg { char *const *argv; } clone_arg;

/* In the cloned child (new mount, PID and UTS namespaces): exec only. */
static int clone_child(void *p)
{
    const clone_arg *a = p;
    execv(a->argv[0], a->argv);
    _exit(127);
}

int cn_vm_start(const cn_vm_env *env, const json_t *vm, const cn_vm_pki *pki, pid_t *pid,
                cn_err *err)
{
    const char *name = cn_meta_str(vm, "name");
    const json_t *spec = json_object_get(vm, "spec");
    char *disk = disk_path(env, name), *cfgp = config_path(env, name), *pidp = pid_path(env, name);
    char *vmdir = cn_asprintf("%s/vms", env->data_dir);
    json_t *cfg = json_object(), *procs = json_array(), *cgs = json_array(), *clean = json_array();
    char *stack = NULL;
    bool made = false;
    int rc;

    json_object_set_new(cfg, "name", json_string(name));
    json_object_set_new(cfg, "procs", procs);
    json_object_set_new(cfg, "cgroups", cgs);
    json_object_set_new(cfg, "clean", clean);
    if ((rc = cn_mkdir_p(disk, 0700)) < 0 || (rc = cn_mkdir_p(vmdir, 0700)) < 0) {
        cn_err_internal(err, "mkdir %s: %s", disk, strerror(-rc));
        goto out;
    }
    bool cp = !strcmp(cn_json_str_at(spec, "role"), "controlPlane");
    if (cp) {
        char *sdir = cn_asprintf("%s/server", disk);
        rc = seed_pki(sdir, pki, err);
        free(sdir);
        if (rc < 0) goto out;
        rc = control_plane_procs(env, name, spec, disk, procs);
    }
    if (rc == 0) rc = agent_procs(env, name, spec, disk, pki, cp, procs, err);
    if (rc < 0) goto out;
    /* Containers, their runc state and pod namespaces do not survive a
     * reboot: the agent starts clean and re-creates its pods. */
    static const char *const volatile_dirs[] = { "runc", "sandboxes", "containers" };
    for (size_t i = 0; i < 3; i++)
        json_array_append_new(clean, json_sprintf("%s/agent/%s", disk, volatile_dirs[i]));
    cn_buf resolv;
    cn_buf_init(&resolv);
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(spec, "dnsServers"), i, d)
        if (json_is_string(d)) cn_buf_addf(&resolv, "nameserver %s\n", json_string_value(d));
    json_object_set_new(cfg, "resolv", json_string(resolv.data));
    cn_buf_release(&resolv);
    json_object_set_new(cfg, "logdir", json_sprintf("%s/log", disk));

    made = true;
    int64_t cpu = json_integer_value(json_object_get(spec, "cpu"));
    int64_t mem = json_integer_value(json_object_get(spec, "memoryMiB"));
    if ((rc = cgroups_make(env, name, cpu, mem, cgs, err)) < 0) goto out;
    if ((rc = network_make(env, name, spec, err)) < 0) goto out;
    char *nspath = cn_vm_netns_path(env->host, name);
    json_object_set_new(cfg, "netns", json_string(nspath));
    free(nspath);
    if (json_dump_file(cfg, cfgp, JSON_INDENT(1)) < 0) {
        rc = cn_err_internal(err, "writing %s", cfgp);
        goto out;
    }
    chmod(cfgp, 0600);   /* it holds the join token */

    char *argv[] = { (char *)env->cairn, "host", "vm-init", cfgp, NULL };
    clone_arg ca = { argv };
    size_t ssz = 64 * 1024;
    stack = cn_malloc(ssz);
    pid_t child = clone(clone_child, stack + ssz, CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | SIGCHLD, &ca);
    if (child < 0) {
        rc = -errno;
        cn_err_internal(err, "clone of the VM init: %s", strerror(errno));
        goto out;
    }
    char buf[32];
    snprintf(buf, sizeof buf, "%d\n", (int)child);
    if ((rc = cn_write_file_atomic(pidp, buf, strlen(buf), 0644, err)) < 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        goto out;
    }
    *pid = child;
    rc = 0;
out:
    if (rc < 0 && made) cn_vm_stop(env, name, 0);
    free(stack);
    json_decref(cfg);
    free(disk);
    free(cfgp);
    free(pidp);
    free(vmdir);
    return rc;
}

bool cn_vm_alive(pid_t pid)
{
    if (pid <= 0) return false;
    int st;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) return false;
    if (r == 0) return true;
    /* Not our child (adopted after a restart of the host agent). */
    return kill(pid, 0) == 0;
}

pid_t cn_vm_find(const cn_vm_env *env, const char *name)
{
    char *pidp = pid_path(env, name), *cfgp = config_path(env, name), *text = NULL, *cmd = NULL;
    size_t len;
    int64_t v = 0;
    pid_t pid = 0;
    if (cn_read_file(pidp, &text, &len, NULL) < 0) goto out;
    text[strcspn(text, "\n")] = 0;
    if (cn_parse_int64(text, &v) < 0 || v <= 1) goto out;
    /* The pid must still be this VM's init: cmdline "... vm-init CONFIG". */
    char *cl = cn_asprintf("/proc/%lld/cmdline", (long long)v);
    int r = cn_read_file(cl, &cmd, &len, NULL);
    free(cl);
    if (r < 0) goto out;
    const char *last = cmd, *p = cmd;
    bool init = false;
    while ((size_t)(p - cmd) < len) {
        if (!strcmp(p, "vm-init")) init = true;
        last = p;
        p += strlen(p) + 1;
    }
    if (init && !strcmp(last, cfgp)) pid = (pid_t)v;
out:
    free(text);
    free(cmd);
    free(pidp);
    free(cfgp);
    return pid;
}

void cn_vm_stop(const cn_vm_env *env, const char *name, pid_t pid)
{
    if (pid <= 0) pid = cn_vm_find(env, name);
    if (pid > 0 && cn_vm_alive(pid)) {
        kill(pid, SIGTERM);
        int64_t deadline = cn_now_ms() + env->stop_grace_ms;
        while (cn_vm_alive(pid) && cn_now_ms() < deadline) {
            struct timespec ts = { 0, 50 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
        if (cn_vm_alive(pid)) {
            cn_warn("host: vm %s did not stop within the grace, killing it", name);
            /* Killing the PID namespace's init kills everything in it. */
            kill(pid, SIGKILL);
            deadline = cn_now_ms() + 5000;
            while (cn_vm_alive(pid) && cn_now_ms() < deadline) {
                struct timespec ts = { 0, 20 * 1000 * 1000 };
                nanosleep(&ts, NULL);
            }
        }
    }
    network_remove(env->host, name);
    cgroups_remove(env, name);
    char *pidp = pid_path(env, name), *cfgp = config_path(env, name);
    unlink(pidp);
    unlink(cfgp);
    free(pidp);
    free(cfgp);
}

static void add_name(char ***v, size_t *n, const char *s)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*v)[i], s)) return;
    *v = cn_realloc(*v, (*n + 1) * sizeof **v);
    (*v)[(*n)++] = cn_strdup(s);
}

char **cn_vm_local_list(const cn_vm_env *env, size_t *n)
{
    char **out = NULL;
    *n = 0;
    char *vmdir = cn_asprintf("%s/vms", env->data_dir);
    DIR *d = opendir(vmdir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > 4 && !strcmp(e->d_name + l - 4, ".pid")) {
            char *nm = cn_strndup(e->d_name, l - 4);
            add_name(&out, n, nm);
            free(nm);
        }
    }
    if (d) closedir(d);
    free(vmdir);
    size_t nc;
    char **ctrls = cgroup_hierarchies(&nc);
    for (size_t i = 0; i < nc; i++) {
        char *base = cgroup_dir(ctrls[i], env->host, NULL);
        d = opendir(base);
        while (d && (e = readdir(d)))
            if (e->d_type == DT_DIR && e->d_name[0] != '.') add_name(&out, n, e->d_name);
        if (d) closedir(d);
        free(base);
    }
    free_strv(ctrls, nc);
    return out;
}

int cn_vm_remove_disk(const cn_vm_env *env, const char *name)
{
    char *disk = disk_path(env, name);
    int rc = cn_rm_rf(disk);
    free(disk);
    return rc;
}
