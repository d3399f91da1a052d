"""The cluster's workloads judged against the readiness checklist: pure functions of parsed Kubernetes objects."""
