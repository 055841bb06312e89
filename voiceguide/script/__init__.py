"""Stage 1, the script: the routine format, its kinds, loading and checking YAML files into a ``Routine``.
May import: core."""
