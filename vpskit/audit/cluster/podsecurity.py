"""Container security contexts, judged as the Pod Security Standards' `restricted` profile reads them
(kubernetes pkg/security/podsecurity/policy: check_runAsNonRoot.go, check_runAsUser.go,
check_allowPrivilegeEscalation.go, check_capabilities_restricted.go, check_seccompProfile_restricted.go):
a container's own securityContext wins over the pod's, and init containers count too."""

from __future__ import annotations

from .objects import Cluster, Workload


def _pod_ctx(w: Workload) -> dict:
    return w.pod.get("securityContext") or {}


def _ctx(container: dict) -> dict:
    return container.get("securityContext") or {}


def _each(w: Workload, broken) -> str | None:
    """The containers for which broken(container_ctx) says what is wrong, joined; None when none."""
    problems = [f"{ct.get('name')}: {why}" for ct in w.containers(init=True) if (why := broken(_ctx(ct)))]
    return "; ".join(problems) or None


def non_root(w: Workload, c: Cluster, v: dict) -> str | None:
    pod = _pod_ctx(w)

    def broken(ctx: dict) -> str | None:
        user = ctx.get("runAsUser", pod.get("runAsUser"))
        if user == 0:
            return "runAsUser 0"
        nonroot = ctx.get("runAsNonRoot", pod.get("runAsNonRoot"))
        return None if nonroot is True else "runAsNonRoot not true"
    return _each(w, broken)


def read_only_root(w: Workload, c: Cluster, v: dict) -> str | None:
    return _each(w, lambda ctx: None if ctx.get("readOnlyRootFilesystem") is True else "readOnlyRootFilesystem not true")


def capabilities_dropped(w: Workload, c: Cluster, v: dict) -> str | None:
    def broken(ctx: dict) -> str | None:
        caps = ctx.get("capabilities") or {}
        added = [a for a in caps.get("add") or [] if a != "NET_BIND_SERVICE"]  # the one `restricted` allows
        if "ALL" not in (caps.get("drop") or []):
            return "capabilities.drop lacks ALL"
        return f"capabilities.add {', '.join(added)}" if added else None
    return _each(w, broken)


def no_privilege_escalation(w: Workload, c: Cluster, v: dict) -> str | None:
    return _each(w, lambda ctx: None if ctx.get("allowPrivilegeEscalation") is False
                 else "allowPrivilegeEscalation not false")


def seccomp(w: Workload, c: Cluster, v: dict) -> str | None:
    pod = (_pod_ctx(w).get("seccompProfile") or {}).get("type")

    def broken(ctx: dict) -> str | None:
        kind = (ctx.get("seccompProfile") or {}).get("type", pod)
        return None if kind in ("RuntimeDefault", "Localhost") else f"seccompProfile {kind or 'unset'}"
    return _each(w, broken)
