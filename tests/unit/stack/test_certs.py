"""The certs role: golden manifests, kinds validated, the redirect that spares HTTP-01, plans, a missing e-mail."""

import jsonschema
import pytest
import yaml

from vpskit.builtin_roles.certs import manifests, plan
from vpskit.builtin_roles.k3s.manifests import MANIFESTS, render
from vpskit.errors import InventoryError
from vpskit.inventory import load_inventory
from vpskit.resources import Wait
from vpskit.roleloader import RoleLibrary, all_defaults, all_specs
from vpskit.secrets import Secret
from tests.unit.planctx import cluster, member_context

from .golden import assert_golden, kubernetes_minor, validated_kinds
from .kinds import documents, validate
INVENTORIES = {
    "defaults": {"certs_enabled": True, "certs_acme_email": "ops@example.org"},
    "full": {"certs_enabled": True, "certs_acme_email": "ops@example.org", "monitoring_enabled": True,
             "certs_dns01_zones": ["example.org"], "certs_dns01_cloudflare_token": Secret("cf-token-golden")},
}


def values(name: str) -> dict:
    return {**{k: v.value for k, v in RoleLibrary().load("certs").defaults.items()}, **INVENTORIES[name]}


def rendered(name: str) -> dict[str, str]:
    return {f: render("certs", docs) for f, docs in manifests(values(name)).items()}


@pytest.mark.parametrize("name", sorted(INVENTORIES))
def test_manifests_match_the_golden_files(name):
    for file, text in rendered(name).items():
        assert_golden(f"{name}-{file}.yaml", text)


@pytest.mark.parametrize("name", sorted(INVENTORIES))
def test_every_document_is_valid_for_its_kind(name):
    expected = ["ClusterIssuer", "ClusterIssuer", "HelmChart", "HelmChartConfig", "Namespace"]
    assert validated_kinds(rendered(name).values()) == sorted(expected + (["Secret"] if name == "full" else []))


@pytest.mark.parametrize("kind, change", [
    ("ClusterIssuer", lambda d: d["spec"]["acme"]["solvers"][0]["http01"]["ingress"].update(ingressClass="traefik")),
    ("HelmChartConfig", lambda d: d["spec"].update(values="x")),
])
def test_a_wrong_field_is_caught(kind, change):
    document = next(d for t in rendered("defaults").values() for d in documents(t) if d["kind"] == kind)
    change(document)
    with pytest.raises(jsonschema.ValidationError):
        validate(document, kubernetes_minor())


def traefik_values() -> dict:
    config = next(d for t in rendered("defaults").values() for d in documents(t) if d["kind"] == "HelmChartConfig")
    return yaml.safe_load(config["spec"]["valuesContent"])


def test_the_redirect_covers_every_path_on_port_80_but_the_acme_challenge():
    values = traefik_values()
    assert "ports" not in values  # no entrypoint-wide redirection: it would catch the challenge too
    route = next(o for o in values["extraObjects"] if o["kind"] == "IngressRoute")["spec"]
    assert route["entryPoints"] == ["web"]
    rule = route["routes"][0]
    assert rule["match"] == "PathPrefix(`/`) && !PathPrefix(`/.well-known/acme-challenge/`)"
    assert rule["priority"] >= 10000 and rule["middlewares"] == [{"name": "vpskit-https-redirect"}]
    middleware = next(o for o in values["extraObjects"] if o["kind"] == "Middleware")["spec"]
    assert middleware == {"redirectScheme": {"scheme": "https", "permanent": True}}


def test_no_redirect_when_switched_off():
    kinds = [d["kind"] for d in manifests({**values("defaults"), "certs_https_redirect": False})["certs"]]
    assert "HelmChartConfig" not in kinds


def test_both_issuers_answer_http01_through_traefik_and_dns01_only_for_its_zones():
    issuers = manifests(values("full"))["certs-issuers"]
    assert [i["metadata"]["name"] for i in issuers] == ["letsencrypt-staging", "letsencrypt-prod"]
    assert "acme-staging-v02" in issuers[0]["spec"]["acme"]["server"]
    solvers = issuers[1]["spec"]["acme"]["solvers"]
    assert solvers[0]["selector"] == {"dnsZones": ["example.org"]}
    assert solvers[-1] == {"http01": {"ingress": {"ingressClassName": "traefik"}}}
    texts = rendered("full")
    assert "cf-token-golden" in texts["certs"] and "cf-token-golden" not in texts["certs-issuers"]


def test_the_first_server_writes_and_waits_the_others_do_nothing():
    inventory = cluster(values("full"), ["s1", "s2", "s3"])
    first = plan(member_context({}, inventory, "s1"))
    *files, wait = first.resources
    assert [f.path for f in files] == [f"{MANIFESTS}/vpskit-certs.yaml", f"{MANIFESTS}/vpskit-certs-issuers.yaml"]
    assert files[0].secret and isinstance(wait, Wait) and "helm-install-cert-manager" in wait.what
    assert plan(member_context({}, inventory, "s2")).resources == []


def test_switched_off_it_removes_its_manifests_and_deletes_the_chart_and_only_its_own_traefik_config():
    inventory = cluster({**values("defaults"), "certs_enabled": False}, ["s1"])
    off = plan(member_context({}, inventory, "s1"))
    assert [f.state for f in off.resources] == ["absent", "absent"]
    command = off.handlers[0].command
    assert ("delete helmchart.helm.cattle.io/cert-manager addon.k3s.cattle.io/vpskit-certs "
            "addon.k3s.cattle.io/vpskit-certs-issuers --ignore-not-found") in command
    # a HelmChartConfig traefik a user made (without vpskit's label) stays
    assert "helmchartconfig.helm.cattle.io/traefik" not in command
    assert ("delete helmchartconfig.helm.cattle.io -l app.kubernetes.io/managed-by=vpskit "
            "--field-selector metadata.name=traefik --ignore-not-found") in command


def test_the_traefik_config_carries_vpskits_label_and_the_inventorys_traefik_values():
    extra = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "mine", "namespace": "kube-system"}}
    docs = manifests({**values("defaults"), "certs_traefik_values": {
        "logs": {"access": {"enabled": True}}, "extraObjects": [extra]}})["certs"]
    config = next(d for d in docs if d["kind"] == "HelmChartConfig")
    assert config["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "vpskit"}
    given = yaml.safe_load(config["spec"]["valuesContent"])
    assert given["logs"] == {"access": {"enabled": True}}
    assert [o["kind"] for o in given["extraObjects"]] == ["ConfigMap", "Middleware", "IngressRoute"]


def test_without_the_redirect_the_traefik_config_holds_only_the_inventorys_values_or_is_not_written():
    off = manifests({**values("defaults"), "certs_https_redirect": False})["certs"]
    assert "HelmChartConfig" not in [d["kind"] for d in off]
    mine = manifests({**values("defaults"), "certs_https_redirect": False,
                      "certs_traefik_values": {"logs": {"access": {"enabled": True}}}})["certs"]
    config = next(d for d in mine if d["kind"] == "HelmChartConfig")
    assert yaml.safe_load(config["spec"]["valuesContent"]) == {"logs": {"access": {"enabled": True}}}


def test_certs_on_without_an_acme_email_is_an_inventory_error_at_its_line(tmp_path):
    (tmp_path / "hosts.yml").write_text("all:\n  hosts:\n    h1:\n  vars:\n    certs_enabled: true\n")
    roles = RoleLibrary().all()
    with pytest.raises(InventoryError) as caught:
        load_inventory(tmp_path / "hosts.yml", all_defaults(roles), {r.name for r in roles}, specs=all_specs(roles))
    assert caught.value.line == 5 and caught.value.path.endswith("hosts.yml")
    assert caught.value.message == "certs_acme_email is required when certs_enabled is on (host h1)"
