/* vm: the node VM sandbox `cairn host` runs (docs/host.md). A VM is not a
 * hypervisor guest here but a set of namespaces and a cgroup:
 *
 *  - a network namespace bind-mounted at /run/netns/cnvm-<host>-<vm>, whose eth0
 *    is one end of a veth pair; the other end (cnv-<hash>) is joined to the
 *    Linux bridge spec.vmSwitchName in the host's own namespace. eth0 has
 *    spec.ip/prefixLength and a default route via spec.gateway;
 *  - a cgroup v1 directory <mount>/cairn-host-<host>/<vm> in every mounted
 *    hierarchy, sized from spec.cpu (cfs quota) and spec.memoryMiB;
 *  - the VM init (`cairn host vm-init CONFIG`), cloned into new mount,
 *    PID and UTS namespaces: it enters the network namespace and its
 *    cgroups, makes its mounts private, mounts a fresh /proc and a tmpfs on
 *    /run, binds its cgroup directories over /sys/fs/cgroup/<ctrl> (so the
 *    agent inside sees the VM's limits and nests its containers under
 *    them), binds a resolv.conf from spec.dnsServers over /etc/resolv.conf,
 *    and then starts the node software and restarts it when it dies.
 *
 * The disk is STORAGE/vms/<vm> (shared by every host). */
#ifndef CN_VM_H
#define CN_VM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>
#include "lib/err.h"

/* Where one host keeps its VMs. */
typedef struct cn_vm_env {
    const char *host;        /* this host's name */
    const char *storage;     /* shared storage: disks in STORAGE/vms/<vm> */
    const char *data_dir;    /* host-local: DATA/vms/<vm>.{json,pid} */
    const char *cairn;       /* the cairn binary run inside VMs (absolute) */
    const char *etcd;        /* the etcd binary ("etcd": from PATH) */
    bool server_has_vip;     /* `cairn server --help` mentions --vip */
    const char *const *agent_args; size_t nagent_args;   /* extra `cairn agent` flags */
    int stop_grace_ms;       /* SIGTERM, then SIGKILL after this */
} cn_vm_env;

/* What the host read from the cluster's PKI Secret (fleet-system/<pkiSecret>). */
typedef struct cn_vm_pki {
    char *ca_crt, *ca_key, *sa_key, *sa_pub, *token;
} cn_vm_pki;
void cn_vm_pki_release(cn_vm_pki *p);

/* Prepare and start the VM of object vm (a VirtualMachine): disk, seeded
 * PKI (control plane, first boot), cgroups, network namespace and veth,
 * then the VM init. *pid is the VM init's pid (our child). On failure
 * everything made so far is removed again; err says why (e.g. `vm switch
 * "X" not found on host H`). */
int cn_vm_start(const cn_vm_env *env, const json_t *vm, const cn_vm_pki *pki, pid_t *pid,
                cn_err *err);

/* Stop the VM `name` whose init is pid (0: none known): SIGTERM, SIGKILL
 * after the grace, then remove its network namespace, veth, cgroups and
 * pid file. Safe on a VM that is half made or already gone. */
void cn_vm_stop(const cn_vm_env *env, const char *name, pid_t pid);

/* The pid recorded in DATA/vms/<vm>.pid if that process still is a VM
 * init of this VM, else 0. */
pid_t cn_vm_find(const cn_vm_env *env, const char *name);

/* Whether pid is alive (reaps it when it is our child). */
bool cn_vm_alive(pid_t pid);

/* The names of the VMs with state on this host (pid files, cgroup
 * directories); owned array of owned strings, *n entries. */
char **cn_vm_local_list(const cn_vm_env *env, size_t *n);

/* Remove the disk STORAGE/vms/<name>. */
int cn_vm_remove_disk(const cn_vm_env *env, const char *name);

/* Names for the sandbox pieces (for tests and docs). */
/* /run/netns/cnvm-<host>-<vm>, owned: with the host in the name, hosts
 * sharing one machine never touch each other's copy of a moved VM. */
char *cn_vm_netns_path(const char *host, const char *vm);
void cn_vm_veth_name(const char *vm, char out[16]);

/* Write s to an existing file (a cgroup control file): no temp file, no
 * rename. 0 or -errno. */
int cn_vm_write_str(const char *path, const char *s);

/* The hidden `cairn host vm-init CONFIG`: never returns on success. */
int cn_vm_init_main(int argc, char **argv);

#endif
