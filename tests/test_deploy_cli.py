"""``cfinval invalidate-tenants``: the deploy step's command against the fake on loopback."""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from cfinval._cli import main
from cfinval.testing import FAKE_CREDENTIALS, FakeCloudFront

CMD = "invalidate-tenants"


@pytest.fixture
def fake() -> FakeCloudFront:
    fake = FakeCloudFront(complete_after=None, complete_after_gets=1)
    for tenant_id in ("dt_1", "dt_2", "dt_3"):
        fake.add_tenant(tenant_id)
    fake.add_tenant("dt_locked", access_denied=True)
    return fake


@pytest.fixture
def url(fake: FakeCloudFront, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_CREDENTIALS.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_CREDENTIALS.secret_access_key)
    with fake.serve() as server:
        yield server.endpoint_url


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip().startswith("{") else out, err


def test_every_tenant_gets_one_invalidation_and_a_json_report(
    capsys: pytest.CaptureFixture[str], fake: FakeCloudFront, url: str
) -> None:
    args = [CMD, "--endpoint-url", url, "--tenant-ids", "dt_1", "dt_2", "dt_3"]
    args += ["--paths", "/index.html", "/static/*", "--caller-reference", "release-7"]
    code, report, err = run(capsys, *args)
    assert code == 0
    assert err == ""  # no progress line: stderr is not a terminal
    assert report["CallerReference"] == "release-7"
    assert report["Paths"] == ["/index.html", "/static/*"]
    assert report["Tenants"] == 3
    assert report["Complete"] is True
    assert report["Counts"] == {"InProgress": 3}
    by_id = {r["DistributionTenantId"]: r for r in report["Results"]}
    assert sorted(by_id) == ["dt_1", "dt_2", "dt_3"]
    for tenant_id, result in by_id.items():
        assert result["CallerReference"] == f"release-7-{tenant_id}"
        invalidation = result["Invalidation"]
        assert [item.id for item in fake.listing(tenant_id)] == [invalidation["Id"]]
        assert invalidation["InvalidationBatch"] == {
            "Paths": {"Quantity": 2, "Items": ["/index.html", "/static/*"]},
            "CallerReference": f"release-7-{tenant_id}",
        }
    # Run again with the same prefix: the same invalidations, nothing new.
    code, again, _ = run(capsys, *args)
    assert code == 0
    assert {r["DistributionTenantId"]: r["Invalidation"]["Id"] for r in again["Results"]} == {
        tenant_id: r["Invalidation"]["Id"] for tenant_id, r in by_id.items()
    }
    assert all(len(fake.listing(t)) == 1 for t in by_id)


def test_failed_tenants_are_in_the_report_and_exit_254(
    capsys: pytest.CaptureFixture[str], fake: FakeCloudFront, url: str
) -> None:
    code, report, _ = run(
        capsys,
        *[CMD, "--endpoint-url", url, "--paths", "/*"],
        *["--tenant-ids", "dt_1", "dt_missing", "dt_locked"],
    )
    assert code == 254
    assert report["Counts"] == {"InProgress": 1, "Failed": 2}
    errors = {r["DistributionTenantId"]: r.get("Error") for r in report["Results"]}
    assert errors["dt_1"] is None
    assert errors["dt_missing"]["Code"] == "EntityNotFound"
    assert errors["dt_locked"] == {"Code": "AccessDenied", "Message": "Access denied."}
    assert report["CallerReference"].startswith("cfinval-")


def test_wait_reports_completed_and_a_timeout_exits_255(
    capsys: pytest.CaptureFixture[str], fake: FakeCloudFront, url: str
) -> None:
    base = [CMD, "--endpoint-url", url, "--tenant-ids", "dt_1", "dt_2", "--paths", "/a"]
    # A short deadline: the poll's sleep ends with it (0.2 s, not 60), then the wait.
    code, report, _ = run(capsys, *base, "--wait", "--timeout", "0.2", "--poll", "60")
    assert code == 255
    assert report["Counts"] == {"Failed": 2}
    assert {r["Error"]["Code"] for r in report["Results"]} == {"WaitTimeoutError"}
    assert {r["Invalidation"]["Status"] for r in report["Results"]} == {"InProgress"}
    # The same run resumed: the fake completes each on its next Get.
    fake.complete_after_gets = 0
    code, report, _ = run(
        capsys, *base, "--wait", "--poll", "0.001", "--caller-reference", report["CallerReference"]
    )
    assert code == 0
    assert report["Counts"] == {"Completed": 2}
    assert all(len(fake.listing(t)) == 1 for t in ("dt_1", "dt_2"))


def test_a_terminal_gets_a_progress_line_on_stderr(
    capsys: pytest.CaptureFixture[str],
    fake: FakeCloudFront,
    url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    code = main([CMD, "--endpoint-url", url, "--tenant-ids", "dt_1", "dt_missing", "--paths", "/"])
    assert code == 254
    shown = terminal.getvalue()
    assert "\r1/2 tenants: " in shown
    assert shown.endswith("\r2/2 tenants: 1 ok, 1 failed\x1b[K\n")
    assert json.loads(capsys.readouterr().out)["Tenants"] == 2


def test_query_and_text_output_apply_to_the_report(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    code, out, _ = run(
        capsys,
        *[CMD, "--endpoint-url", url, "--tenant-ids", "dt_2", "dt_1", "--paths", "/x"],
        *["--caller-reference", "q", "--query", "Results[].CallerReference", "--output", "text"],
    )
    assert code == 0
    assert sorted(out.split()) == ["q-dt_1", "q-dt_2"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--paths", "/a"], "one of the arguments --distribution-id --tenant-ids --ids-file"),
        (["--tenant-ids", "dt_1"], "required: --paths"),
        (["--tenant-ids", "dt_1", "--distribution-id", "E1", "--paths", "/a"], "not allowed"),
        (["--tenant-ids", "dt_1", "--paths", "a"], "must start with '/'"),
        (["--tenant-ids", "dt_1", "--paths", "/a", "--concurrency", "0"], "positive integer"),
        (["--tenant-ids", "dt_1", "--paths", "/a", "--caller-reference", ""], "non-empty"),
    ],
)
def test_bad_arguments_exit_252_and_send_nothing(
    capsys: pytest.CaptureFixture[str],
    fake: FakeCloudFront,
    url: str,
    args: list[str],
    message: str,
) -> None:
    try:
        code = main([CMD, "--endpoint-url", url, *args])
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    err = capsys.readouterr().err
    assert code == 252
    assert message in err
    assert fake.served == 0


def test_ctrl_c_prints_the_report_so_far_and_how_to_resume(
    capsys: pytest.CaptureFixture[str],
    fake: FakeCloudFront,
    url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cfinval._cli import deploy

    def interrupt(self: deploy.Progress, done: int, total: int | None, failed: int) -> None:
        raise KeyboardInterrupt  # as if Ctrl+C came right after the first tenant

    args = [CMD, "--endpoint-url", url, "--tenant-ids", "dt_1", "dt_2", "dt_3", "--paths", "/"]
    with monkeypatch.context() as patch:
        patch.setattr(deploy.Progress, "update", interrupt)
        code = main([*args, "--concurrency", "1", "--caller-reference", "rc"])
    out, err = capsys.readouterr()
    assert code == 130
    report = json.loads(out)
    assert report["Complete"] is False
    assert len(report["Results"]) == 1
    assert "resume with --caller-reference rc" in err
    # Resumed: every tenant has its one invalidation, the first one's unchanged.
    first = report["Results"][0]
    code, again, _ = run(capsys, *args, "--caller-reference", "rc")
    assert code == 0
    ids = {r["DistributionTenantId"]: r["Invalidation"]["Id"] for r in again["Results"]}
    assert ids[first["DistributionTenantId"]] == first["Invalidation"]["Id"]
    assert all(len(fake.listing(t)) == 1 for t in ("dt_1", "dt_2", "dt_3"))


def test_ids_file_reads_one_id_a_line(
    capsys: pytest.CaptureFixture[str],
    fake: FakeCloudFront,
    url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("# tenants\ndt_1\n\ndt_3\n"))
    code, report, _ = run(capsys, CMD, "--endpoint-url", url, "--ids-file", "-", "--paths", "/a")
    assert code == 0
    assert sorted(r["DistributionTenantId"] for r in report["Results"]) == ["dt_1", "dt_3"]
    assert fake.listing("dt_2") == []
    monkeypatch.setattr(sys, "stdin", io.StringIO("# none\n"))
    code, _, err = run(capsys, CMD, "--endpoint-url", url, "--ids-file", "-", "--paths", "/a")
    assert code == 252
    assert "no tenant Ids given" in err


def test_distribution_id_covers_every_tenant_of_the_distribution(
    capsys: pytest.CaptureFixture[str], fake: FakeCloudFront, url: str
) -> None:
    fake.add_tenant("dt_elsewhere", distribution_id="E2OTHER")
    distribution = fake.tenants()  # all but dt_elsewhere share the default distribution
    distribution.remove("dt_elsewhere")
    code, report, _ = run(
        capsys, CMD, "--endpoint-url", url, "--distribution-id", "E1FAKEDISTRIB0", "--paths", "/"
    )
    assert code == 254  # dt_locked: AccessDenied
    assert sorted(r["DistributionTenantId"] for r in report["Results"]) == sorted(distribution)
    assert report["Counts"] == {"InProgress": 3, "Failed": 1}
    assert fake.listing("dt_elsewhere") == []


def test_a_credential_failure_mid_run_prints_the_report_and_the_resume_hint(
    capsys: pytest.CaptureFixture[str],
    fake: FakeCloudFront,
    url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import cfinval

    real = cfinval.Client.invalidate_tenants
    calls = 0

    def flaky(self: cfinval.Client, *args: Any, **kwargs: Any) -> Any:
        run = real(self, *args, **kwargs)
        generate = run._results

        def results() -> Any:
            nonlocal calls
            for result in generate:
                yield result
                calls += 1
                if calls == 1:  # after the first tenant: STS fails while refreshing
                    raise cfinval.CredentialRetrievalError("assume-role", "STS answered 503")

        run._results = results()
        return run

    monkeypatch.setattr(cfinval.Client, "invalidate_tenants", flaky)
    args = [CMD, "--endpoint-url", url, "--tenant-ids", "dt_1", "dt_2", "dt_3", "--paths", "/"]
    code = main([*args, "--concurrency", "1"])
    out, err = capsys.readouterr()
    assert code == 255  # the AWS CLI's code for a credential source that failed
    report = json.loads(out)
    assert report["Complete"] is False
    assert len(report["Results"]) == 1
    prefix = report["CallerReference"]
    lines = err.strip().splitlines()
    assert (
        lines[0] == f"CallerReference prefix: {prefix} (to resume with --caller-reference {prefix})"
    )
    assert f"Stopped: resume with --caller-reference {prefix}" in err
    assert "Error when retrieving credentials from assume-role: STS answered 503" in lines[-1]


def test_a_distribution_without_tenants_warns(
    capsys: pytest.CaptureFixture[str],
    fake: FakeCloudFront,
    url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import cfinval

    # (the fake knows a distribution by its tenants: the listing is made empty here)
    listed: list[str] = []

    def no_tenants(self: cfinval.Client, distribution_id: str, *args: Any) -> list[str]:
        listed.append(distribution_id)
        return []

    monkeypatch.setattr(cfinval.Client, "_distribution_tenant_ids", no_tenants)
    code, report, err = run(
        capsys, CMD, "--endpoint-url", url, "--distribution-id", "E2EMPTY", "--paths", "/"
    )
    assert code == 0
    assert report["Tenants"] == 0
    assert report["Complete"] is True
    assert "warning: distribution E2EMPTY has no tenants: nothing was invalidated" in err
    assert listed == ["E2EMPTY"]
    assert fake.served == 0
