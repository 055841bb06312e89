"""Where the tests' shared files are, for test modules in any folder under ``tests/``."""

from pathlib import Path

TESTS = Path(__file__).resolve().parent
"""``tests/``: the helper modules, ``data/`` and ``golden/``."""
ROOT = TESTS.parent
"""The repository: ``scripts_yaml/``, ``docs/``, ``README.md``."""
