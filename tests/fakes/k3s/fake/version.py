"""The k3s version the fake claims to be; build.py writes this module anew, with the version it bakes in."""

VERSION = "v1.36.4+k3s1"
