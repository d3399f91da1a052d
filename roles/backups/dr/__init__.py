"""Disaster-recovery drills: a host rebuilt from its off-site copy alone onto another, timed against its targets."""
