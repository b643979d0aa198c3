"""The effects both drivers perform the same blocking way: a subprocess (``Run``) and a prompt
(``Prompt``). The sync driver calls :func:`perform_blocking` directly; the async driver calls it
in a worker thread, so the event loop keeps going.
"""

from __future__ import annotations

from .._core.effects import ProcessResult, Prompt, PromptFailure, Run

__all__ = ["ask", "perform_blocking", "run_process"]


def run_process(effect: Run) -> ProcessResult:
    """Run ``effect.argv`` (no shell), capturing its output; failures to start or a timeout
    come back as ``ProcessResult.error``."""
    import subprocess  # only processes that run credential_process pay for it

    try:
        done = subprocess.run(  # noqa: S603 (argv from the user's own config, no shell)
            list(effect.argv), capture_output=True, timeout=effect.timeout, check=False
        )
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        return ProcessResult(None, error=exc)
    return ProcessResult(done.returncode, done.stdout, done.stderr)


def ask(effect: Prompt) -> str | PromptFailure:
    """Show ``effect.text`` and read a line without echo (the user's prompter, else
    ``getpass``). Whatever keeps an answer from coming back is a :class:`PromptFailure`."""
    prompter = effect.ask
    if prompter is None:
        import getpass  # only a profile with mfa_serial needs it

        prompter = getpass.getpass
    try:
        answer = prompter(effect.text)
    except Exception as exc:  # EOFError, no terminal, or the user's prompter gave up
        return PromptFailure(exc)
    if not isinstance(answer, str):
        return PromptFailure(TypeError(f"the prompter returned {type(answer).__name__}, not str"))
    return answer


def perform_blocking(effect: Run | Prompt) -> ProcessResult | str | PromptFailure:
    """Perform a ``Run`` or a ``Prompt``, blocking the calling thread until it is done."""
    return run_process(effect) if isinstance(effect, Run) else ask(effect)
