"""The sysctl role's lab break (`invoke lab.break`)."""

from vpskit.lab.breaks import Break

BREAKS = [
    Break("redirects-accepted", "the kernel accepts ICMP redirects again (live, not in any file)",
          "sysctl -q -w net.ipv4.conf.all.accept_redirects=1 net.ipv4.conf.all.send_redirects=1",
          "audit hard.sysctl; check: the sysctl role (live values)", "invoke bootstrap"),
]
