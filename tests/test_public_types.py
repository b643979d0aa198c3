"""Public signatures say what they accept, in public types; the runtime agrees with them."""

from __future__ import annotations

import inspect
import os
import re
import typing
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

import cfinval
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = Path(__file__).parent / "typecheck" / "public_api.py"

# Known exceptions, internal plumbing that users never pass (to be hidden when the credential
# providers' module split lands): the shared-configuration view the default chain hands its
# providers, and the paginators' state (built by the clients only).
ALLOWED = {
    ("AssumeRoleProvider.__init__", "config"),
    ("ConfigFileProvider.__init__", "config"),
    ("InstanceMetadataProvider.__init__", "config"),
    ("LoginProvider.__init__", "config"),
    ("SSOProvider.__init__", "config"),
    ("ProcessProvider.__init__", "config"),
    ("SharedCredentialsProvider.__init__", "config"),
    ("WebIdentityProvider.__init__", "config"),
    ("Paginator.__init__", "state"),
    ("AsyncPaginator.__init__", "state"),
}


def _types_in(hint: Any) -> set[Any]:
    found = {hint}
    for arg in typing.get_args(hint):
        found |= _types_in(arg) if not isinstance(arg, list) else set().union(*map(_types_in, arg))
    origin = typing.get_origin(hint)
    if origin is not None:
        found.add(origin)
    return found


def _public_callables() -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for name in cfinval.__all__:
        obj = getattr(cfinval, name)
        if inspect.isfunction(obj):
            found.append((name, obj))
        elif isinstance(obj, type):
            for member, value in inspect.getmembers(obj):
                if member.startswith("_") and member != "__init__":
                    continue
                if isinstance(value, property) and value.fget is not None:
                    value = value.fget
                if inspect.isfunction(value) and value.__module__.startswith("cfinval"):
                    found.append((f"{name}.{member}", value))
    return found


def test_public_signatures_name_public_types_only() -> None:
    public = {getattr(cfinval, name) for name in cfinval.__all__}
    private: list[str] = []
    for name, function in _public_callables():
        for parameter, hint in typing.get_type_hints(function).items():
            for kind in _types_in(hint):
                module = getattr(kind, "__module__", "") or ""
                if (
                    isinstance(kind, type)
                    and module.startswith("cfinval")
                    and kind not in public
                    and (name, parameter) not in ALLOWED
                ):
                    private.append(f"{name}({parameter}): {module}.{kind.__qualname__}")
    assert private == []


def test_the_default_chain_loads_through_a_publicly_typed_flow() -> None:
    hints = typing.get_type_hints(cfinval.ChainProvider.load)
    assert hints["return"] == Generator[Any, Any, cfinval.Credentials | None]


@pytest.mark.parametrize("value", [42, "AKID:secret", b"x", object(), ("AKID", "secret")])
def test_clients_refuse_what_credentials_cannot_be(value: object) -> None:
    for client_class in (cfinval.Client, cfinval.AsyncClient):
        with pytest.raises(cfinval.ParamValidationError, match="credentials must be"):
            client_class(credentials=value)  # type: ignore[arg-type]


def test_the_fake_accepts_one_credentials_or_several() -> None:
    other = cfinval.Credentials("AKIDOTHER", "other-secret")
    assert FakeCloudFront(credentials=FAKE_CREDENTIALS).credentials == (FAKE_CREDENTIALS,)
    assert FakeCloudFront(credentials=[FAKE_CREDENTIALS, other]).credentials == (
        FAKE_CREDENTIALS,
        other,
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (42, "credentials must be cfinval.Credentials or an iterable of them, got int"),
        ("AKID", "credentials must be cfinval.Credentials or an iterable of them, got str"),
        ([FAKE_CREDENTIALS, 42], "credentials must hold cfinval.Credentials only, got int"),
    ],
)
def test_the_fake_refuses_other_credentials_with_a_typed_error(value: Any, message: str) -> None:
    with pytest.raises(cfinval.ParamValidationError) as caught:
        FakeCloudFront(credentials=value)
    assert str(caught.value) == message


def test_mypy_agrees_with_what_the_signatures_accept(monkeypatch: pytest.MonkeyPatch) -> None:
    api = pytest.importorskip("mypy.api")
    monkeypatch.chdir(ROOT)  # the project's mypy settings and cache (warm after `make test`'s
    # own mypy run: about a second)
    out, err, _ = api.run(
        ["--config-file", "pyproject.toml", "--no-error-summary", os.fspath(SAMPLE)]
    )
    assert err == ""
    lines = SAMPLE.read_text().splitlines()
    expected_errors = {n for n, line in enumerate(lines, 1) if line.endswith("# E")}
    errors = {int(m[1]) for m in re.finditer(r":(\d+): error:", out)}
    assert errors == expected_errors, out
    revealed = re.search(r'Revealed type is "(.*)"', out)
    assert revealed is not None, out
    assert revealed[1] == "typing.Generator[Any, Any, cfinval._models.Credentials | None]"


@pytest.mark.parametrize("client_class", [cfinval.Client, cfinval.AsyncClient])
def test_a_bare_str_of_tenant_ids_or_an_unknown_retry_mode_is_refused_at_run_time(
    client_class: Any,
) -> None:
    with pytest.raises(cfinval.ParamValidationError) as mode:
        client_class(FAKE_CREDENTIALS, retry_mode="fast")
    assert str(mode.value) == (
        "retry_mode from the retry_mode argument must be one of "
        "('standard', 'legacy', 'adaptive'), got 'fast'"
    )
    client = client_class(FAKE_CREDENTIALS)
    with pytest.raises(cfinval.ParamValidationError) as many:
        client.list_many("dt_1")
    assert str(many.value) == (
        "tenant_ids must be a collection of tenant Ids (a list, a tuple, ...), not str"
    )


def test_no_public_default_is_shown_as_an_object_address() -> None:
    shown = []
    for name, function in _public_callables():
        for parameter in inspect.signature(function).parameters.values():
            if parameter.default is not inspect.Parameter.empty and " at 0x" in repr(
                parameter.default
            ):
                shown.append(f"{name}({parameter.name}={parameter.default!r})")
    assert shown == []
    timeout = inspect.signature(cfinval.Client).parameters["timeout"]
    assert repr(timeout.default) == "<10 s, or the http_client's own>"


def test_tracebacks_name_public_classes_where_they_are_imported_from() -> None:
    import pickle
    import traceback

    error = cfinval.EntityNotFound(
        "EntityNotFound", "The tenant dt_x does not exist.", status_code=404
    )
    line = traceback.format_exception_only(type(error), error)[-1]
    assert line.startswith("cfinval.EntityNotFound: ")
    errors = [e for e in map(cfinval.__dict__.get, cfinval.__all__) if _is_error(e)]
    assert len(errors) > 10
    for error_class in errors:
        assert error_class.__module__ == "cfinval", error_class
        typing.get_type_hints(error_class)  # annotations still resolve
    # the other classes keep their module: their annotations resolve there
    for model in (cfinval.Credentials, cfinval.InvalidationSummary, cfinval.InvalidationList):
        assert typing.get_type_hints(model)
    assert repr(pickle.loads(pickle.dumps(error))) == repr(error)  # noqa: S301 (our own bytes)


def _is_error(value: object) -> bool:
    return isinstance(value, type) and issubclass(value, BaseException)
