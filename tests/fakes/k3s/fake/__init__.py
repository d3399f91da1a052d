"""A FAKE k3s for vpskit's tests only: plain HTTP on 6443 (no TLS, no Kubernetes, no containers); never shipped."""

# What it fakes, for the vpskit K3s role's contract (see tests/fakes/k3s/README.md):
#   k3s --version | server | agent | kubectl get nodes | etcd-snapshot save|ls|delete|prune
# The first server (a server without `server:`) keeps the cluster's state (nodes, start/stop events) in
#   <data-dir>/server/fake-cluster.json; joining servers proxy the API to the server they joined;
#   every node heartbeats once a second, and `Ready` means a heartbeat less than 5 s old.
# FAKE_K3S_ROOT is prefixed to every absolute path it reads or writes; FAKE_K3S_PORT replaces 6443.
# tests/fakes/k3s/build.py packs this package into one executable zipapp, with version.py generated so that
# each version is a different file with a different sha256.
