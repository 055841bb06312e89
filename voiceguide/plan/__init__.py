"""Stage 2, the plan: every event of a routine on one sample clock, and the report of it.
May import: core, script."""
