"""vpskit's roles; ORDER is the sequence `invoke bootstrap` runs them in."""

ORDER = ["base"]
