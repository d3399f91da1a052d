"""Verify the logging role: Loki (single binary, retention) and Alloy charts written for K3s to install."""


def test_loki_and_alloy_charts(host, manifest):
    _, charts = manifest("logging")
    assert {"loki", "alloy"} <= set(charts), charts.keys()
    assert "retention_period" in charts["loki"]["valuesContent"]
