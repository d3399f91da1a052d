"""The checkout the tests run from (tasks.py and the example inventory live there)."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
