"""Verify the sysctl role on the host: the live kernel values, not only the file vpskit wrote."""

import pytest


@pytest.mark.parametrize("key, value", [("net.ipv4.conf.all.rp_filter", "1"), ("net.ipv4.tcp_syncookies", "1"),
                                        ("net.ipv4.conf.all.accept_redirects", "0"),
                                        ("net.ipv4.conf.all.log_martians", "1")])
def test_live_value(host, key, value):
    assert host.run(f"sysctl -n {key}").stdout.strip() == value
