"""Every chart vpskit installs, rendered by a real helm at its pinned version with exactly the values vpskit writes,
and every rendered object, and every object of vpskit's own, valid against Kubernetes's and the charts' CRD schemas."""

import copy

import jsonschema
import pytest

from .crds import CrdSchemas, UnknownKind, is_custom, validate_object
from .render import RenderError
from .written import (INVENTORIES, chart_crds, helm_charts, kubernetes_minor, own_objects, render_chart,
                      render_traefik)

CASES = [(inventory, chart["metadata"]["name"]) for inventory in sorted(INVENTORIES)
         for chart in helm_charts(inventory)]


def chart_of(inventory: str, name: str) -> dict:
    return next(c for c in helm_charts(inventory) if c["metadata"]["name"] == name)


@pytest.fixture(scope="module")
def schemas() -> CrdSchemas:
    return CrdSchemas(list(chart_crds()))


def test_every_stack_chart_is_covered():
    assert {name for _, name in CASES} == {"cert-manager", "kube-prometheus-stack", "loki", "alloy"}


@pytest.mark.parametrize("inventory, name", CASES)
def test_the_chart_renders_with_vpskits_values(inventory, name):
    assert render_chart(chart_of(inventory, name)), "the chart rendered nothing"


@pytest.mark.parametrize("inventory, name", CASES)
def test_every_rendered_object_is_valid(inventory, name, schemas):
    for document in render_chart(chart_of(inventory, name)):
        validate_object(document, schemas, kubernetes_minor())


@pytest.mark.parametrize("inventory", sorted(INVENTORIES))
def test_k3s_traefik_renders_with_vpskits_config_and_every_object_is_valid(inventory, schemas):
    for document in render_traefik(inventory):
        validate_object(document, schemas, kubernetes_minor())


@pytest.mark.parametrize("inventory", sorted(INVENTORIES))
def test_vpskits_own_objects_are_valid_against_the_real_crds(inventory, schemas):
    for document in own_objects(inventory):
        validate_object(document, schemas, kubernetes_minor())


def test_the_real_crds_cover_every_custom_kind_vpskit_writes(schemas):
    kinds = {(d["apiVersion"], d["kind"]) for d in own_objects("full")}
    assert {("cert-manager.io/v1", "ClusterIssuer"), ("monitoring.coreos.com/v1", "PrometheusRule"),
            ("traefik.io/v1alpha1", "IngressRoute"), ("traefik.io/v1alpha1", "Middleware")} <= kinds
    assert {k for k in kinds if is_custom(k[0])} <= schemas.kinds()


@pytest.mark.parametrize("kind, change, message", [
    ("ClusterIssuer", lambda d: d["spec"]["acme"]["solvers"][-1]["http01"]["ingress"].update(ingressClass="x"),
     "'ingressClass' was unexpected"),
    ("ClusterIssuer", lambda d: d["spec"]["acme"].pop("privateKeySecretRef"), "'privateKeySecretRef' is a required"),
    ("PrometheusRule", lambda d: d["spec"]["groups"][0]["rules"][0].update({"for": "5 minutes"}), "'5 minutes'"),
    ("PrometheusRule", lambda d: d["spec"]["groups"][0]["rules"][0].update(fro="5m"), "'fro' was unexpected"),
    ("IngressRoute", lambda d: d["spec"]["routes"][0].update(kind="Rules"), "'Rules' is not one of"),
    ("Middleware", lambda d: d["spec"].update(redirectscheme={}), "'redirectscheme' was unexpected"),
])
def test_a_wrong_field_is_caught_by_the_real_crd(kind, change, message, schemas):
    document = copy.deepcopy(next(d for d in own_objects("full") if d["kind"] == kind))
    change(document)
    with pytest.raises(jsonschema.ValidationError, match=message.replace("(", r"\(")):
        validate_object(document, schemas, kubernetes_minor())


def test_a_kind_no_chart_defines_is_refused(schemas):
    with pytest.raises(UnknownKind):
        validate_object({"apiVersion": "example.org/v1", "kind": "Widget", "metadata": {"name": "w"}}, schemas,
                        kubernetes_minor())


def test_a_value_the_chart_refuses_fails_with_helms_message():
    chart = copy.deepcopy(chart_of("defaults", "loki"))
    chart["spec"]["valuesContent"] = "deploymentMode: SingleBinary\nloki:\n  storage:\n    type: s3\n"
    with pytest.raises(RenderError, match="bucketNames"):
        render_chart(chart)


def test_a_chart_that_ships_a_values_schema_refuses_a_wrong_type_through_helm():
    chart = copy.deepcopy(chart_of("defaults", "cert-manager"))
    chart["spec"]["valuesContent"] = "crds:\n  enabled: 'yes'\n"
    with pytest.raises(RenderError, match="crds"):
        render_chart(chart)
