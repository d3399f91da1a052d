"""Secret values: a str that never shows itself in repr, and a masker that scrubs them from text."""

import re

MASK = "********"
# a heartbeat URL is its own credential: anyone who has it can ping the check and keep it quiet
SECRET_KEY_PATTERN = re.compile(r"(password|passwd|token|secret|private_key|webhook|api_key|heartbeat_url)", re.I)


class Secret(str):
    """A string marked secret (from !env, !file or a secret-looking key); repr never reveals it."""

    source = ""

    def __repr__(self) -> str:
        return f"Secret({self.source or MASK})"


def unmarked(value):
    """The same data with every Secret as the plain str it is: for serialisers (YAML's safe dumper cannot
    represent a str subclass) writing the files where secrets belong. Masking is for what is shown. Pure."""
    if isinstance(value, dict):
        return {unmarked(k): unmarked(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [unmarked(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def looks_secret(key: str) -> bool:
    """True for variable names that conventionally hold secrets."""
    return bool(SECRET_KEY_PATTERN.search(str(key)))


def collect_secrets(variables: dict) -> set[str]:
    """All secret strings inside a variable tree: Secret values and values under secret-looking keys."""
    found: set[str] = set()

    def walk(value, secret_context: bool) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, secret_context or looks_secret(k))
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v, secret_context)
        elif isinstance(value, Secret) or (secret_context and isinstance(value, str)):
            if len(value) >= 4:
                found.add(str(value))
                found.update(line for line in str(value).splitlines() if len(line) >= 8)

    walk(variables, False)
    return found


class Masker:
    """Replaces every known secret in a text with a fixed mask."""

    def __init__(self, secrets: set[str] | None = None):
        self._secrets = sorted(secrets or (), key=len, reverse=True)

    def add(self, secret: str) -> None:
        """Masks one more value from now on (a secret another host published during the run)."""
        if len(secret) >= 4 and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)

    def mask(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text

    def mask_value(self, key: str, value):
        """Masks a variable for display: whole value under secret keys, substrings elsewhere."""
        if isinstance(value, Secret) or (looks_secret(key) and isinstance(value, str)):
            return MASK
        if isinstance(value, dict):
            return {k: self.mask_value(k, v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.mask_value(key, v) for v in value]
        if isinstance(value, str):
            return self.mask(value)
        return value
