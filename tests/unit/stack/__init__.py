"""Tests of the cluster stack roles (certs, monitoring, logging): real promtool/amtool, schemas, the fake K3s."""
