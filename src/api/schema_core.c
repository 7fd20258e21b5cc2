/* schema tables: core/v1.
 * Field names, numbers, types and patch strategies of the published API,
 * one MSG_DEF per message (macros in schema-internal.h). */
#include "api/schema-internal.h"

/* ---- core/v1 ---- */

MSG_DEF(core_v1_Namespace, "io.k8s.api.core.v1.Namespace",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(core_v1_NamespaceSpec)),
    F("status", 3, MESSAGE, MSG(core_v1_NamespaceStatus)))

MSG_DEF(core_v1_NamespaceSpec, "io.k8s.api.core.v1.NamespaceSpec",
    F("finalizers", 1, STRING, REP))

MSG_DEF(core_v1_NamespaceStatus, "io.k8s.api.core.v1.NamespaceStatus",
    F("phase", 1, STRING),
    F("conditions", 2, MESSAGE, REP, MSG(core_v1_NamespaceCondition), MERGE("type")))

MSG_DEF(core_v1_NamespaceCondition, "io.k8s.api.core.v1.NamespaceCondition",
    F("type", 1, STRING),
    F("status", 2, STRING),
    F("lastTransitionTime", 4, TIME),
    F("reason", 5, STRING),
    F("message", 6, STRING))

MSG_DEF(core_v1_Pod, "io.k8s.api.core.v1.Pod",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(core_v1_PodSpec)),
    F("status", 3, MESSAGE, MSG(core_v1_PodStatus)))

MSG_DEF(core_v1_PodSpec, "io.k8s.api.core.v1.PodSpec",
    F("volumes", 1, MESSAGE, REP, MSG(core_v1_Volume), MERGE_RETAIN("name")),
    F("containers", 2, MESSAGE, REP, MSG(core_v1_Container), MERGE("name")),
    F("restartPolicy", 3, STRING),
    F("terminationGracePeriodSeconds", 4, INT64, OPT),
    F("activeDeadlineSeconds", 5, INT64, OPT),
    F("dnsPolicy", 6, STRING),
    F("nodeSelector", 7, MAP, ELEM(STRING)),
    F("serviceAccountName", 8, STRING),
    F("serviceAccount", 9, STRING),
    F("nodeName", 10, STRING),
    F("hostNetwork", 11, BOOL),
    F("hostPID", 12, BOOL),
    F("hostIPC", 13, BOOL),
    F("securityContext", 14, MESSAGE, MSG(core_v1_PodSecurityContext), OPT),
    F("imagePullSecrets", 15, MESSAGE, REP, MSG(core_v1_LocalObjectReference), MERGE("name")),
    F("hostname", 16, STRING),
    F("subdomain", 17, STRING),
    F("affinity", 18, MESSAGE, MSG(core_v1_Affinity), OPT),
    F("schedulerName", 19, STRING),
    F("initContainers", 20, MESSAGE, REP, MSG(core_v1_Container), MERGE("name")),
    F("automountServiceAccountToken", 21, BOOL, OPT),
    F("tolerations", 22, MESSAGE, REP, MSG(core_v1_Toleration)),
    F("hostAliases", 23, MESSAGE, REP, MSG(core_v1_HostAlias), MERGE("ip")),
    F("priorityClassName", 24, STRING),
    F("priority", 25, INT32, OPT),
    F("dnsConfig", 26, MESSAGE, MSG(core_v1_PodDNSConfig), OPT),
    F("shareProcessNamespace", 27, BOOL, OPT),
    F("readinessGates", 28, MESSAGE, REP, MSG(core_v1_PodReadinessGate)),
    F("runtimeClassName", 29, STRING, OPT),
    F("enableServiceLinks", 30, BOOL, OPT),
    F("preemptionPolicy", 31, STRING, OPT),
    F("overhead", 32, MAP, ELEM(QUANTITY)),
    F("topologySpreadConstraints", 33, MESSAGE, REP, MSG(core_v1_TopologySpreadConstraint), MERGE("topologyKey")),
    F("ephemeralContainers", 34, MESSAGE, REP, MSG(core_v1_EphemeralContainer), MERGE("name")),
    F("setHostnameAsFQDN", 35, BOOL, OPT),
    F("os", 36, MESSAGE, MSG(core_v1_PodOS), OPT),
    F("hostUsers", 37, BOOL, OPT),
    F("schedulingGates", 38, MESSAGE, REP, MSG(core_v1_PodSchedulingGate), MERGE("name")),
    F("resourceClaims", 39, MESSAGE, REP, MSG(core_v1_PodResourceClaim), MERGE_RETAIN("name")),
    F("resources", 40, MESSAGE, MSG(core_v1_ResourceRequirements), OPT))

MSG_DEF(core_v1_Volume, "io.k8s.api.core.v1.Volume",
    F("name", 1, STRING),
    F(NULL, 2, MESSAGE, MSG(core_v1_VolumeSource), INLINE))

MSG_DEF(core_v1_VolumeSource, "io.k8s.api.core.v1.VolumeSource",
    F("hostPath", 1, MESSAGE, MSG(core_v1_HostPathVolumeSource), OPT),
    F("emptyDir", 2, MESSAGE, MSG(core_v1_EmptyDirVolumeSource), OPT),
    F("gcePersistentDisk", 3, MESSAGE, MSG(core_v1_GCEPersistentDiskVolumeSource), OPT),
    F("awsElasticBlockStore", 4, MESSAGE, MSG(core_v1_AWSElasticBlockStoreVolumeSource), OPT),
    F("gitRepo", 5, MESSAGE, MSG(core_v1_GitRepoVolumeSource), OPT),
    F("secret", 6, MESSAGE, MSG(core_v1_SecretVolumeSource), OPT),
    F("nfs", 7, MESSAGE, MSG(core_v1_NFSVolumeSource), OPT),
    F("iscsi", 8, MESSAGE, MSG(core_v1_ISCSIVolumeSource), OPT),
    F("glusterfs", 9, MESSAGE, MSG(core_v1_GlusterfsVolumeSource), OPT),
    F("persistentVolumeClaim", 10, MESSAGE, MSG(core_v1_PersistentVolumeClaimVolumeSource), OPT),
    F("rbd", 11, MESSAGE, MSG(core_v1_RBDVolumeSource), OPT),
    F("flexVolume", 12, MESSAGE, MSG(core_v1_FlexVolumeSource), OPT),
    F("cinder", 13, MESSAGE, MSG(core_v1_CinderVolumeSource), OPT),
    F("cephfs", 14, MESSAGE, MSG(core_v1_CephFSVolumeSource), OPT),
    F("flocker", 15, MESSAGE, MSG(core_v1_FlockerVolumeSource), OPT),
    F("downwardAPI", 16, MESSAGE, MSG(core_v1_DownwardAPIVolumeSource), OPT),
    F("fc", 17, MESSAGE, MSG(core_v1_FCVolumeSource), OPT),
    F("azureFile", 18, MESSAGE, MSG(core_v1_AzureFileVolumeSource), OPT),
    F("configMap", 19, MESSAGE, MSG(core_v1_ConfigMapVolumeSource), OPT),
    F("vsphereVolume", 20, MESSAGE, MSG(core_v1_VsphereVirtualDiskVolumeSource), OPT),
    F("quobyte", 21, MESSAGE, MSG(core_v1_QuobyteVolumeSource), OPT),
    F("azureDisk", 22, MESSAGE, MSG(core_v1_AzureDiskVolumeSource), OPT),
    F("photonPersistentDisk", 23, MESSAGE, MSG(core_v1_PhotonPersistentDiskVolumeSource), OPT),
    F("portworxVolume", 24, MESSAGE, MSG(core_v1_PortworxVolumeSource), OPT),
    F("scaleIO", 25, MESSAGE, MSG(core_v1_ScaleIOVolumeSource), OPT),
    F("projected", 26, MESSAGE, MSG(core_v1_ProjectedVolumeSource), OPT),
    F("storageos", 27, MESSAGE, MSG(core_v1_StorageOSVolumeSource), OPT),
    F("csi", 28, MESSAGE, MSG(core_v1_CSIVolumeSource), OPT),
    F("ephemeral", 29, MESSAGE, MSG(core_v1_EphemeralVolumeSource), OPT),
    F("image", 30, MESSAGE, MSG(core_v1_ImageVolumeSource), OPT))

MSG_DEF(core_v1_HostPathVolumeSource, "io.k8s.api.core.v1.HostPathVolumeSource",
    F("path", 1, STRING),
    F("type", 2, STRING, OPT))

MSG_DEF(core_v1_EmptyDirVolumeSource, "io.k8s.api.core.v1.EmptyDirVolumeSource",
    F("medium", 1, STRING),
    F("sizeLimit", 2, QUANTITY, OPT))

MSG_DEF(core_v1_GCEPersistentDiskVolumeSource, "io.k8s.api.core.v1.GCEPersistentDiskVolumeSource",
    F("pdName", 1, STRING),
    F("fsType", 2, STRING),
    F("partition", 3, INT32),
    F("readOnly", 4, BOOL))

MSG_DEF(core_v1_AWSElasticBlockStoreVolumeSource, "io.k8s.api.core.v1.AWSElasticBlockStoreVolumeSource",
    F("volumeID", 1, STRING),
    F("fsType", 2, STRING),
    F("partition", 3, INT32),
    F("readOnly", 4, BOOL))

MSG_DEF(core_v1_GitRepoVolumeSource, "io.k8s.api.core.v1.GitRepoVolumeSource",
    F("repository", 1, STRING),
    F("revision", 2, STRING),
    F("directory", 3, STRING))

MSG_DEF(core_v1_SecretVolumeSource, "io.k8s.api.core.v1.SecretVolumeSource",
    F("secretName", 1, STRING),
    F("items", 2, MESSAGE, REP, MSG(core_v1_KeyToPath)),
    F("defaultMode", 3, INT32, OPT),
    F("optional", 4, BOOL, OPT))

MSG_DEF(core_v1_KeyToPath, "io.k8s.api.core.v1.KeyToPath",
    F("key", 1, STRING),
    F("path", 2, STRING),
    F("mode", 3, INT32, OPT))

MSG_DEF(core_v1_NFSVolumeSource, "io.k8s.api.core.v1.NFSVolumeSource",
    F("server", 1, STRING),
    F("path", 2, STRING),
    F("readOnly", 3, BOOL))

MSG_DEF(core_v1_ISCSIVolumeSource, "io.k8s.api.core.v1.ISCSIVolumeSource",
    F("targetPortal", 1, STRING),
    F("iqn", 2, STRING),
    F("lun", 3, INT32),
    F("iscsiInterface", 4, STRING),
    F("fsType", 5, STRING),
    F("readOnly", 6, BOOL),
    F("portals", 7, STRING, REP),
    F("chapAuthDiscovery", 8, BOOL),
    F("secretRef", 10, MESSAGE, MSG(core_v1_LocalObjectReference), OPT),
    F("chapAuthSession", 11, BOOL),
    F("initiatorName", 12, STRING, OPT))

MSG_DEF(core_v1_LocalObjectReference, "io.k8s.api.core.v1.LocalObjectReference",
    F("name", 1, STRING))

MSG_DEF(core_v1_GlusterfsVolumeSource, "io.k8s.api.core.v1.GlusterfsVolumeSource",
    F("endpoints", 1, STRING),
    F("path", 2, STRING),
    F("readOnly", 3, BOOL))

MSG_DEF(core_v1_PersistentVolumeClaimVolumeSource, "io.k8s.api.core.v1.PersistentVolumeClaimVolumeSource",
    F("claimName", 1, STRING),
    F("readOnly", 2, BOOL))

MSG_DEF(core_v1_RBDVolumeSource, "io.k8s.api.core.v1.RBDVolumeSource",
    F("monitors", 1, STRING, REP),
    F("image", 2, STRING),
    F("fsType", 3, STRING),
    F("pool", 4, STRING),
    F("user", 5, STRING),
    F("keyring", 6, STRING),
    F("secretRef", 7, MESSAGE, MSG(core_v1_LocalObjectReference), OPT),
    F("readOnly", 8, BOOL))

MSG_DEF(core_v1_FlexVolumeSource, "io.k8s.api.core.v1.FlexVolumeSource",
    F("driver", 1, STRING),
    F("fsType", 2, STRING),
    F("secretRef", 3, MESSAGE, MSG(core_v1_LocalObjectReference), OPT),
    F("readOnly", 4, BOOL),
    F("options", 5, MAP, ELEM(STRING)))

MSG_DEF(core_v1_CinderVolumeSource, "io.k8s.api.core.v1.CinderVolumeSource",
    F("volumeID", 1, STRING),
    F("fsType", 2, STRING),
    F("readOnly", 3, BOOL),
    F("secretRef", 4, MESSAGE, MSG(core_v1_LocalObjectReference), OPT))

MSG_DEF(core_v1_CephFSVolumeSource, "io.k8s.api.core.v1.CephFSVolumeSource",
    F("monitors", 1, STRING, REP),
    F("path", 2, STRING),
    F("user", 3, STRING),
    F("secretFile", 4, STRING),
    F("secretRef", 5, MESSAGE, MSG(core_v1_LocalObjectReference), OPT),
    F("readOnly", 6, BOOL))

MSG_DEF(core_v1_FlockerVolumeSource, "io.k8s.api.core.v1.FlockerVolumeSource",
    F("datasetName", 1, STRING),
    F("datasetUUID", 2, STRING))

MSG_DEF(core_v1_DownwardAPIVolumeSource, "io.k8s.api.core.v1.DownwardAPIVolumeSource",
    F("items", 1, MESSAGE, REP, MSG(core_v1_DownwardAPIVolumeFile)),
    F("defaultMode", 2, INT32, OPT))

MSG_DEF(core_v1_DownwardAPIVolumeFile, "io.k8s.api.core.v1.DownwardAPIVolumeFile",
    F("path", 1, STRING),
    F("fieldRef", 2, MESSAGE, MSG(core_v1_ObjectFieldSelector), OPT),
    F("resourceFieldRef", 3, MESSAGE, MSG(core_v1_ResourceFieldSelector), OPT),
    F("mode", 4, INT32, OPT))

MSG_DEF(core_v1_ObjectFieldSelector, "io.k8s.api.core.v1.ObjectFieldSelector",
    F("apiVersion", 1, STRING),
    F("fieldPath", 2, STRING))

MSG_DEF(core_v1_ResourceFieldSelector, "io.k8s.api.core.v1.ResourceFieldSelector",
    F("containerName", 1, STRING),
    F("resource", 2, STRING),
    F("divisor", 3, QUANTITY))

MSG_DEF(core_v1_FCVolumeSource, "io.k8s.api.core.v1.FCVolumeSource",
    F("targetWWNs", 1, STRING, REP),
    F("lun", 2, INT32, OPT),
    F("fsType", 3, STRING),
    F("readOnly", 4, BOOL),
    F("wwids", 5, STRING, REP))

MSG_DEF(core_v1_AzureFileVolumeSource, "io.k8s.api.core.v1.AzureFileVolumeSource",
    F("secretName", 1, STRING),
    F("shareName", 2, STRING),
    F("readOnly", 3, BOOL))

MSG_DEF(core_v1_ConfigMapVolumeSource, "io.k8s.api.core.v1.ConfigMapVolumeSource",
    F(NULL, 1, MESSAGE, MSG(core_v1_LocalObjectReference), INLINE),
    F("items", 2, MESSAGE, REP, MSG(core_v1_KeyToPath)),
    F("defaultMode", 3, INT32, OPT),
    F("optional", 4, BOOL, OPT))

MSG_DEF(core_v1_VsphereVirtualDiskVolumeSource, "io.k8s.api.core.v1.VsphereVirtualDiskVolumeSource",
    F("volumePath", 1, STRING),
    F("fsType", 2, STRING),
    F("storagePolicyName", 3, STRING),
    F("storagePolicyID", 4, STRING))

MSG_DEF(core_v1_QuobyteVolumeSource, "io.k8s.api.core.v1.QuobyteVolumeSource",
    F("registry", 1, STRING),
    F("volume", 2, STRING),
    F("readOnly", 3, BOOL),
    F("user", 4, STRING),
    F("group", 5, STRING),
    F("tenant", 6, STRING))

MSG_DEF(core_v1_AzureDiskVolumeSource, "io.k8s.api.core.v1.AzureDiskVolumeSource",
    F("diskName", 1, STRING),
    F("diskURI", 2, STRING),
    F("cachingMode", 3, STRING, OPT),
    F("fsType", 4, STRING, OPT),
    F("readOnly", 5, BOOL, OPT),
    F("kind", 6, STRING, OPT))

MSG_DEF(core_v1_PhotonPersistentDiskVolumeSource, "io.k8s.api.core.v1.PhotonPersistentDiskVolumeSource",
    F("pdID", 1, STRING),
    F("fsType", 2, STRING))

MSG_DEF(core_v1_PortworxVolumeSource, "io.k8s.api.core.v1.PortworxVolumeSource",
    F("volumeID", 1, STRING),
    F("fsType", 2, STRING),
    F("readOnly", 3, BOOL))

MSG_DEF(core_v1_ScaleIOVolumeSource, "io.k8s.api.core.v1.ScaleIOVolumeSource",
    F("gateway", 1, STRING),
    F("system", 2, STRING),
    F("secretRef", 3, MESSAGE, MSG(core_v1_LocalObjectReference), OPT),
    F("sslEnabled", 4, BOOL),
    F("protectionDomain", 5, STRING),
    F("storagePool", 6, STRING),
    F("storageMode", 7, STRING),
    F("volumeName", 8, STRING),
    F("fsType", 9, STRING),
    F("readOnly", 10, BOOL))

MSG_DEF(core_v1_ProjectedVolumeSource, "io.k8s.api.core.v1.ProjectedVolumeSource",
    F("sources", 1, MESSAGE, REP, MSG(core_v1_VolumeProjection)),
    F("defaultMode", 2, INT32, OPT))

MSG_DEF(core_v1_VolumeProjection, "io.k8s.api.core.v1.VolumeProjection",
    F("secret", 1, MESSAGE, MSG(core_v1_SecretProjection), OPT),
    F("downwardAPI", 2, MESSAGE, MSG(core_v1_DownwardAPIProjection), OPT),
    F("configMap", 3, MESSAGE, MSG(core_v1_ConfigMapProjection), OPT),
    F("serviceAccountToken", 4, MESSAGE, MSG(core_v1_ServiceAccountTokenProjection), OPT),
    F("clusterTrustBundle", 5, MESSAGE, MSG(core_v1_ClusterTrustBundleProjection), OPT))

MSG_DEF(core_v1_SecretProjection, "io.k8s.api.core.v1.SecretProjection",
    F(NULL, 1, MESSAGE, MSG(core_v1_LocalObjectReference), INLINE),
    F("items", 2, MESSAGE, REP, MSG(core_v1_KeyToPath)),
    F("optional", 4, BOOL, OPT))

MSG_DEF(core_v1_DownwardAPIProjection, "io.k8s.api.core.v1.DownwardAPIProjection",
    F("items", 1, MESSAGE, REP, MSG(core_v1_DownwardAPIVolumeFile)))

MSG_DEF(core_v1_ConfigMapProjection, "io.k8s.api.core.v1.ConfigMapProjection",
    F(NULL, 1, MESSAGE, MSG(core_v1_LocalObjectReference), INLINE),
    F("items", 2, MESSAGE, REP, MSG(core_v1_KeyToPath)),
    F("optional", 4, BOOL, OPT))

MSG_DEF(core_v1_ServiceAccountTokenProjection, "io.k8s.api.core.v1.ServiceAccountTokenProjection",
    F("audience", 1, STRING),
    F("expirationSeconds", 2, INT64, OPT),
    F("path", 3, STRING))

MSG_DEF(core_v1_ClusterTrustBundleProjection, "io.k8s.api.core.v1.ClusterTrustBundleProjection",
    F("name", 1, STRING, OPT),
    F("signerName", 2, STRING, OPT),
    F("labelSelector", 3, MESSAGE, MSG(meta_v1_LabelSelector), OPT),
    F("path", 4, STRING),
    F("optional", 5, BOOL, OPT))

MSG_DEF(core_v1_StorageOSVolumeSource, "io.k8s.api.core.v1.StorageOSVolumeSource",
    F("volumeName", 1, STRING),
    F("volumeNamespace", 2, STRING),
    F("fsType", 3, STRING),
    F("readOnly", 4, BOOL),
    F("secretRef", 5, MESSAGE, MSG(core_v1_LocalObjectReference), OPT))

MSG_DEF(core_v1_CSIVolumeSource, "io.k8s.api.core.v1.CSIVolumeSource",
    F("driver", 1, STRING),
    F("readOnly", 2, BOOL, OPT),
    F("fsType", 3, STRING, OPT),
    F("volumeAttributes", 4, MAP, ELEM(STRING)),
    F("nodePublishSecretRef", 5, MESSAGE, MSG(core_v1_LocalObjectReference), OPT))

MSG_DEF(core_v1_EphemeralVolumeSource, "io.k8s.api.core.v1.EphemeralVolumeSource",
    F("volumeClaimTemplate", 1, MESSAGE, MSG(core_v1_PersistentVolumeClaimTemplate), OPT))

MSG_DEF(core_v1_PersistentVolumeClaimTemplate, "io.k8s.api.core.v1.PersistentVolumeClaimTemplate",
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(core_v1_PersistentVolumeClaimSpec)))

MSG_DEF(core_v1_PersistentVolumeClaimSpec, "io.k8s.api.core.v1.PersistentVolumeClaimSpec",
    F("accessModes", 1, STRING, REP),
    F("resources", 2, MESSAGE, MSG(core_v1_VolumeResourceRequirements)),
    F("volumeName", 3, STRING),
    F("selector", 4, MESSAGE, MSG(meta_v1_LabelSelector), OPT),
    F("storageClassName", 5, STRING, OPT),
    F("volumeMode", 6, STRING, OPT),
    F("dataSource", 7, MESSAGE, MSG(core_v1_TypedLocalObjectReference), OPT),
    F("dataSourceRef", 8, MESSAGE, MSG(core_v1_TypedObjectReference), OPT),
    F("volumeAttributesClassName", 9, STRING, OPT))

MSG_DEF(core_v1_VolumeResourceRequirements, "io.k8s.api.core.v1.VolumeResourceRequirements",
    F("limits", 1, MAP, ELEM(QUANTITY)),
    F("requests", 2, MAP, ELEM(QUANTITY)))

MSG_DEF(core_v1_TypedLocalObjectReference, "io.k8s.api.core.v1.TypedLocalObjectReference",
    F("apiGroup", 1, STRING, OPT),
    F("kind", 2, STRING),
    F("name", 3, STRING))

MSG_DEF(core_v1_TypedObjectReference, "io.k8s.api.core.v1.TypedObjectReference",
    F("apiGroup", 1, STRING, OPT),
    F("kind", 2, STRING),
    F("name", 3, STRING),
    F("namespace", 4, STRING, OPT))

MSG_DEF(core_v1_ImageVolumeSource, "io.k8s.api.core.v1.ImageVolumeSource",
    F("reference", 1, STRING),
    F("pullPolicy", 2, STRING))

MSG_DEF(core_v1_Container, "io.k8s.api.core.v1.Container",
    F("name", 1, STRING),
    F("image", 2, STRING),
    F("command", 3, STRING, REP),
    F("args", 4, STRING, REP),
    F("workingDir", 5, STRING),
    F("ports", 6, MESSAGE, REP, MSG(core_v1_ContainerPort), MERGE("containerPort")),
    F("env", 7, MESSAGE, REP, MSG(core_v1_EnvVar), MERGE("name")),
    F("resources", 8, MESSAGE, MSG(core_v1_ResourceRequirements)),
    F("volumeMounts", 9, MESSAGE, REP, MSG(core_v1_VolumeMount), MERGE("mountPath")),
    F("livenessProbe", 10, MESSAGE, MSG(core_v1_Probe), OPT),
    F("readinessProbe", 11, MESSAGE, MSG(core_v1_Probe), OPT),
    F("lifecycle", 12, MESSAGE, MSG(core_v1_Lifecycle), OPT),
    F("terminationMessagePath", 13, STRING),
    F("imagePullPolicy", 14, STRING),
    F("securityContext", 15, MESSAGE, MSG(core_v1_SecurityContext), OPT),
    F("stdin", 16, BOOL),
    F("stdinOnce", 17, BOOL),
    F("tty", 18, BOOL),
    F("envFrom", 19, MESSAGE, REP, MSG(core_v1_EnvFromSource)),
    F("terminationMessagePolicy", 20, STRING),
    F("volumeDevices", 21, MESSAGE, REP, MSG(core_v1_VolumeDevice), MERGE("devicePath")),
    F("startupProbe", 22, MESSAGE, MSG(core_v1_Probe), OPT),
    F("resizePolicy", 23, MESSAGE, REP, MSG(core_v1_ContainerResizePolicy)),
    F("restartPolicy", 24, STRING, OPT))

MSG_DEF(core_v1_ContainerPort, "io.k8s.api.core.v1.ContainerPort",
    F("name", 1, STRING),
    F("hostPort", 2, INT32),
    F("containerPort", 3, INT32),
    F("protocol", 4, STRING),
    F("hostIP", 5, STRING))

MSG_DEF(core_v1_EnvVar, "io.k8s.api.core.v1.EnvVar",
    F("name", 1, STRING),
    F("value", 2, STRING),
    F("valueFrom", 3, MESSAGE, MSG(core_v1_EnvVarSource), OPT))

MSG_DEF(core_v1_EnvVarSource, "io.k8s.api.core.v1.EnvVarSource",
    F("fieldRef", 1, MESSAGE, MSG(core_v1_ObjectFieldSelector), OPT),
    F("resourceFieldRef", 2, MESSAGE, MSG(core_v1_ResourceFieldSelector), OPT),
    F("configMapKeyRef", 3, MESSAGE, MSG(core_v1_ConfigMapKeySelector), OPT),
    F("secretKeyRef", 4, MESSAGE, MSG(core_v1_SecretKeySelector), OPT))

MSG_DEF(core_v1_ConfigMapKeySelector, "io.k8s.api.core.v1.ConfigMapKeySelector",
    F(NULL, 1, MESSAGE, MSG(core_v1_LocalObjectReference), INLINE),
    F("key", 2, STRING),
    F("optional", 3, BOOL, OPT))

MSG_DEF(core_v1_SecretKeySelector, "io.k8s.api.core.v1.SecretKeySelector",
    F(NULL, 1, MESSAGE, MSG(core_v1_LocalObjectReference), INLINE),
    F("key", 2, STRING),
    F("optional", 3, BOOL, OPT))

MSG_DEF(core_v1_ResourceRequirements, "io.k8s.api.core.v1.ResourceRequirements",
    F("limits", 1, MAP, ELEM(QUANTITY)),
    F("requests", 2, MAP, ELEM(QUANTITY)),
    F("claims", 3, MESSAGE, REP, MSG(core_v1_ResourceClaim)))

MSG_DEF(core_v1_ResourceClaim, "io.k8s.api.core.v1.ResourceClaim",
    F("name", 1, STRING),
    F("request", 2, STRING))

MSG_DEF(core_v1_VolumeMount, "io.k8s.api.core.v1.VolumeMount",
    F("name", 1, STRING),
    F("readOnly", 2, BOOL),
    F("mountPath", 3, STRING),
    F("subPath", 4, STRING),
    F("mountPropagation", 5, STRING, OPT),
    F("subPathExpr", 6, STRING),
    F("recursiveReadOnly", 7, STRING, OPT))

MSG_DEF(core_v1_Probe, "io.k8s.api.core.v1.Probe",
    F(NULL, 1, MESSAGE, MSG(core_v1_ProbeHandler), INLINE),
    F("initialDelaySeconds", 2, INT32),
    F("timeoutSeconds", 3, INT32),
    F("periodSeconds", 4, INT32),
    F("successThreshold", 5, INT32),
    F("failureThreshold", 6, INT32),
    F("terminationGracePeriodSeconds", 7, INT64, OPT))

MSG_DEF(core_v1_ProbeHandler, "io.k8s.api.core.v1.ProbeHandler",
    F("exec", 1, MESSAGE, MSG(core_v1_ExecAction), OPT),
    F("httpGet", 2, MESSAGE, MSG(core_v1_HTTPGetAction), OPT),
    F("tcpSocket", 3, MESSAGE, MSG(core_v1_TCPSocketAction), OPT),
    F("grpc", 4, MESSAGE, MSG(core_v1_GRPCAction), OPT))

MSG_DEF(core_v1_ExecAction, "io.k8s.api.core.v1.ExecAction",
    F("command", 1, STRING, REP))

MSG_DEF(core_v1_HTTPGetAction, "io.k8s.api.core.v1.HTTPGetAction",
    F("path", 1, STRING),
    F("port", 2, INT_OR_STRING),
    F("host", 3, STRING),
    F("scheme", 4, STRING),
    F("httpHeaders", 5, MESSAGE, REP, MSG(core_v1_HTTPHeader)))

MSG_DEF(core_v1_HTTPHeader, "io.k8s.api.core.v1.HTTPHeader",
    F("name", 1, STRING),
    F("value", 2, STRING))

MSG_DEF(core_v1_TCPSocketAction, "io.k8s.api.core.v1.TCPSocketAction",
    F("port", 1, INT_OR_STRING),
    F("host", 2, STRING))

MSG_DEF(core_v1_GRPCAction, "io.k8s.api.core.v1.GRPCAction",
    F("port", 1, INT32),
    F("service", 2, STRING, OPT))

MSG_DEF(core_v1_Lifecycle, "io.k8s.api.core.v1.Lifecycle",
    F("postStart", 1, MESSAGE, MSG(core_v1_LifecycleHandler), OPT),
    F("preStop", 2, MESSAGE, MSG(core_v1_LifecycleHandler), OPT))

MSG_DEF(core_v1_LifecycleHandler, "io.k8s.api.core.v1.LifecycleHandler",
    F("exec", 1, MESSAGE, MSG(core_v1_ExecAction), OPT),
    F("httpGet", 2, MESSAGE, MSG(core_v1_HTTPGetAction), OPT),
    F("tcpSocket", 3, MESSAGE, MSG(core_v1_TCPSocketAction), OPT),
    F("sleep", 4, MESSAGE, MSG(core_v1_SleepAction), OPT))

MSG_DEF(core_v1_SleepAction, "io.k8s.api.core.v1.SleepAction",
    F("seconds", 1, INT64))

MSG_DEF(core_v1_SecurityContext, "io.k8s.api.core.v1.SecurityContext",
    F("capabilities", 1, MESSAGE, MSG(core_v1_Capabilities), OPT),
    F("privileged", 2, BOOL, OPT),
    F("seLinuxOptions", 3, MESSAGE, MSG(core_v1_SELinuxOptions), OPT),
    F("runAsUser", 4, INT64, OPT),
    F("runAsNonRoot", 5, BOOL, OPT),
    F("readOnlyRootFilesystem", 6, BOOL, OPT),
    F("allowPrivilegeEscalation", 7, BOOL, OPT),
    F("runAsGroup", 8, INT64, OPT),
    F("procMount", 9, STRING, OPT),
    F("windowsOptions", 10, MESSAGE, MSG(core_v1_WindowsSecurityContextOptions), OPT),
    F("seccompProfile", 11, MESSAGE, MSG(core_v1_SeccompProfile), OPT),
    F("appArmorProfile", 12, MESSAGE, MSG(core_v1_AppArmorProfile), OPT))

MSG_DEF(core_v1_Capabilities, "io.k8s.api.core.v1.Capabilities",
    F("add", 1, STRING, REP),
    F("drop", 2, STRING, REP))

MSG_DEF(core_v1_SELinuxOptions, "io.k8s.api.core.v1.SELinuxOptions",
    F("user", 1, STRING),
    F("role", 2, STRING),
    F("type", 3, STRING),
    F("level", 4, STRING))

MSG_DEF(core_v1_WindowsSecurityContextOptions, "io.k8s.api.core.v1.WindowsSecurityContextOptions",
    F("gmsaCredentialSpecName", 1, STRING, OPT),
    F("gmsaCredentialSpec", 2, STRING, OPT),
    F("runAsUserName", 3, STRING, OPT),
    F("hostProcess", 4, BOOL, OPT))

MSG_DEF(core_v1_SeccompProfile, "io.k8s.api.core.v1.SeccompProfile",
    F("type", 1, STRING),
    F("localhostProfile", 2, STRING, OPT))

MSG_DEF(core_v1_AppArmorProfile, "io.k8s.api.core.v1.AppArmorProfile",
    F("type", 1, STRING),
    F("localhostProfile", 2, STRING, OPT))

MSG_DEF(core_v1_EnvFromSource, "io.k8s.api.core.v1.EnvFromSource",
    F("prefix", 1, STRING),
    F("configMapRef", 2, MESSAGE, MSG(core_v1_ConfigMapEnvSource), OPT),
    F("secretRef", 3, MESSAGE, MSG(core_v1_SecretEnvSource), OPT))

MSG_DEF(core_v1_ConfigMapEnvSource, "io.k8s.api.core.v1.ConfigMapEnvSource",
    F(NULL, 1, MESSAGE, MSG(core_v1_LocalObjectReference), INLINE),
    F("optional", 2, BOOL, OPT))

MSG_DEF(core_v1_SecretEnvSource, "io.k8s.api.core.v1.SecretEnvSource",
    F(NULL, 1, MESSAGE, MSG(core_v1_LocalObjectReference), INLINE),
    F("optional", 2, BOOL, OPT))

MSG_DEF(core_v1_VolumeDevice, "io.k8s.api.core.v1.VolumeDevice",
    F("name", 1, STRING),
    F("devicePath", 2, STRING))

MSG_DEF(core_v1_ContainerResizePolicy, "io.k8s.api.core.v1.ContainerResizePolicy",
    F("resourceName", 1, STRING),
    F("restartPolicy", 2, STRING))

MSG_DEF(core_v1_PodSecurityContext, "io.k8s.api.core.v1.PodSecurityContext",
    F("seLinuxOptions", 1, MESSAGE, MSG(core_v1_SELinuxOptions), OPT),
    F("runAsUser", 2, INT64, OPT),
    F("runAsNonRoot", 3, BOOL, OPT),
    F("supplementalGroups", 4, INT64, REP),
    F("fsGroup", 5, INT64, OPT),
    F("runAsGroup", 6, INT64, OPT),
    F("sysctls", 7, MESSAGE, REP, MSG(core_v1_Sysctl)),
    F("windowsOptions", 8, MESSAGE, MSG(core_v1_WindowsSecurityContextOptions), OPT),
    F("fsGroupChangePolicy", 9, STRING, OPT),
    F("seccompProfile", 10, MESSAGE, MSG(core_v1_SeccompProfile), OPT),
    F("appArmorProfile", 11, MESSAGE, MSG(core_v1_AppArmorProfile), OPT),
    F("supplementalGroupsPolicy", 12, STRING, OPT),
    F("seLinuxChangePolicy", 13, STRING, OPT))

MSG_DEF(core_v1_Sysctl, "io.k8s.api.core.v1.Sysctl",
    F("name", 1, STRING),
    F("value", 2, STRING))

MSG_DEF(core_v1_Affinity, "io.k8s.api.core.v1.Affinity",
    F("nodeAffinity", 1, MESSAGE, MSG(core_v1_NodeAffinity), OPT),
    F("podAffinity", 2, MESSAGE, MSG(core_v1_PodAffinity), OPT),
    F("podAntiAffinity", 3, MESSAGE, MSG(core_v1_PodAntiAffinity), OPT))

MSG_DEF(core_v1_NodeAffinity, "io.k8s.api.core.v1.NodeAffinity",
    F("requiredDuringSchedulingIgnoredDuringExecution", 1, MESSAGE, MSG(core_v1_NodeSelector), OPT),
    F("preferredDuringSchedulingIgnoredDuringExecution", 2, MESSAGE, REP, MSG(core_v1_PreferredSchedulingTerm)))

MSG_DEF(core_v1_NodeSelector, "io.k8s.api.core.v1.NodeSelector",
    F("nodeSelectorTerms", 1, MESSAGE, REP, MSG(core_v1_NodeSelectorTerm)))

MSG_DEF(core_v1_NodeSelectorTerm, "io.k8s.api.core.v1.NodeSelectorTerm",
    F("matchExpressions", 1, MESSAGE, REP, MSG(core_v1_NodeSelectorRequirement)),
    F("matchFields", 2, MESSAGE, REP, MSG(core_v1_NodeSelectorRequirement)))

MSG_DEF(core_v1_NodeSelectorRequirement, "io.k8s.api.core.v1.NodeSelectorRequirement",
    F("key", 1, STRING),
    F("operator", 2, STRING),
    F("values", 3, STRING, REP))

MSG_DEF(core_v1_PreferredSchedulingTerm, "io.k8s.api.core.v1.PreferredSchedulingTerm",
    F("weight", 1, INT32),
    F("preference", 2, MESSAGE, MSG(core_v1_NodeSelectorTerm)))

MSG_DEF(core_v1_PodAffinity, "io.k8s.api.core.v1.PodAffinity",
    F("requiredDuringSchedulingIgnoredDuringExecution", 1, MESSAGE, REP, MSG(core_v1_PodAffinityTerm)),
    F("preferredDuringSchedulingIgnoredDuringExecution", 2, MESSAGE, REP, MSG(core_v1_WeightedPodAffinityTerm)))

MSG_DEF(core_v1_PodAffinityTerm, "io.k8s.api.core.v1.PodAffinityTerm",
    F("labelSelector", 1, MESSAGE, MSG(meta_v1_LabelSelector), OPT),
    F("namespaces", 2, STRING, REP),
    F("topologyKey", 3, STRING),
    F("namespaceSelector", 4, MESSAGE, MSG(meta_v1_LabelSelector), OPT),
    F("matchLabelKeys", 5, STRING, REP),
    F("mismatchLabelKeys", 6, STRING, REP))

MSG_DEF(core_v1_WeightedPodAffinityTerm, "io.k8s.api.core.v1.WeightedPodAffinityTerm",
    F("weight", 1, INT32),
    F("podAffinityTerm", 2, MESSAGE, MSG(core_v1_PodAffinityTerm)))

MSG_DEF(core_v1_PodAntiAffinity, "io.k8s.api.core.v1.PodAntiAffinity",
    F("requiredDuringSchedulingIgnoredDuringExecution", 1, MESSAGE, REP, MSG(core_v1_PodAffinityTerm)),
    F("preferredDuringSchedulingIgnoredDuringExecution", 2, MESSAGE, REP, MSG(core_v1_WeightedPodAffinityTerm)))

MSG_DEF(core_v1_Toleration, "io.k8s.api.core.v1.Toleration",
    F("key", 1, STRING),
    F("operator", 2, STRING),
    F("value", 3, STRING),
    F("effect", 4, STRING),
    F("tolerationSeconds", 5, INT64, OPT))

MSG_DEF(core_v1_HostAlias, "io.k8s.api.core.v1.HostAlias",
    F("ip", 1, STRING),
    F("hostnames", 2, STRING, REP))

MSG_DEF(core_v1_PodDNSConfig, "io.k8s.api.core.v1.PodDNSConfig",
    F("nameservers", 1, STRING, REP),
    F("searches", 2, STRING, REP),
    F("options", 3, MESSAGE, REP, MSG(core_v1_PodDNSConfigOption)))

MSG_DEF(core_v1_PodDNSConfigOption, "io.k8s.api.core.v1.PodDNSConfigOption",
    F("name", 1, STRING),
    F("value", 2, STRING, OPT))

MSG_DEF(core_v1_PodReadinessGate, "io.k8s.api.core.v1.PodReadinessGate",
    F("conditionType", 1, STRING))

MSG_DEF(core_v1_TopologySpreadConstraint, "io.k8s.api.core.v1.TopologySpreadConstraint",
    F("maxSkew", 1, INT32),
    F("topologyKey", 2, STRING),
    F("whenUnsatisfiable", 3, STRING),
    F("labelSelector", 4, MESSAGE, MSG(meta_v1_LabelSelector), OPT),
    F("minDomains", 5, INT32, OPT),
    F("nodeAffinityPolicy", 6, STRING, OPT),
    F("nodeTaintsPolicy", 7, STRING, OPT),
    F("matchLabelKeys", 8, STRING, REP))

MSG_DEF(core_v1_EphemeralContainer, "io.k8s.api.core.v1.EphemeralContainer",
    F(NULL, 1, MESSAGE, MSG(core_v1_EphemeralContainerCommon), INLINE),
    F("targetContainerName", 2, STRING))

MSG_DEF(core_v1_EphemeralContainerCommon, "io.k8s.api.core.v1.EphemeralContainerCommon",
    F("name", 1, STRING),
    F("image", 2, STRING),
    F("command", 3, STRING, REP),
    F("args", 4, STRING, REP),
    F("workingDir", 5, STRING),
    F("ports", 6, MESSAGE, REP, MSG(core_v1_ContainerPort), MERGE("containerPort")),
    F("env", 7, MESSAGE, REP, MSG(core_v1_EnvVar), MERGE("name")),
    F("resources", 8, MESSAGE, MSG(core_v1_ResourceRequirements)),
    F("volumeMounts", 9, MESSAGE, REP, MSG(core_v1_VolumeMount), MERGE("mountPath")),
    F("livenessProbe", 10, MESSAGE, MSG(core_v1_Probe), OPT),
    F("readinessProbe", 11, MESSAGE, MSG(core_v1_Probe), OPT),
    F("lifecycle", 12, MESSAGE, MSG(core_v1_Lifecycle), OPT),
    F("terminationMessagePath", 13, STRING),
    F("imagePullPolicy", 14, STRING),
    F("securityContext", 15, MESSAGE, MSG(core_v1_SecurityContext), OPT),
    F("stdin", 16, BOOL),
    F("stdinOnce", 17, BOOL),
    F("tty", 18, BOOL),
    F("envFrom", 19, MESSAGE, REP, MSG(core_v1_EnvFromSource)),
    F("terminationMessagePolicy", 20, STRING),
    F("volumeDevices", 21, MESSAGE, REP, MSG(core_v1_VolumeDevice), MERGE("devicePath")),
    F("startupProbe", 22, MESSAGE, MSG(core_v1_Probe), OPT),
    F("resizePolicy", 23, MESSAGE, REP, MSG(core_v1_ContainerResizePolicy)),
    F("restartPolicy", 24, STRING, OPT))

MSG_DEF(core_v1_PodOS, "io.k8s.api.core.v1.PodOS",
    F("name", 1, STRING))

MSG_DEF(core_v1_PodSchedulingGate, "io.k8s.api.core.v1.PodSchedulingGate",
    F("name", 1, STRING))

MSG_DEF(core_v1_PodResourceClaim, "io.k8s.api.core.v1.PodResourceClaim",
    F("name", 1, STRING),
    F("resourceClaimName", 3, STRING, OPT),
    F("resourceClaimTemplateName", 4, STRING, OPT))

MSG_DEF(core_v1_PodStatus, "io.k8s.api.core.v1.PodStatus",
    F("phase", 1, STRING),
    F("conditions", 2, MESSAGE, REP, MSG(core_v1_PodCondition), MERGE("type")),
    F("message", 3, STRING),
    F("reason", 4, STRING),
    F("hostIP", 5, STRING),
    F("podIP", 6, STRING),
    F("startTime", 7, TIME, OPT),
    F("containerStatuses", 8, MESSAGE, REP, MSG(core_v1_ContainerStatus)),
    F("qosClass", 9, STRING),
    F("initContainerStatuses", 10, MESSAGE, REP, MSG(core_v1_ContainerStatus)),
    F("nominatedNodeName", 11, STRING),
    F("podIPs", 12, MESSAGE, REP, MSG(core_v1_PodIP), MERGE("ip")),
    F("ephemeralContainerStatuses", 13, MESSAGE, REP, MSG(core_v1_ContainerStatus)),
    F("resize", 14, STRING),
    F("resourceClaimStatuses", 15, MESSAGE, REP, MSG(core_v1_PodResourceClaimStatus), MERGE_RETAIN("name")),
    F("hostIPs", 16, MESSAGE, REP, MSG(core_v1_HostIP), MERGE("ip")))

MSG_DEF(core_v1_PodCondition, "io.k8s.api.core.v1.PodCondition",
    F("type", 1, STRING),
    F("status", 2, STRING),
    F("lastProbeTime", 3, TIME),
    F("lastTransitionTime", 4, TIME),
    F("reason", 5, STRING),
    F("message", 6, STRING))

MSG_DEF(core_v1_ContainerStatus, "io.k8s.api.core.v1.ContainerStatus",
    F("name", 1, STRING),
    F("state", 2, MESSAGE, MSG(core_v1_ContainerState)),
    F("lastState", 3, MESSAGE, MSG(core_v1_ContainerState)),
    F("ready", 4, BOOL),
    F("restartCount", 5, INT32),
    F("image", 6, STRING),
    F("imageID", 7, STRING),
    F("containerID", 8, STRING),
    F("started", 9, BOOL, OPT),
    F("allocatedResources", 10, MAP, ELEM(QUANTITY)),
    F("resources", 11, MESSAGE, MSG(core_v1_ResourceRequirements), OPT),
    F("volumeMounts", 12, MESSAGE, REP, MSG(core_v1_VolumeMountStatus), MERGE("mountPath")),
    F("user", 13, MESSAGE, MSG(core_v1_ContainerUser), OPT),
    F("allocatedResourcesStatus", 14, MESSAGE, REP, MSG(core_v1_ResourceStatus), MERGE("name")))

MSG_DEF(core_v1_ContainerState, "io.k8s.api.core.v1.ContainerState",
    F("waiting", 1, MESSAGE, MSG(core_v1_ContainerStateWaiting), OPT),
    F("running", 2, MESSAGE, MSG(core_v1_ContainerStateRunning), OPT),
    F("terminated", 3, MESSAGE, MSG(core_v1_ContainerStateTerminated), OPT))

MSG_DEF(core_v1_ContainerStateWaiting, "io.k8s.api.core.v1.ContainerStateWaiting",
    F("reason", 1, STRING),
    F("message", 2, STRING))

MSG_DEF(core_v1_ContainerStateRunning, "io.k8s.api.core.v1.ContainerStateRunning",
    F("startedAt", 1, TIME))

MSG_DEF(core_v1_ContainerStateTerminated, "io.k8s.api.core.v1.ContainerStateTerminated",
    F("exitCode", 1, INT32),
    F("signal", 2, INT32),
    F("reason", 3, STRING),
    F("message", 4, STRING),
    F("startedAt", 5, TIME),
    F("finishedAt", 6, TIME),
    F("containerID", 7, STRING))

MSG_DEF(core_v1_VolumeMountStatus, "io.k8s.api.core.v1.VolumeMountStatus",
    F("name", 1, STRING),
    F("mountPath", 2, STRING),
    F("readOnly", 3, BOOL),
    F("recursiveReadOnly", 4, STRING, OPT))

MSG_DEF(core_v1_ContainerUser, "io.k8s.api.core.v1.ContainerUser",
    F("linux", 1, MESSAGE, MSG(core_v1_LinuxContainerUser), OPT))

MSG_DEF(core_v1_LinuxContainerUser, "io.k8s.api.core.v1.LinuxContainerUser",
    F("uid", 1, INT64),
    F("gid", 2, INT64),
    F("supplementalGroups", 3, INT64, REP))

MSG_DEF(core_v1_ResourceStatus, "io.k8s.api.core.v1.ResourceStatus",
    F("name", 1, STRING),
    F("resources", 2, MESSAGE, REP, MSG(core_v1_ResourceHealth)))

MSG_DEF(core_v1_ResourceHealth, "io.k8s.api.core.v1.ResourceHealth",
    F("resourceID", 1, STRING),
    F("health", 2, STRING))

MSG_DEF(core_v1_PodIP, "io.k8s.api.core.v1.PodIP",
    F("ip", 1, STRING))

MSG_DEF(core_v1_PodResourceClaimStatus, "io.k8s.api.core.v1.PodResourceClaimStatus",
    F("name", 1, STRING),
    F("resourceClaimName", 2, STRING, OPT))

MSG_DEF(core_v1_HostIP, "io.k8s.api.core.v1.HostIP",
    F("ip", 1, STRING))

MSG_DEF(core_v1_Service, "io.k8s.api.core.v1.Service",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(core_v1_ServiceSpec)),
    F("status", 3, MESSAGE, MSG(core_v1_ServiceStatus)))

MSG_DEF(core_v1_ServiceSpec, "io.k8s.api.core.v1.ServiceSpec",
    F("ports", 1, MESSAGE, REP, MSG(core_v1_ServicePort), MERGE("port")),
    F("selector", 2, MAP, ELEM(STRING)),
    F("clusterIP", 3, STRING),
    F("type", 4, STRING),
    F("externalIPs", 5, STRING, REP),
    F("sessionAffinity", 7, STRING),
    F("loadBalancerIP", 8, STRING),
    F("loadBalancerSourceRanges", 9, STRING, REP),
    F("externalName", 10, STRING),
    F("externalTrafficPolicy", 11, STRING),
    F("healthCheckNodePort", 12, INT32),
    F("publishNotReadyAddresses", 13, BOOL),
    F("sessionAffinityConfig", 14, MESSAGE, MSG(core_v1_SessionAffinityConfig), OPT),
    F("ipFamilyPolicy", 17, STRING, OPT),
    F("clusterIPs", 18, STRING, REP),
    F("ipFamilies", 19, STRING, REP),
    F("allocateLoadBalancerNodePorts", 20, BOOL, OPT),
    F("loadBalancerClass", 21, STRING, OPT),
    F("internalTrafficPolicy", 22, STRING, OPT),
    F("trafficDistribution", 23, STRING, OPT))

MSG_DEF(core_v1_ServicePort, "io.k8s.api.core.v1.ServicePort",
    F("name", 1, STRING),
    F("protocol", 2, STRING),
    F("port", 3, INT32),
    F("targetPort", 4, INT_OR_STRING),
    F("nodePort", 5, INT32),
    F("appProtocol", 6, STRING, OPT))

MSG_DEF(core_v1_SessionAffinityConfig, "io.k8s.api.core.v1.SessionAffinityConfig",
    F("clientIP", 1, MESSAGE, MSG(core_v1_ClientIPConfig), OPT))

MSG_DEF(core_v1_ClientIPConfig, "io.k8s.api.core.v1.ClientIPConfig",
    F("timeoutSeconds", 1, INT32, OPT))

MSG_DEF(core_v1_ServiceStatus, "io.k8s.api.core.v1.ServiceStatus",
    F("loadBalancer", 1, MESSAGE, MSG(core_v1_LoadBalancerStatus)),
    F("conditions", 2, MESSAGE, REP, MSG(meta_v1_Condition), MERGE("type")))

MSG_DEF(core_v1_LoadBalancerStatus, "io.k8s.api.core.v1.LoadBalancerStatus",
    F("ingress", 1, MESSAGE, REP, MSG(core_v1_LoadBalancerIngress)))

MSG_DEF(core_v1_LoadBalancerIngress, "io.k8s.api.core.v1.LoadBalancerIngress",
    F("ip", 1, STRING),
    F("hostname", 2, STRING),
    F("ipMode", 3, STRING, OPT),
    F("ports", 4, MESSAGE, REP, MSG(core_v1_PortStatus)))

MSG_DEF(core_v1_PortStatus, "io.k8s.api.core.v1.PortStatus",
    F("port", 1, INT32),
    F("protocol", 2, STRING),
    F("error", 3, STRING, OPT))

MSG_DEF(core_v1_Endpoints, "io.k8s.api.core.v1.Endpoints",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("subsets", 2, MESSAGE, REP, MSG(core_v1_EndpointSubset)))

MSG_DEF(core_v1_EndpointSubset, "io.k8s.api.core.v1.EndpointSubset",
    F("addresses", 1, MESSAGE, REP, MSG(core_v1_EndpointAddress)),
    F("notReadyAddresses", 2, MESSAGE, REP, MSG(core_v1_EndpointAddress)),
    F("ports", 3, MESSAGE, REP, MSG(core_v1_EndpointPort)))

MSG_DEF(core_v1_EndpointAddress, "io.k8s.api.core.v1.EndpointAddress",
    F("ip", 1, STRING),
    F("targetRef", 2, MESSAGE, MSG(core_v1_ObjectReference), OPT),
    F("hostname", 3, STRING),
    F("nodeName", 4, STRING, OPT))

MSG_DEF(core_v1_ObjectReference, "io.k8s.api.core.v1.ObjectReference",
    F("kind", 1, STRING),
    F("namespace", 2, STRING),
    F("name", 3, STRING),
    F("uid", 4, STRING),
    F("apiVersion", 5, STRING),
    F("resourceVersion", 6, STRING),
    F("fieldPath", 7, STRING))

MSG_DEF(core_v1_EndpointPort, "io.k8s.api.core.v1.EndpointPort",
    F("name", 1, STRING),
    F("port", 2, INT32),
    F("protocol", 3, STRING),
    F("appProtocol", 4, STRING, OPT))

MSG_DEF(core_v1_ConfigMap, "io.k8s.api.core.v1.ConfigMap",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("data", 2, MAP, ELEM(STRING)),
    F("binaryData", 3, MAP, ELEM(BYTES)),
    F("immutable", 4, BOOL, OPT))

MSG_DEF(core_v1_Secret, "io.k8s.api.core.v1.Secret",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("data", 2, MAP, ELEM(BYTES)),
    F("type", 3, STRING),
    F("stringData", 4, MAP, ELEM(STRING)),
    F("immutable", 5, BOOL, OPT))

MSG_DEF(core_v1_ServiceAccount, "io.k8s.api.core.v1.ServiceAccount",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("secrets", 2, MESSAGE, REP, MSG(core_v1_ObjectReference), MERGE("name")),
    F("imagePullSecrets", 3, MESSAGE, REP, MSG(core_v1_LocalObjectReference)),
    F("automountServiceAccountToken", 4, BOOL, OPT))

MSG_DEF(core_v1_Node, "io.k8s.api.core.v1.Node",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(core_v1_NodeSpec)),
    F("status", 3, MESSAGE, MSG(core_v1_NodeStatus)))

MSG_DEF(core_v1_NodeSpec, "io.k8s.api.core.v1.NodeSpec",
    F("podCIDR", 1, STRING),
    F("externalID", 2, STRING),
    F("providerID", 3, STRING),
    F("unschedulable", 4, BOOL),
    F("taints", 5, MESSAGE, REP, MSG(core_v1_Taint)),
    F("configSource", 6, MESSAGE, MSG(core_v1_NodeConfigSource), OPT),
    F("podCIDRs", 7, STRING, REP, MERGE(NULL)))

MSG_DEF(core_v1_Taint, "io.k8s.api.core.v1.Taint",
    F("key", 1, STRING),
    F("value", 2, STRING),
    F("effect", 3, STRING),
    F("timeAdded", 4, TIME, OPT))

MSG_DEF(core_v1_NodeConfigSource, "io.k8s.api.core.v1.NodeConfigSource",
    F("configMap", 2, MESSAGE, MSG(core_v1_ConfigMapNodeConfigSource), OPT))

MSG_DEF(core_v1_ConfigMapNodeConfigSource, "io.k8s.api.core.v1.ConfigMapNodeConfigSource",
    F("namespace", 1, STRING),
    F("name", 2, STRING),
    F("uid", 3, STRING),
    F("resourceVersion", 4, STRING),
    F("kubeletConfigKey", 5, STRING))

MSG_DEF(core_v1_NodeStatus, "io.k8s.api.core.v1.NodeStatus",
    F("capacity", 1, MAP, ELEM(QUANTITY)),
    F("allocatable", 2, MAP, ELEM(QUANTITY)),
    F("phase", 3, STRING),
    F("conditions", 4, MESSAGE, REP, MSG(core_v1_NodeCondition), MERGE("type")),
    F("addresses", 5, MESSAGE, REP, MSG(core_v1_NodeAddress), MERGE("type")),
    F("daemonEndpoints", 6, MESSAGE, MSG(core_v1_NodeDaemonEndpoints)),
    F("nodeInfo", 7, MESSAGE, MSG(core_v1_NodeSystemInfo)),
    F("images", 8, MESSAGE, REP, MSG(core_v1_ContainerImage)),
    F("volumesInUse", 9, STRING, REP),
    F("volumesAttached", 10, MESSAGE, REP, MSG(core_v1_AttachedVolume)),
    F("config", 11, MESSAGE, MSG(core_v1_NodeConfigStatus), OPT),
    F("runtimeHandlers", 12, MESSAGE, REP, MSG(core_v1_NodeRuntimeHandler)),
    F("features", 13, MESSAGE, MSG(core_v1_NodeFeatures), OPT))

MSG_DEF(core_v1_NodeCondition, "io.k8s.api.core.v1.NodeCondition",
    F("type", 1, STRING),
    F("status", 2, STRING),
    F("lastHeartbeatTime", 3, TIME),
    F("lastTransitionTime", 4, TIME),
    F("reason", 5, STRING),
    F("message", 6, STRING))

MSG_DEF(core_v1_NodeAddress, "io.k8s.api.core.v1.NodeAddress",
    F("type", 1, STRING),
    F("address", 2, STRING))

MSG_DEF(core_v1_NodeDaemonEndpoints, "io.k8s.api.core.v1.NodeDaemonEndpoints",
    F("kubeletEndpoint", 1, MESSAGE, MSG(core_v1_DaemonEndpoint)))

MSG_DEF(core_v1_DaemonEndpoint, "io.k8s.api.core.v1.DaemonEndpoint",
    F("Port", 1, INT32))

MSG_DEF(core_v1_NodeSystemInfo, "io.k8s.api.core.v1.NodeSystemInfo",
    F("machineID", 1, STRING),
    F("systemUUID", 2, STRING),
    F("bootID", 3, STRING),
    F("kernelVersion", 4, STRING),
    F("osImage", 5, STRING),
    F("containerRuntimeVersion", 6, STRING),
    F("kubeletVersion", 7, STRING),
    F("kubeProxyVersion", 8, STRING),
    F("operatingSystem", 9, STRING),
    F("architecture", 10, STRING))

MSG_DEF(core_v1_ContainerImage, "io.k8s.api.core.v1.ContainerImage",
    F("names", 1, STRING, REP),
    F("sizeBytes", 2, INT64))

MSG_DEF(core_v1_AttachedVolume, "io.k8s.api.core.v1.AttachedVolume",
    F("name", 1, STRING),
    F("devicePath", 2, STRING))

MSG_DEF(core_v1_NodeConfigStatus, "io.k8s.api.core.v1.NodeConfigStatus",
    F("assigned", 1, MESSAGE, MSG(core_v1_NodeConfigSource), OPT),
    F("active", 2, MESSAGE, MSG(core_v1_NodeConfigSource), OPT),
    F("lastKnownGood", 3, MESSAGE, MSG(core_v1_NodeConfigSource), OPT),
    F("error", 4, STRING))

MSG_DEF(core_v1_NodeRuntimeHandler, "io.k8s.api.core.v1.NodeRuntimeHandler",
    F("name", 1, STRING),
    F("features", 2, MESSAGE, MSG(core_v1_NodeRuntimeHandlerFeatures), OPT))

MSG_DEF(core_v1_NodeRuntimeHandlerFeatures, "io.k8s.api.core.v1.NodeRuntimeHandlerFeatures",
    F("recursiveReadOnlyMounts", 1, BOOL, OPT),
    F("userNamespaces", 2, BOOL, OPT))

MSG_DEF(core_v1_NodeFeatures, "io.k8s.api.core.v1.NodeFeatures",
    F("supplementalGroupsPolicy", 1, BOOL, OPT))

MSG_DEF(core_v1_Event, "io.k8s.api.core.v1.Event",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("involvedObject", 2, MESSAGE, MSG(core_v1_ObjectReference)),
    F("reason", 3, STRING),
    F("message", 4, STRING),
    F("source", 5, MESSAGE, MSG(core_v1_EventSource)),
    F("firstTimestamp", 6, TIME),
    F("lastTimestamp", 7, TIME),
    F("count", 8, INT32),
    F("type", 9, STRING),
    F("eventTime", 10, TIME, MICRO),
    F("series", 11, MESSAGE, MSG(core_v1_EventSeries), OPT),
    F("action", 12, STRING),
    F("related", 13, MESSAGE, MSG(core_v1_ObjectReference), OPT),
    F("reportingComponent", 14, STRING),
    F("reportingInstance", 15, STRING))

MSG_DEF(core_v1_EventSource, "io.k8s.api.core.v1.EventSource",
    F("component", 1, STRING),
    F("host", 2, STRING))

MSG_DEF(core_v1_EventSeries, "io.k8s.api.core.v1.EventSeries",
    F("count", 1, INT32),
    F("lastObservedTime", 2, TIME, MICRO))

MSG_DEF(core_v1_PersistentVolume, "io.k8s.api.core.v1.PersistentVolume",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(core_v1_PersistentVolumeSpec)),
    F("status", 3, MESSAGE, MSG(core_v1_PersistentVolumeStatus)))

MSG_DEF(core_v1_PersistentVolumeSpec, "io.k8s.api.core.v1.PersistentVolumeSpec",
    F("capacity", 1, MAP, ELEM(QUANTITY)),
    F(NULL, 2, MESSAGE, MSG(core_v1_PersistentVolumeSource), INLINE),
    F("accessModes", 3, STRING, REP),
    F("claimRef", 4, MESSAGE, MSG(core_v1_ObjectReference), OPT),
    F("persistentVolumeReclaimPolicy", 5, STRING),
    F("storageClassName", 6, STRING),
    F("mountOptions", 7, STRING, REP),
    F("volumeMode", 8, STRING, OPT),
    F("nodeAffinity", 9, MESSAGE, MSG(core_v1_VolumeNodeAffinity), OPT),
    F("volumeAttributesClassName", 10, STRING, OPT))

MSG_DEF(core_v1_PersistentVolumeSource, "io.k8s.api.core.v1.PersistentVolumeSource",
    F("gcePersistentDisk", 1, MESSAGE, MSG(core_v1_GCEPersistentDiskVolumeSource), OPT),
    F("awsElasticBlockStore", 2, MESSAGE, MSG(core_v1_AWSElasticBlockStoreVolumeSource), OPT),
    F("hostPath", 3, MESSAGE, MSG(core_v1_HostPathVolumeSource), OPT),
    F("glusterfs", 4, MESSAGE, MSG(core_v1_GlusterfsPersistentVolumeSource), OPT),
    F("nfs", 5, MESSAGE, MSG(core_v1_NFSVolumeSource), OPT),
    F("rbd", 6, MESSAGE, MSG(core_v1_RBDPersistentVolumeSource), OPT),
    F("iscsi", 7, MESSAGE, MSG(core_v1_ISCSIPersistentVolumeSource), OPT),
    F("cinder", 8, MESSAGE, MSG(core_v1_CinderPersistentVolumeSource), OPT),
    F("cephfs", 9, MESSAGE, MSG(core_v1_CephFSPersistentVolumeSource), OPT),
    F("fc", 10, MESSAGE, MSG(core_v1_FCVolumeSource), OPT),
    F("flocker", 11, MESSAGE, MSG(core_v1_FlockerVolumeSource), OPT),
    F("flexVolume", 12, MESSAGE, MSG(core_v1_FlexPersistentVolumeSource), OPT),
    F("azureFile", 13, MESSAGE, MSG(core_v1_AzureFilePersistentVolumeSource), OPT),
    F("vsphereVolume", 14, MESSAGE, MSG(core_v1_VsphereVirtualDiskVolumeSource), OPT),
    F("quobyte", 15, MESSAGE, MSG(core_v1_QuobyteVolumeSource), OPT),
    F("azureDisk", 16, MESSAGE, MSG(core_v1_AzureDiskVolumeSource), OPT),
    F("photonPersistentDisk", 17, MESSAGE, MSG(core_v1_PhotonPersistentDiskVolumeSource), OPT),
    F("portworxVolume", 18, MESSAGE, MSG(core_v1_PortworxVolumeSource), OPT),
    F("scaleIO", 19, MESSAGE, MSG(core_v1_ScaleIOPersistentVolumeSource), OPT),
    F("local", 20, MESSAGE, MSG(core_v1_LocalVolumeSource), OPT),
    F("storageos", 21, MESSAGE, MSG(core_v1_StorageOSPersistentVolumeSource), OPT),
    F("csi", 22, MESSAGE, MSG(core_v1_CSIPersistentVolumeSource), OPT))

MSG_DEF(core_v1_GlusterfsPersistentVolumeSource, "io.k8s.api.core.v1.GlusterfsPersistentVolumeSource",
    F("endpoints", 1, STRING),
    F("path", 2, STRING),
    F("readOnly", 3, BOOL),
    F("endpointsNamespace", 4, STRING, OPT))

MSG_DEF(core_v1_RBDPersistentVolumeSource, "io.k8s.api.core.v1.RBDPersistentVolumeSource",
    F("monitors", 1, STRING, REP),
    F("image", 2, STRING),
    F("fsType", 3, STRING),
    F("pool", 4, STRING),
    F("user", 5, STRING),
    F("keyring", 6, STRING),
    F("secretRef", 7, MESSAGE, MSG(core_v1_SecretReference), OPT),
    F("readOnly", 8, BOOL))

MSG_DEF(core_v1_SecretReference, "io.k8s.api.core.v1.SecretReference",
    F("name", 1, STRING),
    F("namespace", 2, STRING))

MSG_DEF(core_v1_ISCSIPersistentVolumeSource, "io.k8s.api.core.v1.ISCSIPersistentVolumeSource",
    F("targetPortal", 1, STRING),
    F("iqn", 2, STRING),
    F("lun", 3, INT32),
    F("iscsiInterface", 4, STRING),
    F("fsType", 5, STRING),
    F("readOnly", 6, BOOL),
    F("portals", 7, STRING, REP),
    F("chapAuthDiscovery", 8, BOOL),
    F("secretRef", 10, MESSAGE, MSG(core_v1_SecretReference), OPT),
    F("chapAuthSession", 11, BOOL),
    F("initiatorName", 12, STRING, OPT))

MSG_DEF(core_v1_CinderPersistentVolumeSource, "io.k8s.api.core.v1.CinderPersistentVolumeSource",
    F("volumeID", 1, STRING),
    F("fsType", 2, STRING),
    F("readOnly", 3, BOOL),
    F("secretRef", 4, MESSAGE, MSG(core_v1_SecretReference), OPT))

MSG_DEF(core_v1_CephFSPersistentVolumeSource, "io.k8s.api.core.v1.CephFSPersistentVolumeSource",
    F("monitors", 1, STRING, REP),
    F("path", 2, STRING),
    F("user", 3, STRING),
    F("secretFile", 4, STRING),
    F("secretRef", 5, MESSAGE, MSG(core_v1_SecretReference), OPT),
    F("readOnly", 6, BOOL))

MSG_DEF(core_v1_FlexPersistentVolumeSource, "io.k8s.api.core.v1.FlexPersistentVolumeSource",
    F("driver", 1, STRING),
    F("fsType", 2, STRING),
    F("secretRef", 3, MESSAGE, MSG(core_v1_SecretReference), OPT),
    F("readOnly", 4, BOOL),
    F("options", 5, MAP, ELEM(STRING)))

MSG_DEF(core_v1_AzureFilePersistentVolumeSource, "io.k8s.api.core.v1.AzureFilePersistentVolumeSource",
    F("secretName", 1, STRING),
    F("shareName", 2, STRING),
    F("readOnly", 3, BOOL),
    F("secretNamespace", 4, STRING, OPT))

MSG_DEF(core_v1_ScaleIOPersistentVolumeSource, "io.k8s.api.core.v1.ScaleIOPersistentVolumeSource",
    F("gateway", 1, STRING),
    F("system", 2, STRING),
    F("secretRef", 3, MESSAGE, MSG(core_v1_SecretReference), OPT),
    F("sslEnabled", 4, BOOL),
    F("protectionDomain", 5, STRING),
    F("storagePool", 6, STRING),
    F("storageMode", 7, STRING),
    F("volumeName", 8, STRING),
    F("fsType", 9, STRING),
    F("readOnly", 10, BOOL))

MSG_DEF(core_v1_LocalVolumeSource, "io.k8s.api.core.v1.LocalVolumeSource",
    F("path", 1, STRING),
    F("fsType", 2, STRING, OPT))

MSG_DEF(core_v1_StorageOSPersistentVolumeSource, "io.k8s.api.core.v1.StorageOSPersistentVolumeSource",
    F("volumeName", 1, STRING),
    F("volumeNamespace", 2, STRING),
    F("fsType", 3, STRING),
    F("readOnly", 4, BOOL),
    F("secretRef", 5, MESSAGE, MSG(core_v1_ObjectReference), OPT))

MSG_DEF(core_v1_CSIPersistentVolumeSource, "io.k8s.api.core.v1.CSIPersistentVolumeSource",
    F("driver", 1, STRING),
    F("volumeHandle", 2, STRING),
    F("readOnly", 3, BOOL),
    F("fsType", 4, STRING),
    F("volumeAttributes", 5, MAP, ELEM(STRING)),
    F("controllerPublishSecretRef", 6, MESSAGE, MSG(core_v1_SecretReference), OPT),
    F("nodeStageSecretRef", 7, MESSAGE, MSG(core_v1_SecretReference), OPT),
    F("nodePublishSecretRef", 8, MESSAGE, MSG(core_v1_SecretReference), OPT),
    F("controllerExpandSecretRef", 9, MESSAGE, MSG(core_v1_SecretReference), OPT),
    F("nodeExpandSecretRef", 10, MESSAGE, MSG(core_v1_SecretReference), OPT))

MSG_DEF(core_v1_VolumeNodeAffinity, "io.k8s.api.core.v1.VolumeNodeAffinity",
    F("required", 1, MESSAGE, MSG(core_v1_NodeSelector), OPT))

MSG_DEF(core_v1_PersistentVolumeStatus, "io.k8s.api.core.v1.PersistentVolumeStatus",
    F("phase", 1, STRING),
    F("message", 2, STRING),
    F("reason", 3, STRING),
    F("lastPhaseTransitionTime", 4, TIME, OPT))

MSG_DEF(core_v1_PersistentVolumeClaim, "io.k8s.api.core.v1.PersistentVolumeClaim",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(core_v1_PersistentVolumeClaimSpec)),
    F("status", 3, MESSAGE, MSG(core_v1_PersistentVolumeClaimStatus)))

MSG_DEF(core_v1_PersistentVolumeClaimStatus, "io.k8s.api.core.v1.PersistentVolumeClaimStatus",
    F("phase", 1, STRING),
    F("accessModes", 2, STRING, REP),
    F("capacity", 3, MAP, ELEM(QUANTITY)),
    F("conditions", 4, MESSAGE, REP, MSG(core_v1_PersistentVolumeClaimCondition), MERGE("type")),
    F("allocatedResources", 5, MAP, ELEM(QUANTITY)),
    F("allocatedResourceStatuses", 7, MAP, ELEM(STRING)),
    F("currentVolumeAttributesClassName", 8, STRING, OPT),
    F("modifyVolumeStatus", 9, MESSAGE, MSG(core_v1_ModifyVolumeStatus), OPT))

MSG_DEF(core_v1_PersistentVolumeClaimCondition, "io.k8s.api.core.v1.PersistentVolumeClaimCondition",
    F("type", 1, STRING),
    F("status", 2, STRING),
    F("lastProbeTime", 3, TIME),
    F("lastTransitionTime", 4, TIME),
    F("reason", 5, STRING),
    F("message", 6, STRING))

MSG_DEF(core_v1_ModifyVolumeStatus, "io.k8s.api.core.v1.ModifyVolumeStatus",
    F("targetVolumeAttributesClassName", 1, STRING),
    F("status", 2, STRING))

MSG_DEF(core_v1_ResourceQuota, "io.k8s.api.core.v1.ResourceQuota",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(core_v1_ResourceQuotaSpec)),
    F("status", 3, MESSAGE, MSG(core_v1_ResourceQuotaStatus)))

MSG_DEF(core_v1_ResourceQuotaSpec, "io.k8s.api.core.v1.ResourceQuotaSpec",
    F("hard", 1, MAP, ELEM(QUANTITY)),
    F("scopes", 2, STRING, REP),
    F("scopeSelector", 3, MESSAGE, MSG(core_v1_ScopeSelector), OPT))

MSG_DEF(core_v1_ScopeSelector, "io.k8s.api.core.v1.ScopeSelector",
    F("matchExpressions", 1, MESSAGE, REP, MSG(core_v1_ScopedResourceSelectorRequirement)))

MSG_DEF(core_v1_ScopedResourceSelectorRequirement, "io.k8s.api.core.v1.ScopedResourceSelectorRequirement",
    F("scopeName", 1, STRING),
    F("operator", 2, STRING),
    F("values", 3, STRING, REP))

MSG_DEF(core_v1_ResourceQuotaStatus, "io.k8s.api.core.v1.ResourceQuotaStatus",
    F("hard", 1, MAP, ELEM(QUANTITY)),
    F("used", 2, MAP, ELEM(QUANTITY)))

MSG_DEF(core_v1_LimitRange, "io.k8s.api.core.v1.LimitRange",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(core_v1_LimitRangeSpec)))

MSG_DEF(core_v1_LimitRangeSpec, "io.k8s.api.core.v1.LimitRangeSpec",
    F("limits", 1, MESSAGE, REP, MSG(core_v1_LimitRangeItem)))

MSG_DEF(core_v1_LimitRangeItem, "io.k8s.api.core.v1.LimitRangeItem",
    F("type", 1, STRING),
    F("max", 2, MAP, ELEM(QUANTITY)),
    F("min", 3, MAP, ELEM(QUANTITY)),
    F("default", 4, MAP, ELEM(QUANTITY)),
    F("defaultRequest", 5, MAP, ELEM(QUANTITY)),
    F("maxLimitRequestRatio", 6, MAP, ELEM(QUANTITY)))

MSG_DEF(core_v1_Binding, "io.k8s.api.core.v1.Binding",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("target", 2, MESSAGE, MSG(core_v1_ObjectReference)))

MSG_DEF(core_v1_PodTemplateSpec, "io.k8s.api.core.v1.PodTemplateSpec",
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(core_v1_PodSpec)))

MSG_DEF(core_v1_TopologySelectorTerm, "io.k8s.api.core.v1.TopologySelectorTerm",
    F("matchLabelExpressions", 1, MESSAGE, REP, MSG(core_v1_TopologySelectorLabelRequirement)))

MSG_DEF(core_v1_TopologySelectorLabelRequirement, "io.k8s.api.core.v1.TopologySelectorLabelRequirement",
    F("key", 1, STRING),
    F("values", 2, STRING, REP))

MSG_DEF(core_v1_PodTemplate, "io.k8s.api.core.v1.PodTemplate",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("template", 2, MESSAGE, MSG(core_v1_PodTemplateSpec)))

MSG_DEF(core_v1_ReplicationController, "io.k8s.api.core.v1.ReplicationController",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(core_v1_ReplicationControllerSpec)),
    F("status", 3, MESSAGE, MSG(core_v1_ReplicationControllerStatus)))

MSG_DEF(core_v1_ReplicationControllerSpec, "io.k8s.api.core.v1.ReplicationControllerSpec",
    F("replicas", 1, INT32, OPT),
    F("selector", 2, MAP, ELEM(STRING)),
    F("template", 3, MESSAGE, MSG(core_v1_PodTemplateSpec), OPT),
    F("minReadySeconds", 4, INT32))

MSG_DEF(core_v1_ReplicationControllerStatus, "io.k8s.api.core.v1.ReplicationControllerStatus",
    F("replicas", 1, INT32),
    F("fullyLabeledReplicas", 2, INT32),
    F("observedGeneration", 3, INT64),
    F("readyReplicas", 4, INT32),
    F("availableReplicas", 5, INT32),
    F("conditions", 6, MESSAGE, REP, MSG(core_v1_ReplicationControllerCondition), MERGE("type")))

MSG_DEF(core_v1_ReplicationControllerCondition, "io.k8s.api.core.v1.ReplicationControllerCondition",
    F("type", 1, STRING),
    F("status", 2, STRING),
    F("lastTransitionTime", 3, TIME),
    F("reason", 4, STRING),
    F("message", 5, STRING))
