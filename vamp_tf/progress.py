"""What a long-running loop shows and listens to: progress, and Ctrl-C / SIGTERM.

- `Progress`: on a terminal, a bar with the rate and the time left; in logs (no terminal),
  a line every `log_every` seconds, so that no pass longer than that is silent.
- `StopRequest`: SIGINT / SIGTERM set a flag that the loop checks between steps (it then
  saves and exits); a second Ctrl-C aborts at once.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from typing import Optional

log = logging.getLogger("vamp_tf")


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class Progress:
    """Progress of `total` units of work named `label`.

    update(done, note) after each unit; `note` is a short status string (e.g. the running
    -ELBO). On a terminal (`terminal=None`: stderr is a tty) a bar is redrawn at most
    every `redraw` units; otherwise a log line is written every `log_every` seconds.
    """

    def __init__(self, total: int, label: str, terminal: Optional[bool] = None, log_every: float = 10.0,
                 redraw: int = 10, start_done: int = 0):
        self.total, self.label = max(int(total), 1), label
        self.terminal = sys.stderr.isatty() if terminal is None else terminal
        self.log_every, self.redraw = log_every, redraw
        self.start = self.last_log = time.time()
        self.start_done = start_done

    def eta(self, done: int) -> Optional[float]:
        """Seconds left at the rate so far (None before the first unit)."""
        elapsed, units = time.time() - self.start, done - self.start_done
        return None if units <= 0 else elapsed / units * (self.total - done)

    def update(self, done: int, note: str = "") -> None:
        now = time.time()
        left = self.eta(done)
        left_text = "?" if left is None else _duration(left)
        if self.terminal:
            if done % self.redraw and done != self.total:
                return
            width = 30
            filled = int(width * done / self.total)
            sys.stderr.write(f"\r{self.label} [{'=' * filled}{'.' * (width - filled)}] {done}/{self.total} "
                             f"{note}  {left_text} left ")
            sys.stderr.flush()
            if done == self.total:
                sys.stderr.write("\n")
        elif now - self.last_log >= self.log_every and done < self.total:
            self.last_log = now
            log.info("%s: %d/%d (%.0f%%)%s, %s left", self.label, done, self.total, 100.0 * done / self.total,
                     f" {note}" if note else "", left_text)


class StopRequest:
    """SIGINT / SIGTERM set `requested` (the signal's name), for the code to check between steps.

    One request covers a whole run: a StopRequest entered inside another (the test scoring inside a
    run) shares the outer one's handler and request, so a signal that arrives in any phase (training,
    validation, checkpointing, figures, scoring) is seen by every later check, never dropped.
    """

    _active = None  # the outermost StopRequest entered in the main thread

    def __init__(self):
        self._requested = None
        self._previous = {}
        self._outer = None

    @property
    def requested(self):
        return self._outer.requested if self._outer is not None else self._requested

    def __enter__(self):
        if StopRequest._active is not None:
            self._outer = StopRequest._active
            return self
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
            StopRequest._active = self
        return self

    def check(self, error: type, message: str) -> None:
        """Raises error('SIGTERM: ' + message) (or SIGINT) if a stop was requested; message says where the run
        stopped and what a rerun does."""
        if self.requested:
            raise error(f"{self.requested}: {message}")

    def _handle(self, signum, frame):
        if self._requested is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self._requested = signal.Signals(signum).name

    def __exit__(self, *exc):
        if self._outer is not None:
            return
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        if StopRequest._active is self:
            StopRequest._active = None
