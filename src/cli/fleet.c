/* fleet: `cairn fleet` — the fleet's infrastructure through the bridge
 * API (docs/cli-fleet.md): hosts (list, show, maintenance on|off),
 * logical networks (create, list, show, delete), an overview (`status`)
 * and `ip-plan`, which shows how a planned cluster would use the pools of
 * its logical network, computed by the fleet model (bridge/fleet.h) on a
 * snapshot listed from the bridge, exactly as admission would. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bridge/fleet.h"
#include "bridge/fleetcli.h"
#include "bridge/placement.h"
#include "cli/bridgecli.h"
#include "cli/cli.h"
#include "lib/pki.h"
#include "lib/util.h"
#include "lib/yaml.h"

#define FLAG_END { NULL, 0, NULL, NULL, false }
#define VERB_END { NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL }

static const char *str_or(const char *s, const char *def)
{
    return s && *s ? s : def;
}

static char *num_text(const json_t *v)
{
    if (json_is_integer(v)) return cn_asprintf("%lld", (long long)json_integer_value(v));
    if (json_is_string(v)) return cn_strdup(json_string_value(v));
    return cn_strdup("-");
}

static const json_t *at(const json_t *o, const char *a, const char *b)
{
    const json_t *v = json_object_get(o, a);
    return b ? json_object_get(v, b) : v;
}

static int show_one(cn_bargs *a, const char *plural, void (*human)(const json_t *))
{
    cn_client *c = cn_bcli_client(a);
    if (!c) return 1;
    cn_err err = CN_ERR_INIT;
    _cleanup_free_ char *path = cn_bcli_path(plural, cn_bargs_pos(a, 0));
    json_t *obj = NULL;
    int rc = 0;
    if (cn_client_get(c, path, &obj, &err) < 0) rc = cn_bcli_fail(&err);
    else if (cn_bargs_format(a) || !human) cn_bcli_print(obj, cn_bargs_format(a) ? cn_bargs_format(a) : "yaml");
    else human(obj);
    json_decref(obj);
    cn_err_clear(&err);
    return rc;
}

/* ---- hosts ---- */

static json_t *host_rows(const json_t *hosts)
{
    json_t *rows = json_pack("[[s,s,s,s,s,s,s,s]]", "NAME", "PHASE", "VMS", "CPU", "MEMORY", "GPUS", "HEARTBEAT",
                             "ADDRESS");
    size_t i;
    const json_t *h;
    json_array_foreach(hosts, i, h) {
        _cleanup_free_ char *cpu_a = num_text(at(at(h, "status", NULL), "allocated", "cpu"));
        _cleanup_free_ char *cpu_c = num_text(at(at(h, "spec", NULL), "capacity", "cpu"));
        _cleanup_free_ char *mem_a = num_text(at(at(h, "status", NULL), "allocated", "memory"));
        _cleanup_free_ char *mem_c = num_text(at(at(h, "spec", NULL), "capacity", "memory"));
        _cleanup_free_ char *gpus = num_text(at(at(h, "spec", NULL), "capacity", "gpus"));
        _cleanup_free_ char *cpu = cn_asprintf("%s/%s", cpu_a, cpu_c);
        _cleanup_free_ char *mem = cn_asprintf("%s/%s", mem_a, mem_c);
        _cleanup_free_ char *vms = cn_asprintf("%zu", json_array_size(at(h, "status", "vms")));
        char hb[24] = "-";
        const char *ts = cn_json_str_at(h, "status.lastHeartbeatTime");
        if (*ts) cn_bcli_age(ts, hb);
        /* Asked for but not reached yet (VMs still moving away). */
        const char *ph = str_or(cn_json_str_at(h, "status.phase"), "Pending");
        _cleanup_free_ char *phase = json_is_true(at(h, "spec", "maintenance")) && strcmp(ph, "Maintenance")
                                         ? cn_asprintf("%s,MaintenanceRequested", ph) : cn_strdup(ph);
        json_array_append_new(rows, json_pack("[s,s,s,s,s,s,s,s]", cn_meta_str(h, "name"), phase, vms, cpu, mem,
                                              gpus, hb, str_or(cn_json_str_at(h, "spec.address"), "-")));
    }
    return rows;
}

static int cmd_host_list(cn_bargs *a)
{
    return cn_bcli_list_cmd(a, "hosts", host_rows, "no hosts (start one with `cairn host`)");
}

static void host_human(const json_t *h)
{
    json_t *one = json_pack("[O]", h);
    cn_bcli_print_rows(host_rows(one));
    json_decref(one);
    const char *msg = cn_json_str_at(h, "status.message");
    printf("\nMaintenance: %s\nMessage: %s\n", json_is_true(at(h, "spec", "maintenance")) ? "on" : "off",
           str_or(msg, "-"));
    const json_t *vms = at(h, "status", "vms");
    if (json_array_size(vms)) {
        json_t *rows = json_pack("[[s,s,s]]", "VM", "PHASE", "PID");
        size_t i;
        const json_t *v;
        json_array_foreach(vms, i, v) {
            _cleanup_free_ char *pid = num_text(json_object_get(v, "pid"));
            json_array_append_new(rows, json_pack("[s,s,s]", str_or(cn_json_str_at(v, "name"), "-"),
                                                  str_or(cn_json_str_at(v, "phase"), "-"), pid));
        }
        printf("\n");
        cn_bcli_print_rows(rows);
    }
}

static int cmd_host_show(cn_bargs *a)
{
    return show_one(a, "hosts", host_human);
}

/* Following `host maintenance`: the host's phase, and the bridge's
 * HostMaintenance Operation for it (docs/bridge.md, "Host failure and
 * maintenance"). */
typedef struct host_wait {
    cn_bfollow f;
    const char *want;           /* Maintenance or Ready */
} host_wait;

/* Done when the phase is the one wanted and, entering maintenance, the
 * host runs no VM any more (its heartbeat says so). */
static void see_host(cn_bfollow *f, cn_client *c, const json_t *h)
{
    host_wait *w = (host_wait *)f;
    if (!h) {
        cn_bfollow_fail(f, "the host was deleted");
        return;
    }
    const char *phase = str_or(cn_json_str_at(h, "status.phase"), "Pending");
    cn_bfollow_progress(f, phase, cn_json_str_at(h, "status.message"));
    if (!strcmp(phase, w->want) && (strcmp(w->want, "Maintenance") || !json_array_size(at(h, "status", "vms"))))
        f->done = 1;
}

/* Only operations that change while we wait count: an older one's
 * Succeeded is not this drain's. */
static void see_host_op(cn_bfollow *f, const json_t *op)
{
    host_wait *w = (host_wait *)f;
    if (strcmp(cn_json_str_at(op, "spec.type"), "HostMaintenance") ||
        strcmp(cn_json_str_at(op, "spec.target.name"), f->name) || strcmp(w->want, "Maintenance"))
        return;
    const char *st = cn_json_str_at(op, "status.provisioningState"), *msg = cn_json_str_at(op, "status.message");
    cn_bfollow_progress(f, str_or(st, "Accepted"), msg);
    if (!strcmp(st, "Succeeded")) f->done = 1;
    else if (!strcmp(st, "Failed")) cn_bfollow_fail(f, msg);
}

static int wait_host(cn_client *c, const char *name, const char *want, int64_t timeout_s)
{
    _cleanup_free_ char *what = cn_asprintf("host \"%s\"", name);
    host_wait w = {
        .f = { .plural = "hosts", .name = name, .what = what, .object = see_host, .operation = see_host_op },
        .want = want,
    };
    return cn_bfollow_run(&w.f, c, timeout_s);
}

static int cmd_host_maintenance(cn_bargs *a)
{
    const char *name = cn_bargs_pos(a, 0), *mode = cn_bargs_pos(a, 1);
    if (strcmp(mode, "on") && strcmp(mode, "off")) return cn_bargs_usage_error(a, "say on or off, not \"%s\"", mode);
    int64_t timeout;
    if (cn_bargs_int(a, "timeout", 1, 7 * 86400, CN_BCLI_DEFAULT_TIMEOUT, &timeout) < 0) return 2;
    cn_client *c = cn_bcli_client(a);
    if (!c) return 1;
    bool on = !strcmp(mode, "on");
    cn_err err = CN_ERR_INIT;
    _cleanup_free_ char *path = cn_bcli_path("hosts", name);
    json_t *patch = json_pack("{s:{s:b}}", "spec", "maintenance", on), *out = NULL;
    int rc = 0;
    if (cn_client_patch(c, path, CN_PATCH_MERGE, patch, &out, &err) < 0) rc = cn_bcli_fail(&err);
    else if (!cn_bargs_has(a, "no-wait")) rc = wait_host(c, name, on ? "Maintenance" : "Ready", timeout);
    if (!rc) printf("host.fleet.cairn.io/%s maintenance %s\n", name, mode);
    json_decref(patch);
    json_decref(out);
    cn_err_clear(&err);
    return rc;
}

/* ---- logical networks ---- */

static json_t *lnet_rows(const json_t *lnets)
{
    json_t *rows = json_pack("[[s,s,s,s,s,s,s,s]]", "NAME", "PREFIX", "GATEWAY", "VLAN", "SWITCH", "POOLS",
                             "USED/AVAILABLE", "STATE");
    size_t i, j;
    const json_t *l, *p;
    json_array_foreach(lnets, i, l) {
        cn_buf pools, use;
        cn_buf_init(&pools);
        cn_buf_init(&use);
        json_array_foreach(at(l, "spec", "ipPools"), j, p)
            cn_buf_addf(&pools, "%s%s-%s", j ? "," : "", cn_json_str_at(p, "start"), cn_json_str_at(p, "end"));
        json_array_foreach(at(l, "status", "ipPools"), j, p) {
            _cleanup_free_ char *u = num_text(json_object_get(p, "used"));
            _cleanup_free_ char *f = num_text(json_object_get(p, "available"));
            cn_buf_addf(&use, "%s%s/%s", j ? "," : "", u, f);
        }
        _cleanup_free_ char *vlan = num_text(at(l, "spec", "vlan"));
        json_array_append_new(rows, json_pack("[s,s,s,s,s,s,s,s]", cn_meta_str(l, "name"),
                                              str_or(cn_json_str_at(l, "spec.addressPrefix"), "-"),
                                              str_or(cn_json_str_at(l, "spec.gateway"), "-"), vlan,
                                              str_or(cn_json_str_at(l, "spec.vmSwitchName"), "-"),
                                              pools.len ? pools.data : "-", use.len ? use.data : "-",
                                              str_or(cn_json_str_at(l, "status.provisioningState"), "Pending")));
        cn_buf_release(&pools);
        cn_buf_release(&use);
    }
    return rows;
}

static int cmd_lnet_create(cn_bargs *a)
{
    int64_t vlan;
    if (cn_bargs_int(a, "vlan", 0, 4094, -1, &vlan) < 0) return 2;
    json_t *dns = cn_bargs_all(a, "dns-servers");
    cn_fleetcli_lnet_opts o = {
        .name = cn_bargs_pos(a, 0), .prefix = cn_bargs_get(a, "address-prefix"),
        .gateway = cn_bargs_get(a, "gateway"), .dns = dns, .pool_start = cn_bargs_get(a, "ip-pool-start"),
        .pool_end = cn_bargs_get(a, "ip-pool-end"), .vlan = vlan, .vm_switch = cn_bargs_get(a, "vm-switch-name"),
    };
    cn_err err = CN_ERR_INIT;
    _cleanup_free_ char *coll = cn_bcli_path("logicalnetworks", NULL);   /* before any goto */
    json_t *obj = cn_fleetcli_lnet(&o, &err), *out = NULL;
    json_decref(dns);
    int rc = 0;
    if (!obj) {
        rc = cn_bargs_usage_error(a, "%s", err.message);
        goto out;
    }
    cn_client *c = cn_bcli_client(a);
    if (!c) {
        rc = 1;
        goto out;
    }
    if (cn_client_create(c, coll, obj, &out, &err) < 0) rc = cn_bcli_fail(&err);
    else if (cn_bargs_format(a)) cn_bcli_print(out, cn_bargs_format(a));
    else printf("logicalnetwork.fleet.cairn.io/%s created\n", o.name);
out:
    json_decref(obj);
    json_decref(out);
    cn_err_clear(&err);
    return rc;
}

static int cmd_lnet_list(cn_bargs *a)
{
    return cn_bcli_list_cmd(a, "logicalnetworks", lnet_rows, "no logical networks");
}

static void lnet_human(const json_t *l)
{
    json_t *one = json_pack("[O]", l);
    cn_bcli_print_rows(lnet_rows(one));
    json_decref(one);
    const json_t *dns = at(l, "spec", "dnsServers"), *d;
    printf("\nDNS servers: ");
    size_t i;
    json_array_foreach(dns, i, d) printf("%s%s", i ? ", " : "", json_string_value(d));
    printf("%s\n", json_array_size(dns) ? "" : "-");
}

static int cmd_lnet_show(cn_bargs *a)
{
    return show_one(a, "logicalnetworks", lnet_human);
}

static int cmd_lnet_delete(cn_bargs *a)
{
    const char *name = cn_bargs_pos(a, 0);
    _cleanup_free_ char *what = cn_asprintf("logical network \"%s\"", name);
    if (!cn_bcli_consent(a, what, NULL)) return 1;
    cn_client *c = cn_bcli_client(a);
    if (!c) return 1;
    cn_err err = CN_ERR_INIT;
    _cleanup_free_ char *path = cn_bcli_path("logicalnetworks", name);
    int rc = 0;
    if (cn_client_delete(c, path, NULL, NULL, &err) < 0) rc = cn_bcli_fail(&err);
    else printf("logicalnetwork.fleet.cairn.io/%s deleted\n", name);
    cn_err_clear(&err);
    return rc;
}

/* ---- status ---- */

static int cmd_status(cn_bargs *a)
{
    static const char *const plurals[] = { "hosts", "logicalnetworks", "clusters", "virtualmachines" };
    json_t *lists[4] = { NULL };
    cn_client *c = cn_bcli_client(a);
    if (!c) return 1;
    cn_err err = CN_ERR_INIT;
    int rc = 0;
    for (size_t i = 0; i < 4 && rc == 0; i++)
        if (!(lists[i] = cn_bcli_list(c, plurals[i], &err))) rc = cn_bcli_fail(&err);
    if (rc) goto out;
    if (cn_bargs_format(a)) {
        json_t *o = json_pack("{s:O, s:O, s:O, s:O}", "hosts", lists[0], "logicalNetworks", lists[1], "clusters",
                              lists[2], "virtualMachines", lists[3]);
        cn_bcli_print(o, cn_bargs_format(a));
        json_decref(o);
        goto out;
    }
    size_t ready = 0, i;
    const json_t *h;
    json_array_foreach(lists[0], i, h) ready += !strcmp(cn_json_str_at(h, "status.phase"), "Ready");
    printf("Fleet: %zu/%zu hosts Ready (at most %d), %zu/%d clusters, %zu/%d node VMs, %zu logical networks\n",
           ready, json_array_size(lists[0]), CN_PL_MAX_HOSTS, json_array_size(lists[2]), CN_PL_MAX_CLUSTERS,
           json_array_size(lists[3]), CN_PL_MAX_VMS, json_array_size(lists[1]));
    printf("\nHosts:\n");
    if (json_array_size(lists[0])) cn_bcli_print_rows(host_rows(lists[0]));
    else printf("  none\n");
    printf("\nClusters:\n");
    if (json_array_size(lists[2])) cn_bcli_print_rows(cn_cluster_table(lists[2]));
    else printf("  none\n");
    printf("\nIP pools:\n");
    json_t *rows = json_pack("[[s,s,s,s,s]]", "LNET", "POOL", "RANGE", "USED", "AVAILABLE");
    const json_t *l, *p;
    json_array_foreach(lists[1], i, l) {
        size_t j;
        json_array_foreach(at(l, "spec", "ipPools"), j, p) {
            const char *pname = str_or(cn_json_str_at(p, "name"), "-");
            const json_t *st = cn_fleetcli_find_pool(at(l, "status", "ipPools"), pname);
            _cleanup_free_ char *range = cn_asprintf("%s-%s", cn_json_str_at(p, "start"), cn_json_str_at(p, "end"));
            _cleanup_free_ char *used = num_text(json_object_get(st, "used"));
            _cleanup_free_ char *avail = num_text(json_object_get(st, "available"));
            json_array_append_new(rows, json_pack("[s,s,s,s,s]", cn_meta_str(l, "name"), pname, range, used, avail));
        }
    }
    if (json_array_size(rows) > 1) cn_bcli_print_rows(rows);
    else {
        printf("  none\n");
        json_decref(rows);
    }
out:
    for (size_t k = 0; k < 4; k++) json_decref(lists[k]);
    cn_err_clear(&err);
    return rc;
}

/* ---- ip-plan ---- */

/* The Cluster of -f FILE (the first Cluster document), or NULL after an
 * error. */
static json_t *cluster_from_file(const char *file, cn_err *err)
{
    char *text = NULL;
    size_t len;
    json_t *docs = NULL, *found = NULL;
    if (cn_read_file(!strcmp(file, "-") ? "/dev/stdin" : file, &text, &len, err) < 0) return NULL;
    if (cn_yaml_parse_all(text, len, &docs, err) == 0) {
        size_t i;
        json_t *d;
        json_array_foreach(docs, i, d)
            if (!found && !strcmp(cn_json_str_at(d, "kind"), "Cluster")) found = json_incref(d);
        if (!found) cn_err_bad_request(err, "%s holds no Cluster", file);
    } else {
        cn_err_wrap(err, "%s", file);
    }
    json_decref(docs);
    free(text);
    return found;
}

static int cmd_ip_plan(cn_bargs *a)
{
    const char *file = cn_bargs_get(a, "filename"), *name = cn_bargs_pos(a, 0);
    cn_err err = CN_ERR_INIT;
    json_t *obj = NULL, *lists[4] = { NULL }, *report = NULL;
    int rc = 0;
    if (file && name) return cn_bargs_usage_error(a, "give -f FILE or NAME with flags, not both");
    if (!file && !name) return cn_bargs_usage_error(a, "give -f FILE or NAME --lnet LNET [flags]");
    if (file) {
        if (!(obj = cluster_from_file(file, &err))) rc = cn_bcli_fail(&err);
    } else {
        rc = cn_cluster_from_flags(a, name, &obj);
    }
    if (rc) goto out;
    cn_client *c = cn_bcli_client(a);
    if (!c) {
        rc = 1;
        goto out;
    }
    static const char *const plurals[] = { "hosts", "logicalnetworks", "clusters", "virtualmachines" };
    for (size_t i = 0; i < 4 && !rc; i++)
        if (!(lists[i] = cn_bcli_list(c, plurals[i], &err))) rc = cn_bcli_fail(&err);
    if (rc) goto out;
    cn_fleet *f = cn_fleet_new(lists[0], lists[1], lists[2], lists[3]);
    cn_fleet_default_cluster(obj);
    report = cn_fleet_ip_plan(f, obj, &err);
    cn_fleet_free(f);
    if (!report) {
        rc = cn_bcli_fail(&err);
    } else if (cn_bargs_format(a)) {
        cn_bcli_print(report, cn_bargs_format(a));
    } else {
        cn_buf b;
        cn_buf_init(&b);
        cn_fleetcli_ip_plan_render(&b, report);
        fputs(b.data ? b.data : "", stdout);
        cn_buf_release(&b);
    }
out:
    json_decref(obj);
    json_decref(report);
    for (size_t k = 0; k < 4; k++) json_decref(lists[k]);
    cn_err_clear(&err);
    return rc;
}

/* ---- the command table ---- */

static const cn_bflag output_flags[] = { CN_BFLAG_OUTPUT, FLAG_END };
static const cn_bflag maintenance_flags[] = { CN_BFLAG_NO_WAIT, CN_BFLAG_TIMEOUT, FLAG_END };
static const cn_bflag delete_flags[] = { { "yes", 'y', NULL, "do not ask for confirmation", false }, FLAG_END };
static const cn_bflag lnet_flags[] = {
    { "address-prefix", 0, "CIDR", "its one address prefix (required)", false },
    { "gateway", 0, "IP", "default gateway, inside the prefix (required)", false },
    { "dns-servers", 0, "IP[,IP]", "DNS servers (required)", true },
    { "ip-pool-start", 0, "IP", "first address of its static IP pool \"vms\" (required)", false },
    { "ip-pool-end", 0, "IP", "last address of that pool (required)", false },
    { "vlan", 0, "N", "VLAN id, 0-4094 (default 0: none)", false },
    { "vm-switch-name", 0, "NAME", "Linux bridge on every host that VM NICs join (default: the bridge's)", false },
    CN_BFLAG_OUTPUT, FLAG_END,
};
static const cn_bflag ip_plan_flags[] = {
    { "filename", 'f', "FILE", "a Cluster as YAML or JSON (- for stdin), instead of NAME and flags", false },
    CLUSTER_SPEC_FLAGS, CN_BFLAG_OUTPUT, FLAG_END,
};

static const cn_bverb host_verbs[] = {
    { "list", NULL, 0, 0, "list the hosts", output_flags, cmd_host_list, NULL, NULL },
    { "show", "NAME", 1, 1, "show a host and the VMs it runs", output_flags, cmd_host_show, NULL, NULL },
    { "maintenance", "NAME on|off", 2, 2,
      "drain a host for maintenance (its VMs move away, nothing new is placed) or bring it back",
      maintenance_flags, cmd_host_maintenance, NULL, NULL },
    VERB_END,
};

static const cn_bverb lnet_verbs[] = {
    { "create", "NAME", 1, 1, "create a logical network (static IP pool)", lnet_flags, cmd_lnet_create, NULL, NULL },
    { "list", NULL, 0, 0, "list the logical networks and their pools' use", output_flags, cmd_lnet_list, NULL, NULL },
    { "show", "NAME", 1, 1, "show a logical network", output_flags, cmd_lnet_show, NULL, NULL },
    { "delete", "NAME", 1, 1, "delete a logical network no cluster uses", delete_flags, cmd_lnet_delete, NULL, NULL },
    VERB_END,
};

static const char ip_plan_more[] =
    "Nothing is created. The plan is what admission would compute now: for each IP\n"
    "pool of the cluster's logical network, its size, what other clusters use, what\n"
    "this cluster's node VMs, upgrade surge and endpoint would take, and what stays\n"
    "free; a plan that would be refused prints the refusal (exit 1). Examples:\n"
    "  cairn fleet ip-plan -f cluster.yaml\n"
    "  cairn fleet ip-plan c2 --lnet lnet1 --control-plane-count 3 --node-count 5\n";

static const cn_bverb verbs[] = {
    { "status", NULL, 0, 0, "an overview: hosts, clusters, IP pools", output_flags, cmd_status, NULL, NULL },
    { "hosts", NULL, 0, 0, "list the hosts (as host list)", output_flags, cmd_host_list, NULL, NULL },
    { "host", NULL, 0, 0, "hosts: list, show, maintenance", NULL, NULL, host_verbs, NULL },
    { "lnet", NULL, 0, 0, "logical networks: create, list, show, delete", NULL, NULL, lnet_verbs, NULL },
    { "ip-plan", "[NAME]", 0, 1, "how a planned cluster would use its logical network's IP pools", ip_plan_flags,
      cmd_ip_plan, NULL, ip_plan_more },
    VERB_END,
};

int cn_cmd_fleet(int argc, char **argv)
{
    return cn_bcli_main("cairn fleet", "The fleet behind the bridge: hosts, logical networks, overview, IP plans.",
                        verbs, argc, argv);
}
