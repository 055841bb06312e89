"""Stage 6, the library: batch builds, playlist, podcast feed, the web page and the file server.
May import: every stage before it (core, script, plan, voice, sound, export) and ``voiceguide.render``."""
