"""``python -m voiceguide`` and the ``voiceguide`` command.

A Ctrl-C while the command line is still being imported (numpy, click: a few tenths of a second)
ends it as a Ctrl-C later does: ``Interrupted.``, exit 130, no traceback.
"""

import sys


def run() -> None:
    try:
        from .cli import main
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        sys.exit(130)
    main(prog_name="voiceguide")


if __name__ == "__main__":
    run()
