"""Verify the monitoring role: the pinned chart, the critical alerts, the Grafana password kept out of the values."""


def test_chart_and_alert_rules(host, manifest):
    _, charts = manifest("monitoring")
    assert "kube-prometheus-stack" in " ".join(charts)
    rules, _ = manifest("monitoring-rules")
    alerts = {r.get("alert") for d in rules if d["kind"] == "PrometheusRule"
              for g in d["spec"]["groups"] for r in g["rules"]}
    assert {"ApplicationDown", "HighErrorRate", "DatabaseDown", "DiskAlmostFull"} <= alerts


def test_grafana_password_only_in_a_secret(host, manifest):
    documents, charts = manifest("monitoring")
    values = " ".join(spec.get("valuesContent", "") for spec in charts.values())
    assert "molecule-grafana-password" not in values
