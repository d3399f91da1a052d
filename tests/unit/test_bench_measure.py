"""The benchmark's pure helpers: counting from sshd's journal and tool output, statistics, the table."""

from benchmarks.latency import known_hosts_for, round_trips
from benchmarks.measure import (ansible_changed, bootstrap_counts, busy_seconds, cluster_summary, cluster_table,
                                count_ssh, import_times, imports_section, pyinfra_changed, summary, table,
                                with_section)


def test_counts_connections_and_commands_from_the_journal():
    journal = ("Connection from 10.213.2.1 port 5 on 10.213.2.11 port 22 rdomain \"\"\n"
               "Accepted publickey for root from 10.213.2.1 port 5 ssh2: ED25519 SHA256:x\n"
               "Starting session: command for root from 10.213.2.1 port 5 id 0\n"
               "Starting session: command for root from 10.213.2.1 port 5 id 1\n")
    assert count_ssh(journal) == {"connections": 1, "commands": 2}


def test_ansible_recap_changes():
    recap = "bench1 : ok=14 changed=3 unreachable=0 failed=0\nbench2 : ok=14 changed=0 unreachable=0\n"
    assert ansible_changed(recap) == 3


def test_table_has_ratios():
    results = {"vpskit": {"no-op, 1 host": summary([0.5, 0.6, 0.7])},
               "pyinfra": {"no-op, 1 host": summary([2.0, 2.4, 2.5])}}
    text = table(results, ["vpskit", "pyinfra"])
    assert "| no-op, 1 host | 0.60 s (min 0.50) | 2.40 s (min 2.00) | 0.25 |" in text


def test_pyinfra_grand_total():
    assert pyinfra_changed("    Grand total                19      19        -       -           \n") == 19
    assert pyinfra_changed("    Grand total                13      -         -       13          \n") == 0


def test_busy_seconds_leaves_out_idle_and_iowait():
    stat = "cpu  100 5 50 1000 20 3 2 0 0 0\ncpu0 50 2 25 500 10 1 1 0 0 0\n"
    assert busy_seconds(stat, ticks_per_second=100) == (100 + 5 + 50 + 3 + 2) / 100


def _report(commands: dict, changed: int = 0) -> dict:
    return {"exit_code": 0, "hosts": {name: {"commands": n, "connections": 1, "summary": {"changed": changed}}
                                      for name, n in commands.items()}}


def test_bootstrap_counts_per_host_from_the_json_report():
    counts = bootstrap_counts(_report({"s1": 2, "s2": 1, "a1": 1}, changed=1))
    assert counts == {"hosts": 3, "commands": [2, 1, 1], "connections": [1, 1, 1], "changed": 3}


def test_cluster_table_shows_seconds_with_min_and_count_ranges():
    rounds = [bootstrap_counts(_report({"s1": 2, "s2": 1, "s3": 1, "a1": 1})),
              bootstrap_counts(_report({"s1": 2, "s2": 2, "s3": 2, "a1": 1}))]
    fast = {"seconds": [1.5, 1.2, 1.4], "cpu": [0.5, 0.4, 0.6], "counts": rounds}
    slow = {"seconds": [2.0, 2.1], "cpu": [0.5, 0.5], "counts": rounds}
    one = {"seconds": [0.7, 0.6, 0.8], "cpu": [0.3, 0.3, 0.3], "counts": rounds}
    same = {"seconds": [1.3, 1.4], "cpu": [0.4, 0.4], "counts": rounds}
    text = cluster_table(cluster_summary(fast, slow, one, same))
    assert "| no-op, hardening play alone, the same 4 hosts | 1.35 s (min 1.30) |" in text
    assert "| whole bootstrap / hardening alone on the same 4 hosts (medians) | 1.04 |" in text
    assert "| no-op, whole bootstrap (hardening + K3s), 4 hosts | 1.40 s (min 1.20) |" in text
    assert "| no-op, whole bootstrap, 4 hosts, 50 ms RTT | 2.05 s (min 2.00) |" in text
    assert "| whole bootstrap / hardening alone (medians) | 2.00 |" in text
    assert "| no-op, whole bootstrap, 4 hosts: controller CPU | 0.50 s (min 0.40) |" in text
    assert "| remote commands per host | 2 (min 1, max 2) |" in text
    assert "| SSH connections per host | 1 |" in text
    assert "| changes reported | 0 |" in text


def test_with_section_replaces_the_section_or_appends_it():
    heading = "## Cluster"
    old = "# Bench\n\n| a |\n\n## Cluster\n\nold\n\n## Later\n\nkept\n"
    new = "## Cluster\n\nnew\n"
    assert with_section(old, heading, new) == "# Bench\n\n| a |\n\n## Cluster\n\nnew\n\n## Later\n\nkept\n"
    assert with_section("# Bench\n\n| a |\n", heading, new) == "# Bench\n\n| a |\n\n## Cluster\n\nnew\n"
    assert with_section("", heading, "## Cluster\n") == "## Cluster\n"


def test_table_leaves_out_rows_no_tool_measured():
    text = table({"vpskit": {"no-op, 1 host": summary([0.5])}}, ["vpskit"])
    assert "no-op, 1 host" in text and "50 ms" not in text and "first run" not in text


IMPORTTIME = """import time: self [us] | cumulative | imported package
import time:       236 |        236 |   _io
import time:       900 |       1200 | site
import time:       500 |        500 |     invoke.util
import time:      3000 |      40000 |   invoke.collection
import time:      1000 |      90000 | invoke
import time:       100 |       5000 | vpskit.cli.tasks
"""


def test_import_times_add_up_the_top_level_modules_and_rank_them():
    found = import_times(IMPORTTIME, top=2)
    assert round(found["total"], 4) == 0.0962
    assert found["top"] == [("invoke", 0.09), ("vpskit.cli.tasks", 0.005)]
    assert imports_section({"vpskit --help": found})[2] == "- `vpskit --help`: 96 ms in all; invoke 90 ms, vpskit.cli.tasks 5 ms"


def test_proxied_known_hosts_add_each_hosts_keys_under_its_proxied_address():
    known = "10.0.0.11 ssh-ed25519 AAAA1\n10.0.0.12 ssh-ed25519 AAAA2\n"
    assert known_hosts_for(known, {"10.0.0.11": "10.0.0.211"}).splitlines() == [
        "10.0.0.11 ssh-ed25519 AAAA1", "10.0.0.12 ssh-ed25519 AAAA2", "10.0.0.211 ssh-ed25519 AAAA1"]


def test_round_trips_count_each_wait_for_the_host_from_the_proxys_trace():
    # banner, key exchange, service request, auth, channel open, exec and output (out of order on purpose)
    trace = [(0.0, "up", 24), (0.01, "down", 41), (0.02, "down", 712), (0.03, "up", 1152), (0.031, "up", 48),
             (0.06, "down", 548), (0.09, "up", 68), (0.12, "down", 68), (0.15, "up", 244), (0.18, "down", 52),
             (0.21, "up", 68), (0.24, "down", 68), (0.27, "up", 20000), (0.30, "down", 84), (0.301, "down", 84),
             (0.299, "up", 0)]
    assert round_trips(trace) == 6
    assert round_trips([]) == 0 and round_trips([(0.0, "down", 41)]) == 0


def test_the_32_host_rows_show_seconds_a_ratio_and_memory():
    text = table({"vpskit": {"no-op, 1 host": summary([0.5]), "no-op, 32 hosts": summary([0.8, 0.9]),
                             "no-op, 32 hosts / no-op, 1 host": summary([1.6, 1.8]),
                             "no-op, 32 hosts: controller peak RSS": summary([70.0])}}, ["vpskit"])
    assert "| no-op, 32 hosts | 0.85 s (min 0.80) |" in text and "| no-op, 32 hosts / no-op, 1 host | 1.70× |" in text
    assert "| no-op, 32 hosts: controller peak RSS | 70 MiB |" in text
