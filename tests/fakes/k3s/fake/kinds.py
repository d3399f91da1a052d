"""The kinds a fresh K3s cluster serves before any chart is installed: Kubernetes 1.36's GA APIs, K3s's own CRDs
and, unless traefik is disabled, the CRDs of K3s's bundled traefik-crd chart.

A kind a chart renders that is in none of these, nor in a CRD an installed chart brought, makes helm fail with
"no matches for kind" (see helm_job.py). Beta and alpha APIs are off by default in Kubernetes, so they are absent.
"""

# Kubernetes v1.36 GA group/versions (apiVersion → kinds one can create), as in kubernetes-validate's 1.36 schemas
# (tests/unit/stack/test_fake_helm.py checks each against them)
BUILTIN = {
    "v1": ["Binding", "ConfigMap", "Endpoints", "Event", "LimitRange", "Namespace", "Node", "PersistentVolume",
           "PersistentVolumeClaim", "Pod", "PodTemplate", "ReplicationController", "ResourceQuota", "Secret",
           "Service", "ServiceAccount"],
    "admissionregistration.k8s.io/v1": ["MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding",
                                        "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy",
                                        "ValidatingAdmissionPolicyBinding", "ValidatingWebhookConfiguration"],
    "apiextensions.k8s.io/v1": ["CustomResourceDefinition"],
    "apiregistration.k8s.io/v1": ["APIService"],
    "apps/v1": ["ControllerRevision", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet"],
    "autoscaling/v1": ["HorizontalPodAutoscaler"],
    "autoscaling/v2": ["HorizontalPodAutoscaler"],
    "batch/v1": ["CronJob", "Job"],
    "certificates.k8s.io/v1": ["CertificateSigningRequest"],
    "coordination.k8s.io/v1": ["Lease"],
    "discovery.k8s.io/v1": ["EndpointSlice"],
    "events.k8s.io/v1": ["Event"],
    "flowcontrol.apiserver.k8s.io/v1": ["FlowSchema", "PriorityLevelConfiguration"],
    "networking.k8s.io/v1": ["IPAddress", "Ingress", "IngressClass", "NetworkPolicy", "ServiceCIDR"],
    "node.k8s.io/v1": ["RuntimeClass"],
    "policy/v1": ["PodDisruptionBudget"],
    "rbac.authorization.k8s.io/v1": ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"],
    "resource.k8s.io/v1": ["DeviceClass", "ResourceClaim", "ResourceClaimTemplate", "ResourceSlice"],
    "scheduling.k8s.io/v1": ["PriorityClass"],
    "storage.k8s.io/v1": ["CSIDriver", "CSINode", "CSIStorageCapacity", "StorageClass", "VolumeAttachment",
                          "VolumeAttributesClass"],
}

# K3s's own CRDs (helm-controller's pkg/crds, k3s's pkg/crd), always present
K3S = {"helm.cattle.io/v1": ["HelmChart", "HelmChartConfig"], "k3s.cattle.io/v1": ["Addon", "ETCDSnapshotFile"]}

# what K3s's traefik-crd chart (k3s-io/k3s-charts assets/traefik-crd, 39.0.701+up39.0.7) installs
TRAEFIK = {
    "traefik.io/v1alpha1": ["IngressRoute", "IngressRouteTCP", "IngressRouteUDP", "Middleware", "MiddlewareTCP",
                            "ServersTransport", "ServersTransportTCP", "TLSOption", "TLSStore", "TraefikService"],
    "gateway.networking.k8s.io/v1": ["BackendTLSPolicy", "GatewayClass", "Gateway", "GRPCRoute", "HTTPRoute"],
    "gateway.networking.k8s.io/v1beta1": ["GatewayClass", "Gateway", "HTTPRoute", "ReferenceGrant"],
}


def served_at_start(traefik: bool) -> set[str]:
    """`apiVersion kind` strings the fresh cluster serves."""
    tables = [BUILTIN, K3S] + ([TRAEFIK] if traefik else [])
    return {f"{api} {kind}" for table in tables for api, kinds in table.items() for kind in kinds}


def crd_kinds(crd: dict) -> set[str]:
    """`apiVersion kind` of each served version of a CustomResourceDefinition object."""
    spec = crd.get("spec") or {}
    group, kind = spec.get("group", ""), (spec.get("names") or {}).get("kind", "")
    return {f"{group}/{v['name']} {kind}" for v in spec.get("versions") or [] if v.get("served", True)}
