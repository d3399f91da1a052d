"""What a user sees from outside, for each `audit_urls` entry: redirect, certificate, security and cache headers."""
