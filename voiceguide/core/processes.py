"""Child processes that leave Ctrl-C to their parent and die with it.

A terminal's Ctrl-C reaches every process of the foreground group: the build and each of its
children. Children (the build's pool workers, the engines' worker processes) must not answer it
themselves (a traceback from a half-started interpreter, a render finished anyway); the parent
stops them. So a child is started with SIGINT blocked (``interrupts_blocked`` around the start: a
blocked signal stays blocked across ``exec``, so the child is immune from its first instruction)
and sets SIGINT to ignored before it unblocks it (``ignore_interrupts``).

A parent killed outright (SIGKILL, SIGTERM, a crash) cannot stop its children, so each child
watches its parent and ends itself: the engine workers at the end of their stdin (the parent's
pipe closes when it dies, whoever kills it), the pool workers on their ``multiprocessing`` parent
sentinel (a pipe too) and, on Linux, at once by the parent-death signal.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator

_POSIX = hasattr(signal, "pthread_sigmask")
PR_SET_PDEATHSIG = 1
"""``prctl`` option: the signal this process gets when the thread that started it ends."""


@contextlib.contextmanager
def interrupts_blocked() -> Iterator[None]:
    """Block SIGINT in this thread while children are started in it: they start with it blocked
    (see ``ignore_interrupts``); a Ctrl-C meanwhile is held and delivered here afterwards."""
    if not _POSIX:
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextlib.contextmanager
def ctrl_c_ends_at_once() -> Iterator[None]:
    """Within it, Ctrl-C writes ``Interrupted.`` and ends the process at once, exit 130: for a
    command still importing what it needs, which has written nothing yet (a KeyboardInterrupt raised
    inside an extension module's import can end the process by SIGINT, exit -2, however it is
    caught). Only where Ctrl-C is live (the default handler) and in the main thread."""
    default = signal.default_int_handler
    live = threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is default
    if live:
        signal.signal(signal.SIGINT, _interrupted)
    try:
        yield
    finally:
        if live:
            signal.signal(signal.SIGINT, default)


def _interrupted(signum, frame) -> None:
    os.write(2, b"Interrupted.\n")
    os._exit(130)


def ignore_interrupts() -> None:
    """In a child: ignore SIGINT from now on, then unblock it (a Ctrl-C pending since the start is
    dropped). The parent handles Ctrl-C and stops its children."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if _POSIX:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def parent_death_signal(signum: int, parent: int) -> None:
    """Linux: have the kernel send ``signum`` to this process when its parent (pid ``parent``)
    dies; if it died already, send it now. Elsewhere nothing (the pipe watchers cover it).

    The kernel sends it when the *thread* that started this process ends: only for children that
    the parent's main thread starts (the pool workers), never those of a thread that may end
    before them (the engine workers, which watch their stdin instead)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before prctl: nobody will send the signal
        os.kill(os.getpid(), signum)


def on_parent_exit(wait: Callable[[], object], then: Callable[[], None]) -> None:
    """Call ``then`` (in a daemon thread) once ``wait()`` returns: ``wait`` blocks until the parent
    is gone, as reading a pipe it holds the other end of does."""

    def watch() -> None:
        wait()
        then()

    threading.Thread(target=watch, name="voiceguide-parent-watch", daemon=True).start()


def children(pid: int | None = None) -> list[int]:
    """The live child processes of ``pid`` (default: this one), from ``/proc`` (Linux; elsewhere
    none are known)."""
    pid = os.getpid() if pid is None else pid
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        if int(fields[1]) == pid and fields[0] != b"Z":
            found.append(int(entry))
    return found


def kill_children() -> None:
    """SIGKILL this process's children (an encoder, an engine worker) before it ends abruptly."""
    for child in children():
        with contextlib.suppress(OSError):
            os.kill(child, signal.SIGKILL)


def exit_now(code: int) -> None:
    """End this process at once: its children killed, the ``before_exit_now`` clean-ups done, no
    other clean-up run, no traceback."""
    kill_children()
    for cleanup in _cleanups:
        with contextlib.suppress(Exception):
            cleanup()
    os._exit(code)


_cleanups: list[Callable[[], object]] = []


def before_exit_now(cleanup: Callable[[], object]) -> None:
    """Have ``exit_now`` call ``cleanup`` (removing this process's temporary files, say) first."""
    _cleanups.append(cleanup)


def exit_soon(code: int, grace: float) -> None:
    """End this process with ``code`` after ``grace`` seconds unless it has ended by then (a
    bound on an orderly stop that hangs)."""
    timer = threading.Timer(grace, exit_now, args=(code,))
    timer.daemon = True
    timer.start()
