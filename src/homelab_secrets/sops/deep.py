"""Deeply nested documents: as deep as sops goes, without a RecursionError.

sops (Go, growable goroutine stacks) takes a YAML or JSON document 10,000
levels deep: yaml.v3 stops at ``exceeded max depth of 10000``, Go's JSON
encoder at 10,000 levels.  Our loaders, tree walk and emitters recurse once
or twice per level, and CPython's default limit of 1,000 frames ends that
around 490 levels.

So every engine entry point (:mod:`.pipeline`) runs through :func:`run`: the
work runs as usual, and only when it hits the recursion limit does it run
again, once, in a thread with a large stack and a recursion limit made for
the depth sops allows.  Ordinary files pay nothing for this; the functions
given to :func:`run` must not change their arguments (they take bytes and
return new values), so running one again is safe.
"""

from __future__ import annotations

import sys

from homelab_secrets.errors import ExitCode, UserError

TYPE_CHECKING = False  # (importing typing costs start-up time; decrypt races sops)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    T = TypeVar("T")

#: Frames for the deep run: 10,000 levels take 2-4 frames each on every path
#: (loader, decoder checks, tree walk, emitter), JSON may go deeper than that.
DEEP_RECURSION_LIMIT = 400_000
#: The deep thread's stack (reserved, not committed: only the pages a deep
#: document touches are used).  Python 3.10 runs each Python call on the C
#: stack; 3.11 and later need far less.
DEEP_STACK_SIZE = 512 * 1024 * 1024


def run(fn: Callable[..., T], /, *args: object, **kwargs: object) -> T:
    """``fn(*args, **kwargs)``; again in a deep thread if it ran out of frames."""
    try:
        return fn(*args, **kwargs)
    except RecursionError:
        pass
    return _run_deep(fn, args, kwargs)


def _run_deep(fn: Callable[..., T], args: tuple[object, ...], kwargs: dict[str, object]) -> T:
    import contextlib
    import threading

    outcome: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            outcome.append(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)

    previous_limit = sys.getrecursionlimit()
    thread = threading.Thread(target=target, name="homelab-secrets-deep", daemon=True)
    previous_size = threading.stack_size()
    with contextlib.suppress(ValueError, RuntimeError):  # platforms without the knob
        threading.stack_size(DEEP_STACK_SIZE)
    try:
        sys.setrecursionlimit(max(previous_limit, DEEP_RECURSION_LIMIT))
        thread.start()
    finally:
        threading.stack_size(previous_size)
    try:
        thread.join()
    finally:
        sys.setrecursionlimit(previous_limit)
    if failure:
        exc = failure[0]
        if isinstance(exc, RecursionError):
            raise UserError(
                "the document is nested more deeply than homelab-secrets can follow "
                "(sops itself stops at 10,000 levels)",
                ExitCode.COULD_NOT_READ_INPUT_FILE,
            ) from None
        raise exc
    return outcome[0]
