"""Stage 4, the sound: sound files and beds, tones, the streaming mix, loudness mastering.
May import: core, script, plan, voice."""
