"""``python -m voiceguide`` and the ``voiceguide`` command.

A Ctrl-C while the command line is still being imported (numpy, click: a few tenths of a second)
ends it as a Ctrl-C later does: ``Interrupted.``, exit 130, no traceback. Nothing has been written
yet, so the import's own handler ends the process at once. (Letting KeyboardInterrupt surface from
deep inside an extension module's import is not enough: CPython can remember it as unhandled and,
once ``sys.exit(130)`` has run, end the process by SIGINT instead, exit -2.)
"""

import os
import signal


def _interrupted_while_importing(signum, frame) -> None:
    os.write(2, b"Interrupted.\n")
    os._exit(130)


def run() -> None:
    # Only where Ctrl-C is live: a job started in the background keeps ignoring it.
    early = signal.getsignal(signal.SIGINT) is signal.default_int_handler
    if early:
        signal.signal(signal.SIGINT, _interrupted_while_importing)
    from voiceguide.cli import main

    if early:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    main(prog_name="voiceguide")


if __name__ == "__main__":
    run()
