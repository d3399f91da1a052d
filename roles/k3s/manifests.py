"""Kubernetes manifests as data for K3s's auto-deploy folder: HelmChart, Secret, Namespace, dumped as YAML."""

from __future__ import annotations

import yaml

from vpskit.secrets import unmarked

# K3s applies every file in this folder (on start and when a file changes); removing a file deletes nothing in the
# cluster, so a role switched off also deletes its HelmChart and AddOn (see uninstall_command)
MANIFESTS = "/var/lib/rancher/k3s/server/manifests"
MANAGED_LABEL = "app.kubernetes.io/managed-by"
HEADER = "# Managed by vpskit ({role} role): K3s applies this file; edit the inventory, not this file\n"


def manifest_path(name: str) -> str:
    return f"{MANIFESTS}/vpskit-{name}.yaml"


def uninstall_command(files: list[str], objects: list[str]) -> str:
    """Deletes `objects` (kind/name in kube-system: a HelmChart's controller then runs helm uninstall) and the
    AddOns K3s made of the manifest `files`."""
    kinds = " ".join([*objects, *(f"addon.k3s.cattle.io/vpskit-{f}" for f in files)])
    return f"/usr/local/bin/k3s kubectl -n kube-system delete {kinds} --ignore-not-found"


def delete_labelled(kind: str, name: str) -> str:
    """Deletes the kube-system object only when it carries vpskit's label (one a user made stays)."""
    return (f"/usr/local/bin/k3s kubectl -n kube-system delete {kind} -l {MANAGED_LABEL}=vpskit "
            f"--field-selector metadata.name={name} --ignore-not-found")


def helm_chart(name: str, chart: str, repo: str, version: str, namespace: str, values: dict) -> dict:
    """A helm.cattle.io/v1 HelmChart K3s's helm controller installs, values given as data (an oci:// chart
    carries its registry in its name: no repo). Pure."""
    return {
        "apiVersion": "helm.cattle.io/v1",
        "kind": "HelmChart",
        "metadata": {"name": name, "namespace": "kube-system"},
        "spec": {**({"chart": chart} if chart.startswith("oci://") else {"chart": chart, "repo": repo}),
                 "version": str(version), "targetNamespace": namespace, "createNamespace": True,
                 # a failed upgrade leaves the release that ran (the default, reinstall, uninstalls it first)
                 "failurePolicy": "abort",
                 "valuesContent": dump(values)},
    }


def helm_chart_config(name: str, values: dict) -> dict:
    """A HelmChartConfig: values K3s merges into a chart it deploys itself (traefik). Pure."""
    return {"apiVersion": "helm.cattle.io/v1", "kind": "HelmChartConfig",
            "metadata": {"name": name, "namespace": "kube-system", "labels": {MANAGED_LABEL: "vpskit"}},
            "spec": {"valuesContent": dump(values)}}


def namespace(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def secret(name: str, namespace_: str, data: dict[str, str]) -> dict:
    """An Opaque Secret given as stringData (the values stay plain text only in a 0600 file on the server)."""
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": namespace_, "labels": {MANAGED_LABEL: "vpskit"}},
            "stringData": {k: str(v) for k, v in data.items()}}


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (embedded values and configs) as readable `|` blocks, so diffs show lines."""


def _string(dumper, value: str):
    style = "|" if "\n" in value and not any(line != line.rstrip() for line in value.splitlines()) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _string)


def dump(data) -> str:
    """YAML of plain data; Secret strings dump as the plain strings they are."""
    return yaml.dump(unmarked(data), Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120)


def render(role: str, documents: list[dict]) -> str:
    """A multi-document manifest file. Pure."""
    return HEADER.format(role=role) + "".join("---\n" + dump(doc) for doc in documents)
