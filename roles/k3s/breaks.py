"""The k3s role's lab break (`invoke lab.break`)."""

from vpskit.lab.breaks import Break

BREAKS = [
    Break("kubeconfig-readable", "the server's kubeconfig (cluster-admin credentials) is world-readable",
          "test -f /etc/rancher/k3s/k3s.yaml && chmod 0644 /etc/rancher/k3s/k3s.yaml",
          "audit k8s.kubeconfig-mode; check: the k3s role", "invoke bootstrap"),
]
