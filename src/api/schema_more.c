/* schema tables: scheduling, networking, autoscaling/v2, certificates.
 * Field names, numbers, types and patch strategies of the published API,
 * one MSG_DEF per message (macros in schema-internal.h). */
#include "api/schema-internal.h"

/* ---- scheduling/v1 ---- */

MSG_DEF(scheduling_v1_PriorityClass, "io.k8s.api.scheduling.v1.PriorityClass",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("value", 2, INT32),
    F("globalDefault", 3, BOOL),
    F("description", 4, STRING),
    F("preemptionPolicy", 5, STRING, OPT))

/* ---- networking/v1 ---- */

MSG_DEF(networking_v1_Ingress, "io.k8s.api.networking.v1.Ingress",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(networking_v1_IngressSpec)),
    F("status", 3, MESSAGE, MSG(networking_v1_IngressStatus)))

MSG_DEF(networking_v1_IngressSpec, "io.k8s.api.networking.v1.IngressSpec",
    F("defaultBackend", 1, MESSAGE, MSG(networking_v1_IngressBackend), OPT),
    F("tls", 2, MESSAGE, REP, MSG(networking_v1_IngressTLS)),
    F("rules", 3, MESSAGE, REP, MSG(networking_v1_IngressRule)),
    F("ingressClassName", 4, STRING, OPT))

MSG_DEF(networking_v1_IngressBackend, "io.k8s.api.networking.v1.IngressBackend",
    F("resource", 3, MESSAGE, MSG(core_v1_TypedLocalObjectReference), OPT),
    F("service", 4, MESSAGE, MSG(networking_v1_IngressServiceBackend), OPT))

MSG_DEF(networking_v1_IngressServiceBackend, "io.k8s.api.networking.v1.IngressServiceBackend",
    F("name", 1, STRING),
    F("port", 2, MESSAGE, MSG(networking_v1_ServiceBackendPort)))

MSG_DEF(networking_v1_ServiceBackendPort, "io.k8s.api.networking.v1.ServiceBackendPort",
    F("name", 1, STRING),
    F("number", 2, INT32))

MSG_DEF(networking_v1_IngressTLS, "io.k8s.api.networking.v1.IngressTLS",
    F("hosts", 1, STRING, REP),
    F("secretName", 2, STRING))

MSG_DEF(networking_v1_IngressRule, "io.k8s.api.networking.v1.IngressRule",
    F("host", 1, STRING),
    F(NULL, 2, MESSAGE, MSG(networking_v1_IngressRuleValue), INLINE))

MSG_DEF(networking_v1_IngressRuleValue, "io.k8s.api.networking.v1.IngressRuleValue",
    F("http", 1, MESSAGE, MSG(networking_v1_HTTPIngressRuleValue), OPT))

MSG_DEF(networking_v1_HTTPIngressRuleValue, "io.k8s.api.networking.v1.HTTPIngressRuleValue",
    F("paths", 1, MESSAGE, REP, MSG(networking_v1_HTTPIngressPath)))

MSG_DEF(networking_v1_HTTPIngressPath, "io.k8s.api.networking.v1.HTTPIngressPath",
    F("path", 1, STRING),
    F("backend", 2, MESSAGE, MSG(networking_v1_IngressBackend)),
    F("pathType", 3, STRING, OPT))

MSG_DEF(networking_v1_IngressStatus, "io.k8s.api.networking.v1.IngressStatus",
    F("loadBalancer", 1, MESSAGE, MSG(networking_v1_IngressLoadBalancerStatus)))

MSG_DEF(networking_v1_IngressLoadBalancerStatus, "io.k8s.api.networking.v1.IngressLoadBalancerStatus",
    F("ingress", 1, MESSAGE, REP, MSG(networking_v1_IngressLoadBalancerIngress)))

MSG_DEF(networking_v1_IngressLoadBalancerIngress, "io.k8s.api.networking.v1.IngressLoadBalancerIngress",
    F("ip", 1, STRING),
    F("hostname", 2, STRING),
    F("ports", 4, MESSAGE, REP, MSG(networking_v1_IngressPortStatus)))

MSG_DEF(networking_v1_IngressPortStatus, "io.k8s.api.networking.v1.IngressPortStatus",
    F("port", 1, INT32),
    F("protocol", 2, STRING),
    F("error", 3, STRING, OPT))

MSG_DEF(networking_v1_IngressClass, "io.k8s.api.networking.v1.IngressClass",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(networking_v1_IngressClassSpec)))

MSG_DEF(networking_v1_IngressClassSpec, "io.k8s.api.networking.v1.IngressClassSpec",
    F("controller", 1, STRING),
    F("parameters", 2, MESSAGE, MSG(networking_v1_IngressClassParametersReference), OPT))

MSG_DEF(networking_v1_IngressClassParametersReference, "io.k8s.api.networking.v1.IngressClassParametersReference",
    F("apiGroup", 1, STRING, OPT),
    F("kind", 2, STRING),
    F("name", 3, STRING),
    F("scope", 4, STRING, OPT),
    F("namespace", 5, STRING, OPT))

MSG_DEF(networking_v1_NetworkPolicy, "io.k8s.api.networking.v1.NetworkPolicy",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(networking_v1_NetworkPolicySpec)))

MSG_DEF(networking_v1_NetworkPolicySpec, "io.k8s.api.networking.v1.NetworkPolicySpec",
    F("podSelector", 1, MESSAGE, MSG(meta_v1_LabelSelector)),
    F("ingress", 2, MESSAGE, REP, MSG(networking_v1_NetworkPolicyIngressRule)),
    F("egress", 3, MESSAGE, REP, MSG(networking_v1_NetworkPolicyEgressRule)),
    F("policyTypes", 4, STRING, REP))

MSG_DEF(networking_v1_NetworkPolicyIngressRule, "io.k8s.api.networking.v1.NetworkPolicyIngressRule",
    F("ports", 1, MESSAGE, REP, MSG(networking_v1_NetworkPolicyPort)),
    F("from", 2, MESSAGE, REP, MSG(networking_v1_NetworkPolicyPeer)))

MSG_DEF(networking_v1_NetworkPolicyPort, "io.k8s.api.networking.v1.NetworkPolicyPort",
    F("protocol", 1, STRING, OPT),
    F("port", 2, INT_OR_STRING, OPT),
    F("endPort", 3, INT32, OPT))

MSG_DEF(networking_v1_NetworkPolicyPeer, "io.k8s.api.networking.v1.NetworkPolicyPeer",
    F("podSelector", 1, MESSAGE, MSG(meta_v1_LabelSelector), OPT),
    F("namespaceSelector", 2, MESSAGE, MSG(meta_v1_LabelSelector), OPT),
    F("ipBlock", 3, MESSAGE, MSG(networking_v1_IPBlock), OPT))

MSG_DEF(networking_v1_IPBlock, "io.k8s.api.networking.v1.IPBlock",
    F("cidr", 1, STRING),
    F("except", 2, STRING, REP))

MSG_DEF(networking_v1_NetworkPolicyEgressRule, "io.k8s.api.networking.v1.NetworkPolicyEgressRule",
    F("ports", 1, MESSAGE, REP, MSG(networking_v1_NetworkPolicyPort)),
    F("to", 2, MESSAGE, REP, MSG(networking_v1_NetworkPolicyPeer)))

/* ---- autoscaling/v2 ---- */

MSG_DEF(autoscaling_v2_HorizontalPodAutoscaler, "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(autoscaling_v2_HorizontalPodAutoscalerSpec)),
    F("status", 3, MESSAGE, MSG(autoscaling_v2_HorizontalPodAutoscalerStatus)))

MSG_DEF(autoscaling_v2_HorizontalPodAutoscalerSpec, "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec",
    F("scaleTargetRef", 1, MESSAGE, MSG(autoscaling_v2_CrossVersionObjectReference)),
    F("minReplicas", 2, INT32, OPT),
    F("maxReplicas", 3, INT32),
    F("metrics", 4, MESSAGE, REP, MSG(autoscaling_v2_MetricSpec)),
    F("behavior", 5, MESSAGE, MSG(autoscaling_v2_HorizontalPodAutoscalerBehavior), OPT))

MSG_DEF(autoscaling_v2_CrossVersionObjectReference, "io.k8s.api.autoscaling.v2.CrossVersionObjectReference",
    F("kind", 1, STRING),
    F("name", 2, STRING),
    F("apiVersion", 3, STRING))

MSG_DEF(autoscaling_v2_MetricSpec, "io.k8s.api.autoscaling.v2.MetricSpec",
    F("type", 1, STRING),
    F("object", 2, MESSAGE, MSG(autoscaling_v2_ObjectMetricSource), OPT),
    F("pods", 3, MESSAGE, MSG(autoscaling_v2_PodsMetricSource), OPT),
    F("resource", 4, MESSAGE, MSG(autoscaling_v2_ResourceMetricSource), OPT),
    F("external", 5, MESSAGE, MSG(autoscaling_v2_ExternalMetricSource), OPT),
    F("containerResource", 7, MESSAGE, MSG(autoscaling_v2_ContainerResourceMetricSource), OPT))

MSG_DEF(autoscaling_v2_ObjectMetricSource, "io.k8s.api.autoscaling.v2.ObjectMetricSource",
    F("describedObject", 1, MESSAGE, MSG(autoscaling_v2_CrossVersionObjectReference)),
    F("target", 2, MESSAGE, MSG(autoscaling_v2_MetricTarget)),
    F("metric", 3, MESSAGE, MSG(autoscaling_v2_MetricIdentifier)))

MSG_DEF(autoscaling_v2_MetricTarget, "io.k8s.api.autoscaling.v2.MetricTarget",
    F("type", 1, STRING),
    F("value", 2, QUANTITY, OPT),
    F("averageValue", 3, QUANTITY, OPT),
    F("averageUtilization", 4, INT32, OPT))

MSG_DEF(autoscaling_v2_MetricIdentifier, "io.k8s.api.autoscaling.v2.MetricIdentifier",
    F("name", 1, STRING),
    F("selector", 2, MESSAGE, MSG(meta_v1_LabelSelector), OPT))

MSG_DEF(autoscaling_v2_PodsMetricSource, "io.k8s.api.autoscaling.v2.PodsMetricSource",
    F("metric", 1, MESSAGE, MSG(autoscaling_v2_MetricIdentifier)),
    F("target", 2, MESSAGE, MSG(autoscaling_v2_MetricTarget)))

MSG_DEF(autoscaling_v2_ResourceMetricSource, "io.k8s.api.autoscaling.v2.ResourceMetricSource",
    F("name", 1, STRING),
    F("target", 2, MESSAGE, MSG(autoscaling_v2_MetricTarget)))

MSG_DEF(autoscaling_v2_ExternalMetricSource, "io.k8s.api.autoscaling.v2.ExternalMetricSource",
    F("metric", 1, MESSAGE, MSG(autoscaling_v2_MetricIdentifier)),
    F("target", 2, MESSAGE, MSG(autoscaling_v2_MetricTarget)))

MSG_DEF(autoscaling_v2_ContainerResourceMetricSource, "io.k8s.api.autoscaling.v2.ContainerResourceMetricSource",
    F("name", 1, STRING),
    F("target", 2, MESSAGE, MSG(autoscaling_v2_MetricTarget)),
    F("container", 3, STRING))

MSG_DEF(autoscaling_v2_HorizontalPodAutoscalerBehavior, "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerBehavior",
    F("scaleUp", 1, MESSAGE, MSG(autoscaling_v2_HPAScalingRules), OPT),
    F("scaleDown", 2, MESSAGE, MSG(autoscaling_v2_HPAScalingRules), OPT))

MSG_DEF(autoscaling_v2_HPAScalingRules, "io.k8s.api.autoscaling.v2.HPAScalingRules",
    F("selectPolicy", 1, STRING, OPT),
    F("policies", 2, MESSAGE, REP, MSG(autoscaling_v2_HPAScalingPolicy)),
    F("stabilizationWindowSeconds", 3, INT32, OPT))

MSG_DEF(autoscaling_v2_HPAScalingPolicy, "io.k8s.api.autoscaling.v2.HPAScalingPolicy",
    F("type", 1, STRING),
    F("value", 2, INT32),
    F("periodSeconds", 3, INT32))

MSG_DEF(autoscaling_v2_HorizontalPodAutoscalerStatus, "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus",
    F("observedGeneration", 1, INT64, OPT),
    F("lastScaleTime", 2, TIME, OPT),
    F("currentReplicas", 3, INT32),
    F("desiredReplicas", 4, INT32),
    F("currentMetrics", 5, MESSAGE, REP, MSG(autoscaling_v2_MetricStatus)),
    F("conditions", 6, MESSAGE, REP, MSG(autoscaling_v2_HorizontalPodAutoscalerCondition), MERGE("type")))

MSG_DEF(autoscaling_v2_MetricStatus, "io.k8s.api.autoscaling.v2.MetricStatus",
    F("type", 1, STRING),
    F("object", 2, MESSAGE, MSG(autoscaling_v2_ObjectMetricStatus), OPT),
    F("pods", 3, MESSAGE, MSG(autoscaling_v2_PodsMetricStatus), OPT),
    F("resource", 4, MESSAGE, MSG(autoscaling_v2_ResourceMetricStatus), OPT),
    F("external", 5, MESSAGE, MSG(autoscaling_v2_ExternalMetricStatus), OPT),
    F("containerResource", 7, MESSAGE, MSG(autoscaling_v2_ContainerResourceMetricStatus), OPT))

MSG_DEF(autoscaling_v2_ObjectMetricStatus, "io.k8s.api.autoscaling.v2.ObjectMetricStatus",
    F("metric", 1, MESSAGE, MSG(autoscaling_v2_MetricIdentifier)),
    F("current", 2, MESSAGE, MSG(autoscaling_v2_MetricValueStatus)),
    F("describedObject", 3, MESSAGE, MSG(autoscaling_v2_CrossVersionObjectReference)))

MSG_DEF(autoscaling_v2_MetricValueStatus, "io.k8s.api.autoscaling.v2.MetricValueStatus",
    F("value", 1, QUANTITY, OPT),
    F("averageValue", 2, QUANTITY, OPT),
    F("averageUtilization", 3, INT32, OPT))

MSG_DEF(autoscaling_v2_PodsMetricStatus, "io.k8s.api.autoscaling.v2.PodsMetricStatus",
    F("metric", 1, MESSAGE, MSG(autoscaling_v2_MetricIdentifier)),
    F("current", 2, MESSAGE, MSG(autoscaling_v2_MetricValueStatus)))

MSG_DEF(autoscaling_v2_ResourceMetricStatus, "io.k8s.api.autoscaling.v2.ResourceMetricStatus",
    F("name", 1, STRING),
    F("current", 2, MESSAGE, MSG(autoscaling_v2_MetricValueStatus)))

MSG_DEF(autoscaling_v2_ExternalMetricStatus, "io.k8s.api.autoscaling.v2.ExternalMetricStatus",
    F("metric", 1, MESSAGE, MSG(autoscaling_v2_MetricIdentifier)),
    F("current", 2, MESSAGE, MSG(autoscaling_v2_MetricValueStatus)))

MSG_DEF(autoscaling_v2_ContainerResourceMetricStatus, "io.k8s.api.autoscaling.v2.ContainerResourceMetricStatus",
    F("name", 1, STRING),
    F("current", 2, MESSAGE, MSG(autoscaling_v2_MetricValueStatus)),
    F("container", 3, STRING))

MSG_DEF(autoscaling_v2_HorizontalPodAutoscalerCondition, "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerCondition",
    F("type", 1, STRING),
    F("status", 2, STRING),
    F("lastTransitionTime", 3, TIME),
    F("reason", 4, STRING),
    F("message", 5, STRING))

/* ---- certificates/v1 ---- */

MSG_DEF(certificates_v1_CertificateSigningRequest, "io.k8s.api.certificates.v1.CertificateSigningRequest",
    F("apiVersion", 0, STRING),
    F("kind", 0, STRING),
    F("metadata", 1, MESSAGE, MSG(meta_v1_ObjectMeta)),
    F("spec", 2, MESSAGE, MSG(certificates_v1_CertificateSigningRequestSpec)),
    F("status", 3, MESSAGE, MSG(certificates_v1_CertificateSigningRequestStatus)))

MSG_DEF(certificates_v1_CertificateSigningRequestSpec, "io.k8s.api.certificates.v1.CertificateSigningRequestSpec",
    F("request", 1, BYTES),
    F("username", 2, STRING),
    F("uid", 3, STRING),
    F("groups", 4, STRING, REP),
    F("usages", 5, STRING, REP),
    F("extra", 6, MAP, ELEM(RAW), MSG(certificates_v1_ExtraValue)),
    F("signerName", 7, STRING),
    F("expirationSeconds", 8, INT32, OPT))

MSG_DEF(certificates_v1_ExtraValue, "io.k8s.api.certificates.v1.ExtraValue",
    F("items", 1, STRING, REP))

MSG_DEF(certificates_v1_CertificateSigningRequestStatus, "io.k8s.api.certificates.v1.CertificateSigningRequestStatus",
    F("conditions", 1, MESSAGE, REP, MSG(certificates_v1_CertificateSigningRequestCondition)),
    F("certificate", 2, BYTES))

MSG_DEF(certificates_v1_CertificateSigningRequestCondition, "io.k8s.api.certificates.v1.CertificateSigningRequestCondition",
    F("type", 1, STRING),
    F("reason", 2, STRING),
    F("message", 3, STRING),
    F("lastUpdateTime", 4, TIME),
    F("lastTransitionTime", 5, TIME),
    F("status", 6, STRING))
