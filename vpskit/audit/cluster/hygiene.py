"""What a workload carries with it: its service account's token, its images' references, its env's values."""

from __future__ import annotations

import re

from .objects import Cluster, Workload

# env names that hold credentials; their values belong in a Secret (valueFrom.secretKeyRef)
SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL)", re.I)
# a URL with a password in it (postgres://user:pass@db/…)
SECRET_URL = re.compile(r"^[a-z][a-z0-9+.-]*://[^/:@\s]+:[^/@\s]+@", re.I)


def _account(w: Workload) -> str:
    # serviceAccount is the deprecated alias the API server still copies (core/v1 PodSpec)
    return w.pod.get("serviceAccountName") or w.pod.get("serviceAccount") or "default"


def default_account_token(w: Workload, c: Cluster, v: dict) -> str | None:
    """The pod runs as `default` with its token mounted: the pod's automountServiceAccountToken wins over the
    ServiceAccount's, and both default to true (kubernetes plugin/pkg/admission/serviceaccount/admission.go)."""
    if _account(w) != "default":
        return None
    mount = w.pod.get("automountServiceAccountToken")
    if mount is None:
        account = next((a for a in c.of("ServiceAccount", w.namespace) if a["metadata"]["name"] == "default"), {})
        mount = account.get("automountServiceAccountToken")
    return None if mount is False else "runs as the default service account with its token mounted"


def image_tag(image: str) -> str | None:
    """The tag of an image reference ('' when it has a digest, None when it has no tag): the tag follows the last
    ':' after the last '/' (a registry's port comes before it), as distribution/reference parses it."""
    if "@" in image:
        return ""
    last = image.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else None


def images_pinned(w: Workload, c: Cluster, v: dict) -> str | None:
    problems = []
    for ct in w.containers(init=True):
        image = ct.get("image", "")
        tag = image_tag(image)
        if tag is None or tag == "latest":
            problems.append(f"{ct.get('name')}: {image} ({'no tag' if tag is None else ':latest'})")
    return "; ".join(problems) or None


def inline_secrets(w: Workload, c: Cluster, v: dict) -> str | None:
    """Env values written in the manifest that look like credentials; the evidence names them, never the value."""
    found = []
    for ct in w.containers(init=True):
        for env in ct.get("env") or []:
            value = env.get("value")
            if value and (SECRET_NAME.search(env.get("name", "")) or SECRET_URL.match(value)):
                found.append(f"{ct.get('name')}: {env.get('name')}")
    return f"inline values: {', '.join(found)}" if found else None
