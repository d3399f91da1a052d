"""What a node's pods leave on a real host, so that an uninstall has something real to clean.

Real K3s runs each pod under a containerd shim started from its data dir
(<data-dir>/data/<hash>/bin/containerd-shim-runc-v2, the path k3s-io/k3s install.sh's killall looks for), in a
network namespace named cni-<id> with a veth on the cni0 bridge (the CNI bridge plugin), with volumes mounted
under /var/lib/kubelet/pods and rootfs mounts under /run/k3s/containerd, IP leases in /var/lib/cni, flannel's
/run/flannel/subnet.env and the KUBE-/CNI-/FLANNEL iptables chains of kube-proxy, the CNI plugins and flannel.
Shims outlive the k3s process (the unit's KillMode=process), as real containers do.

Only on a real host (FAKE_K3S_ROOT unset) and as root; anything the host cannot do (no iptables, no netns
in a container) is skipped: pods are best effort, the rest of the fake does not depend on them.
"""

import os
import secrets
import shutil
import subprocess
from pathlib import Path

PODS = 2
SHIM = """#!/bin/sh
# fake containerd shim: a pod's processes (a pause and an app process) as its children
sleep 2147483647 &
sleep 2147483647 &
wait
"""
CHAINS = (("nat", "KUBE-SERVICES", "PREROUTING"), ("filter", "KUBE-FORWARD", "FORWARD"),
          ("filter", "CNI-FORWARD", "FORWARD"), ("filter", "FLANNEL-FWD", "FORWARD"))


def _run(*args: str) -> bool:
    try:
        return subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _shim_running(shim: Path) -> bool:
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if str(shim).encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


def start_pods(data_dir: Path, environ: dict) -> None:
    """Starts this node's pods once per boot of the host; later k3s restarts find them running."""
    if environ.get("FAKE_K3S_ROOT") or os.geteuid() != 0:
        return
    shim = data_dir / "data" / "fake" / "bin" / "containerd-shim-runc-v2"
    if _shim_running(shim):
        return
    shim.parent.mkdir(parents=True, exist_ok=True)
    shim.write_text(SHIM)
    shim.chmod(0o755)
    _run("ip", "link", "add", "cni0", "type", "bridge")
    _run("ip", "link", "set", "cni0", "up")
    _run("ip", "link", "add", "flannel.1", "type", "dummy")
    leases = Path("/var/lib/cni/networks/cbr0")
    leases.mkdir(parents=True, exist_ok=True)
    Path("/run/flannel").mkdir(parents=True, exist_ok=True)
    Path("/run/flannel/subnet.env").write_text("FLANNEL_NETWORK=10.42.0.0/16\nFLANNEL_SUBNET=10.42.0.1/24\n")
    for index in range(PODS):
        pod = secrets.token_hex(4)
        netns, veth = f"cni-{pod}", f"veth{pod}"
        if _run("ip", "netns", "add", netns):
            _run("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns)
            _run("ip", "link", "set", veth, "master", "cni0")
        (leases / f"10.42.0.{index + 2}").write_text(pod + "\n")
        for mount in (Path(f"/var/lib/kubelet/pods/{pod}/volumes/kubernetes.io~empty-dir/data"),
                      Path(f"/run/k3s/containerd/io.containerd.runtime.v2.task/k8s.io/{pod}/rootfs")):
            mount.mkdir(parents=True, exist_ok=True)
            if _run("mount", "-t", "tmpfs", "-o", "size=1m", f"fake-pod-{pod}", str(mount)):
                (mount / "data").write_text("a pod's data\n")
        subprocess.Popen(["/bin/sh", str(shim), "-namespace", "k8s.io", "-id", pod], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    if shutil.which("iptables"):
        for table, chain, parent in CHAINS:
            if _run("iptables", "-t", table, "-N", chain):
                _run("iptables", "-t", table, "-A", parent, "-j", chain)
