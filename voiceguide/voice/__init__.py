"""Stage 3, the voice: text-to-speech engines, their worker processes, phrasing and pace, the narration cache.
May import: core, script, plan."""
