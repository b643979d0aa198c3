"""The ``cfinval`` command's settings as the AWS CLI reads them: the profile's ``output``
(AWS CLI v2's ``yaml`` and ``yaml-stream`` refused, saying why)."""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterator

import pytest

from cfinval._cli import main
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront

from .conftest import Home

OP = "list-invalidations-for-distribution-tenant"


@pytest.fixture
def url(home: Home) -> Iterator[str]:
    home.env(
        AWS_ACCESS_KEY_ID=FAKE_CREDENTIALS.access_key_id,
        AWS_SECRET_ACCESS_KEY=FAKE_CREDENTIALS.secret_access_key,
    )
    fake = FakeCloudFront()
    fake.add_invalidation(
        "dt_a", "IA1", create_time=_dt.datetime(2026, 2, 1, tzinfo=_dt.timezone.utc)
    )
    with fake.serve() as server:
        yield server.endpoint_url


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_profiles_output_is_honoured(
    capsys: pytest.CaptureFixture[str], home: Home, url: str
) -> None:
    home.config("[default]\noutput = text\n[profile tables]\noutput = table\n")
    key, secret = FAKE_CREDENTIALS.access_key_id, FAKE_CREDENTIALS.secret_access_key
    home.credentials(f"[tables]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n")
    code, out, err = run(capsys, OP, "--endpoint-url", url, "--id", "dt_a")
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "ITEMS\t2026-02-01T00:00:00+00:00\tIA1\tCompleted"
    code, out, _ = run(capsys, OP, "--endpoint-url", url, "--id", "dt_a", "--profile", "tables")
    assert code == 0
    assert out.startswith("-")
    assert "ListInvalidationsForDistributionTenant" in out
    home.env(AWS_PROFILE="tables")
    code, out, _ = run(capsys, OP, "--endpoint-url", url, "--id", "dt_a")
    assert out.startswith("-")


def test_the_option_and_the_environment_win_over_the_profile(
    capsys: pytest.CaptureFixture[str], home: Home, url: str
) -> None:
    home.config("[default]\noutput = text\n")
    _, out, _ = run(capsys, OP, "--endpoint-url", url, "--id", "dt_a", "--output", "json")
    assert json.loads(out)["InvalidationList"]["Items"][0]["Id"] == "IA1"
    home.env(AWS_DEFAULT_OUTPUT="json")
    _, out, _ = run(capsys, OP, "--endpoint-url", url, "--id", "dt_a")
    assert json.loads(out)["InvalidationList"]["Items"][0]["Id"] == "IA1"


@pytest.mark.parametrize("where", ["option", "environment", "profile"])
@pytest.mark.parametrize("fmt", ["yaml", "yaml-stream"])
def test_yaml_is_refused_saying_why(
    capsys: pytest.CaptureFixture[str], home: Home, url: str, where: str, fmt: str
) -> None:
    args = [OP, "--endpoint-url", url, "--id", "dt_a"]
    if where == "option":
        args += ["--output", fmt]
    elif where == "environment":
        home.env(AWS_DEFAULT_OUTPUT=fmt)
    else:
        home.config(f"[default]\noutput = {fmt}\n")
    code, out, err = run(capsys, *args)
    assert (code, out) == (252, "")
    assert err.count("\n") == 2
    assert f"output {fmt} (from " in err
    assert "no YAML library" in err
    assert "--output json" in err


def test_an_unknown_output_in_the_profile_is_the_aws_clis_error(
    capsys: pytest.CaptureFixture[str], home: Home, url: str
) -> None:
    home.config("[default]\noutput = xml\n")
    assert run(capsys, OP, "--endpoint-url", url, "--id", "dt_a") == (
        255,
        "",
        "\nUnknown output type: xml\n",
    )
