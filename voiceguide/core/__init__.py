"""The foundations every stage stands on: errors, atomic files, audio I/O and resampling, loudness
measurement, worker processes. May import: nothing else of voiceguide."""
