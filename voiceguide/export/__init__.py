"""Stage 5, export: the MP3, its tags and chapters, captions, and reading finished files back.
May import: core, script, plan, voice, sound."""
