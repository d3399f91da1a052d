"""The benchmark's pure helpers: counting from sshd's journal and tool output, statistics, the table."""

from benchmarks.measure import ansible_changed, busy_seconds, count_ssh, pyinfra_changed, summary, table


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
