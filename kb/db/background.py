"""Work run beside the caller's, in a child process forked from it: `kb build` writes
the database on the second core while the data files are checked on the first.

A forked child starts with the caller's memory as it stands (the data set already
read), and can be stopped at any moment (SIGKILL) without leaving anything behind but
what it wrote, which its caller removes. Where fork is not available the work runs in
this process instead, when its result is asked for.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import pickle
import signal
import traceback
from typing import Any, Callable


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class ChildFailed(RuntimeError):
    """The child process ended without an answer (killed, or out of memory), or raised an
    exception that cannot be sent back; the message says which."""


class Background:
    """function(*args), run in a forked child process: `result()` waits for its value
    (or raises its exception), `stop()` ends it at once."""

    def __init__(self, function: Callable[..., Any], *args: Any, nice: int = 0):
        """nice: how much lower the child's scheduling priority is than this process's
        (os.nice), for work that may yield the cores to the rest."""
        self._call = (function, args)
        self._process = None
        self._answer = None
        self._outcome: tuple[bool, Any] | None = None  # where the work runs here
        if "fork" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("fork")
            self._finished = context.Event()
            self._answer, send = context.Pipe(duplex=False)
            self._process = context.Process(
                target=_child, args=(send, self._finished, nice, function, args),
                daemon=True)
            self._process.start()
            send.close()

    @property
    def pid(self) -> int | None:
        """The child's process id (None when the work runs in this process)."""
        return self._process.pid if self._process is not None else None

    def wait(self) -> None:
        """Wait until the function has returned or raised: from any process forked from
        the one that started it (another child waiting for this one's work to be done);
        in the process where it runs when fork is not available, run it first."""
        if self._process is None:
            if self._outcome is None:
                self._outcome = _outcome(*self._call)
        else:
            self._finished.wait()

    def result(self) -> Any:
        """The function's value, once it has returned; raises what it raised."""
        if self._process is None:
            self.wait()
            ok, value = self._outcome
            if ok:
                return value
            raise value
        try:
            ok, value = self._answer.recv()
        except EOFError:
            self._process.join()
            raise ChildFailed(f"the child process ended without an answer (exit code "
                              f"{self._process.exitcode})") from None
        finally:
            self._answer.close()
        self._process.join()
        if ok:
            return value
        raise value

    def stop(self) -> None:
        """End the child now, if it is still running, and wait until it is gone."""
        if self._process is None:
            return
        if self._process.exitcode is None:
            self._process.kill()
        self._process.join()
        self._answer.close()


def _die_with_parent() -> None:
    """Have the system kill this child (SIGKILL) when its parent ends, however it ends
    (SIGKILL included): a killed build leaves no child writing on (Linux's
    PR_SET_PDEATHSIG; elsewhere the child ends once its work is done)."""
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent ended before the request was made
        os._exit(1)


def _outcome(function: Callable[..., Any], args: tuple) -> tuple[bool, Any]:
    """(True, function's value) or (False, the exception it raised)."""
    try:
        return True, function(*args)
    except BaseException as e:  # the caller of result() raises it
        return False, e


def _child(send, finished, nice: int, function: Callable[..., Any], args: tuple) -> None:
    """In the child: run function and send back (True, value) or (False, exception)."""
    _die_with_parent()
    if nice:
        os.nice(nice)
    answer = _outcome(function, args)
    finished.set()
    try:
        payload = pickle.dumps(answer)
    except Exception:
        payload = pickle.dumps((False, ChildFailed(
            "the child process failed:\n" + "".join(traceback.format_exception(answer[1]))
            if not answer[0] else "the child's answer cannot be sent back")))
    send.send_bytes(payload)
    send.close()
