"""Verify the certs role: cert-manager pinned, Let's Encrypt issuers, the redirect that spares the ACME challenge."""


def test_cert_manager_chart_is_pinned_with_its_crds(host, manifest):
    _, charts = manifest("certs")
    assert charts["cert-manager"]["version"].startswith("v1.")


def test_https_redirect_keeps_the_acme_challenge_on_http(host, manifest):
    text = host.file("/var/lib/rancher/k3s/server/manifests/vpskit-certs.yaml").content_string
    assert "redirectScheme" in text and "/.well-known/acme-challenge/" in text
