"""Validating custom objects against the CRDs the charts themselves ship (their openAPIV3Schema, as the API server
would check and prune them), and core objects against Kubernetes's own schemas.

The API server accepts an unknown field of a structural schema and drops it (pruning); for a manifest vpskit writes,
a dropped field is a silent defect, so an object whose schema lists its properties gets no field outside them
unless the schema says `x-kubernetes-preserve-unknown-fields`."""

from __future__ import annotations

import jsonschema
import kubernetes_validate


class UnknownKind(Exception):
    """No CRD among the ones given defines this apiVersion and kind."""


def _strict(schema: dict) -> dict:
    """An openAPIV3Schema as a JSON schema: int-or-string, nullable, closed objects."""
    out = {k: v for k, v in schema.items() if not k.startswith("x-kubernetes-") and k != "nullable"}
    if "(?i)" in schema.get("pattern", ""):
        # Go's RE2 takes a flag group anywhere; Python's re only at the start
        out["pattern"] = "(?i)" + schema["pattern"].replace("(?i)", "")
    if schema.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if "properties" in schema:
        out["properties"] = {k: _strict(v) for k, v in schema["properties"].items()}
        if not schema.get("x-kubernetes-preserve-unknown-fields") and "additionalProperties" not in schema:
            out["additionalProperties"] = False
    if isinstance(schema.get("additionalProperties"), dict):
        out["additionalProperties"] = _strict(schema["additionalProperties"])
    if "items" in schema:
        out["items"] = _strict(schema["items"])
    for key in ("allOf", "anyOf", "oneOf"):
        if key in schema:
            # these only add constraints to the properties above; their own property lists are partial
            out[key] = [{k: v for k, v in _strict(s).items() if k != "additionalProperties"} for s in schema[key]]
    if "not" in schema:
        out["not"] = _strict(schema["not"])
    if schema.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


class CrdSchemas:
    """apiVersion/kind → the JSON schema of the served version, from CRD objects."""

    def __init__(self, crds: list[dict]):
        self._schemas: dict[tuple[str, str], dict] = {}
        self._validators: dict[tuple[str, str], jsonschema.protocols.Validator] = {}
        for crd in crds:
            if crd.get("kind") != "CustomResourceDefinition":
                continue
            spec = crd["spec"]
            for version in spec["versions"]:
                if version.get("served", True) and "schema" in version:
                    key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                    self._schemas[key] = _strict(version["schema"]["openAPIV3Schema"])

    def kinds(self) -> set[tuple[str, str]]:
        return set(self._schemas)

    def validate(self, document: dict) -> None:
        """Raises jsonschema.ValidationError, or UnknownKind when no CRD given defines the kind."""
        key = (document.get("apiVersion"), document.get("kind"))
        if key not in self._schemas:
            raise UnknownKind(f"{key[1]} {key[0]}: no CRD for it among the charts' own")
        if key not in self._validators:
            schema = self._schemas[key]
            # the API server checks apiVersion, kind and metadata itself, not by the CRD's schema
            top = {**schema.get("properties", {}), "apiVersion": {"type": "string"}, "kind": {"type": "string"},
                   "metadata": {"type": "object"}}
            full = {**schema, "properties": top}
            self._validators[key] = jsonschema.validators.validator_for(full)(full)
        error = jsonschema.exceptions.best_match(self._validators[key].iter_errors(document))
        if error is not None:
            raise error


def is_custom(api_version: str) -> bool:
    """True for a group no Kubernetes release serves: its kind needs a CRD (apps/v1, rbac.authorization.k8s.io/v1
    are Kubernetes's own)."""
    group = api_version.split("/")[0] if "/" in api_version else ""
    return "." in group and not group.endswith(".k8s.io")


def validate_object(document: dict, crds: CrdSchemas, kubernetes_minor: str) -> None:
    """A core object against Kubernetes's schemas (strict), a custom one against its CRD."""
    if (document.get("apiVersion"), document.get("kind")) in crds.kinds():
        crds.validate(document)
        return
    if is_custom(document.get("apiVersion", "")):
        raise UnknownKind(f"{document['kind']} {document['apiVersion']}: no CRD for it among the charts' own")
    kubernetes_validate.validate(document, kubernetes_minor, strict=True)
