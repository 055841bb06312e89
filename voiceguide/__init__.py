"""voiceguide: voice-guided routine audio from YAML scripts.

The library runs one way: ``script`` (YAML -> validated routine) -> ``plan`` (routine + speech
lengths -> timeline) -> ``engines`` (text -> speech) -> ``mix`` (timeline + audio -> samples) ->
``export`` (samples -> tagged MP3). ``render`` ties them together; ``cli`` is a thin face over it.
"""

__version__ = "0.1.0"
