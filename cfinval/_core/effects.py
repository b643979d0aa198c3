"""Effects: what a flow asks its driver to do.

A *flow* is a generator. It yields an effect and receives the effect's result:

* ``Send(request)``  ->  :class:`HttpResponse` or :class:`TransportFailure`
* ``Sleep(seconds)`` ->  ``None``
* ``Emit(value)``    ->  ``None`` (a value for the caller: a page during pagination)
* ``Run(argv)``      ->  :class:`ProcessResult` (a subprocess: ``credential_process``)
* ``Prompt(text)``   ->  the ``str`` typed, or :class:`PromptFailure` (an MFA code)
* ``Wait(signal)``   ->  ``None`` once ``signal`` is set (another caller is refreshing credentials)

and finally returns its value. The sync and async clients are two small drivers of the same
flows, so no logic exists twice. The async driver performs ``Run`` and ``Prompt`` in a worker
thread and ``Wait`` by awaiting, so none of them blocks the event loop. How a subprocess is run
and a prompt is shown is the drivers' business (``_drivers.perform``): nothing here does I/O.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Iterable
from typing import Any, Generic, TypeVar

from .http import HttpRequest, HttpResponse
from .locks import ForkSafeLock
from .record import Record

__all__ = [
    "Effect",
    "Emit",
    "Flow",
    "ProcessResult",
    "Prompt",
    "PromptFailure",
    "Run",
    "Send",
    "Signal",
    "Sleep",
    "StopForwarding",
    "TransportFailure",
    "Wait",
    "adrive",
    "arun",
    "drive",
    "forward",
    "immediate",
    "run",
]

T = TypeVar("T")


class Send(Record):
    __slots__ = ("request",)

    def __init__(self, request: HttpRequest) -> None:
        self.request = request


class Sleep(Record):
    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


class Emit(Record, Generic[T]):
    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value


class TransportFailure(Record):
    """The driver could not complete the exchange; ``error`` is the original exception.

    ``kind`` is ``connect`` (nothing was sent), ``timeout``, ``local`` (the request cannot be
    sent as built) or ``other``. A ``local`` failure is never retried (it would fail the same
    way) and its error's text is never shown: the HTTP layer quotes the header it refused,
    which can be a token. Every flow describes a failure with :meth:`describe`.
    """

    __slots__ = ("error", "kind", "proxy", "stage", "url")

    def __init__(
        self,
        error: BaseException,
        kind: str = "other",
        *,
        url: str | None = None,
        proxy: str | None = None,
        stage: str | None = None,
    ) -> None:
        self.error = error
        self.kind = kind
        #: The request's URL, for messages.
        self.url = url
        #: The proxy that could not be reached (its URL without user information), if any.
        self.proxy = proxy
        #: For a ``timeout``: ``connect``, ``read`` or ``deadline`` (``attempt_timeout``); for a
        #: ``connect`` failure, ``tls`` when the TLS handshake failed.
        self.stage = stage

    def aws_message(self) -> str | None:
        """What botocore, and so the AWS CLI, says for this failure (``None`` when it has no
        words of its own for it, or the URL is not known)."""
        if self.proxy is not None:
            return f'Failed to connect to proxy URL: "{self.proxy}"'
        if self.url is None:
            return None
        if self.stage == "tls":
            return f"SSL validation failed for {self.url} {_error_text(self.error)}"
        if self.kind == "connect":
            return f'Could not connect to the endpoint URL: "{self.url}"'
        if self.kind == "timeout":
            if self.stage == "connect":
                return f'Connect timeout on endpoint URL: "{self.url}"'
            said = f'Read timeout on endpoint URL: "{self.url}"'
            return f"{said} ({_error_text(self.error)})" if self.stage == "deadline" else said
        return None

    @property
    def retryable(self) -> bool:
        """Whether another attempt may go differently (not for a request that cannot be sent)."""
        return self.kind != "local"

    def describe(self) -> str:
        """The failure for an error message: the error's class and what went wrong, or for a
        ``local`` failure the class only."""
        name = type(self.error).__name__
        return name if self.kind == "local" else f"{name}: {_error_text(self.error)}"

    def __repr__(self) -> str:
        if self.retryable:
            return super().__repr__()
        return f"TransportFailure(error=<{type(self.error).__name__}>, kind={self.kind!r})"


def _error_text(error: BaseException) -> str:
    """What went wrong, never empty: the error's text, else that of what caused it, else the
    first line of its class's documentation (an async connection reset has no text at all)."""
    current: BaseException | None = error
    quiet: list[str] = []
    for _ in range(8):  # a chain of causes is short; never follow a cycle
        if current is None:
            break
        text = str(current).strip()
        if text:
            return text
        if current is not error:
            quiet.append(type(current).__name__)
        current = current.__cause__ or current.__context__
    lines = (type(error).__doc__ or "").strip().splitlines()
    text = lines[0].strip().rstrip(".") if lines else "no detail given"
    return f"{text} ({', '.join(quiet)})" if quiet else text


class Run:
    """Run ``argv`` (no shell), capturing stdout and stderr; stdin is inherited.

    (Plain classes here and below: an attrs class costs close to a millisecond at import.)
    """

    __slots__ = ("argv", "timeout")

    def __init__(self, argv: tuple[str, ...], timeout: float | None = None) -> None:
        self.argv = argv
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"Run(argv={self.argv!r}, timeout={self.timeout!r})"


class ProcessResult:
    """What :class:`Run` produced. ``error`` is set (and ``returncode`` is ``None``) when the
    process could not be started or timed out. The output is never shown in a ``repr``."""

    __slots__ = ("error", "returncode", "stderr", "stdout")

    def __init__(
        self,
        returncode: int | None,
        stdout: bytes = b"",
        stderr: bytes = b"",
        error: BaseException | None = None,
    ) -> None:
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.error = error

    def __repr__(self) -> str:
        return f"ProcessResult(returncode={self.returncode!r}, error={self.error!r})"


class Prompt:
    """Ask the user for a line of input without echo (an MFA code) and return what was typed.

    ``ask`` is the user's own prompter (``mfa_prompter=``); ``None`` means the terminal
    (``getpass``). The result is the ``str`` typed, or a :class:`PromptFailure`.
    """

    __slots__ = ("ask", "text")

    def __init__(self, text: str, ask: Callable[[str], str] | None = None) -> None:
        self.text = text
        self.ask = ask

    def __repr__(self) -> str:
        return f"Prompt(text={self.text!r})"


class PromptFailure:
    """A :class:`Prompt` got no answer: ``error`` says why (no terminal, end of input, or what
    the user's prompter raised)."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def __repr__(self) -> str:
        return f"PromptFailure(error={self.error!r})"


class Signal:
    """A one-shot event that threads can block on and asyncio tasks can await.

    Used for single-flight credential refresh: the caller doing the refresh sets it; the others
    yield :class:`Wait` and their driver waits in the way that suits it.
    """

    __slots__ = ("_callbacks", "_event", "_lock")

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = ForkSafeLock()
        self._callbacks: list[Callable[[], None]] = []

    def set(self) -> None:
        with self._lock:
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block the calling thread until set."""
        return self._event.wait(timeout)

    def add_callback(self, callback: Callable[[], None]) -> bool:
        """Call ``callback`` (from the setting thread) once set; ``False`` if already set."""
        with self._lock:
            if self._event.is_set():
                return False
            self._callbacks.append(callback)
            return True


class Wait:
    __slots__ = ("signal",)

    def __init__(self, signal: Signal) -> None:
        self.signal = signal

    def __repr__(self) -> str:
        return f"Wait({self.signal!r})"


Effect = Send | Sleep | Emit[Any] | Run | Prompt | Wait
Outcome = HttpResponse | TransportFailure | ProcessResult | str | PromptFailure | None
Flow = Generator[Effect, Any, T]


def immediate(value: T) -> Flow[T]:
    """A flow that performs no effect and returns ``value``."""
    return value
    yield  # pragma: no cover  (makes this a generator)


# --- driving flows ------------------------------------------------------------------------------
#
# The one synchronous and the one asynchronous drive loop. Every path that steps a flow (a call,
# a listing, a wait, each fan-out worker, the tests) goes through them, so every exit (a result,
# an error, an effect that raised, a consumer that stopped early) closes the flow, and the flow's
# own cleanup (a credential refresh in flight letting its waiters go) always runs.


class _Finished(Exception):
    """:func:`_step`: the flow returned ``value``."""

    def __init__(self, value: Any) -> None:
        self.value = value


def _step(flow: Flow[Any], outcome: Any) -> Any:
    """Send ``outcome`` into ``flow``: its next effect, or :class:`_Finished` with its value."""
    try:
        return flow.send(outcome)
    except StopIteration as stop:
        raise _Finished(stop.value) from None


def drive(flow: Flow[T], perform: Callable[[Any], Any]) -> Generator[Any, None, T]:
    """Perform ``flow``'s effects with ``perform``; yield what it emits; return its value."""
    outcome: Any = None
    try:
        while True:
            effect = _step(flow, outcome)
            if isinstance(effect, Emit):
                outcome = None
                yield effect.value
            else:
                outcome = perform(effect)
    except _Finished as finished:
        return finished.value  # type: ignore[no-any-return]
    finally:
        flow.close()


def run(flow: Flow[T], perform: Callable[[Any], Any]) -> T:
    """Drive ``flow`` to its end and return its value (emitted values are dropped)."""
    loop = drive(flow, perform)
    while True:
        try:
            next(loop)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]


async def adrive(
    flow: Flow[T], perform: Callable[[Any], Awaitable[Any]], result: list[T] | None = None
) -> AsyncGenerator[Any, None]:
    """:func:`drive` for ``async`` performers; the flow's value is appended to ``result``."""
    outcome: Any = None
    try:
        while True:
            effect = _step(flow, outcome)
            if isinstance(effect, Emit):
                outcome = None
                yield effect.value
            else:
                outcome = await perform(effect)
    except _Finished as finished:
        if result is not None:
            result.append(finished.value)
    finally:
        flow.close()


async def arun(flow: Flow[T], perform: Callable[[Any], Awaitable[Any]]) -> T:
    """Drive ``flow`` to its end with an ``async`` performer and return its value."""
    result: list[T] = []
    loop = adrive(flow, perform, result)
    try:
        async for _ in loop:
            pass
    finally:
        await loop.aclose()
    return result[0]


class StopForwarding(Exception):
    """Raised by a :func:`forward` callback: the sub-flow is done (it is closed)."""


def forward(
    flow: Flow[T],
    on_emit: Callable[[Any], Iterable[Any] | None],
    intercept: Callable[[Any], Flow[Any]] | None = None,
) -> Flow[T | None]:
    """Run ``flow`` inside the calling flow (``yield from forward(...)``).

    Its effects pass up unchanged, or through ``intercept`` (a flow that performs the effect
    its own way and returns the outcome); each value it emits goes to ``on_emit``, which
    returns the values to emit in its place (or ``None``), or raises :class:`StopForwarding`
    to end the sub-flow early (the result is then ``None``). The sub-flow is closed on every
    exit.
    """
    outcome: Any = None
    try:
        while True:
            effect = _step(flow, outcome)
            outcome = None
            if isinstance(effect, Emit):
                try:
                    values = on_emit(effect.value)
                except StopForwarding:
                    return None
                for value in values or ():
                    yield Emit(value)
            elif intercept is None:
                outcome = yield effect
            else:
                outcome = yield from intercept(effect)
    except _Finished as finished:
        return finished.value  # type: ignore[no-any-return]
    finally:
        flow.close()
