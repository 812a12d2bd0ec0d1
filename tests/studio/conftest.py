"""The studio's API tests: a run folder per test (copied from one built per session), an
in-process client holding the per-launch token, and tiny GrooVAE models."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from studio.studio_run import build_studio_run, tiny_groove_model

pytest.importorskip("starlette", reason="the studio's extra: pip install -e '.[studio]'")

TOKEN = "test-token"
ORIGIN = "http://testserver"  # TestClient's base URL: the studio's own origin here


@pytest.fixture(scope="session")
def run_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_studio_run(tmp_path_factory.mktemp("studio_template") / "out").parent


@pytest.fixture
def out(run_template: Path, tmp_path: Path) -> Path:
    """OUT: a fresh copy of the small run (its pools point at library_1/ relatively)."""
    return Path(shutil.copytree(run_template, tmp_path / "out", symlinks=True))


@pytest.fixture(scope="session")
def groove_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    pytest.importorskip("torch")
    folder = tmp_path_factory.mktemp("groove_models")
    return {mode: tiny_groove_model(folder / mode, mode) for mode in ("humanize", "vary")}


class Studio:
    """The in-process client of a studio on ``out``; `post` sends what the page sends."""

    def __init__(self, client, out: Path) -> None:
        self.client, self.out = client, out

    def get(self, url: str, **options):
        return self.client.get(url, **options)

    def post(self, url: str, body, **headers: str | None):
        """A POST with the token and the studio's own Origin; ``headers`` override them,
        a None leaves that header out."""
        return self.client.post(url, json=body, headers=self._headers(headers))

    def upload(self, files: list[tuple[str, bytes]], *, folder=None, params=None, **headers):
        """``POST /api/new-run`` as the page sends it: a multipart form of ``files``
        (name, bytes), ``folder`` and ``params`` (JSON)."""
        form = {"params": json.dumps(params or {})} | ({"folder": folder} if folder else {})
        parts = [("files", (name, data, "application/octet-stream")) for name, data in files]
        return self.client.post(
            "/api/new-run", data=form, files=parts, headers=self._headers(headers)
        )

    def run_events(self, run: str, **headers: str) -> list[dict]:
        """Every event of ``run``'s stream (``GET /api/new-run/events``), read to its end."""
        events = []
        url = "/api/new-run/events"
        with self.client.stream("GET", url, params={"run": run}, headers=headers) as response:
            assert response.status_code == 200, response.read()
            assert response.headers["content-type"].startswith("text/event-stream")
            kind = None
            for line in response.iter_lines():
                if line.startswith("event: "):
                    kind = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    event = json.loads(line.removeprefix("data: "))
                    assert event["type"] == kind
                    events.append(event)
        return events

    @staticmethod
    def _headers(headers: dict[str, str | None]) -> dict[str, str]:
        sent = {"X-Drumgenx-Token": TOKEN, "Origin": ORIGIN, **headers}
        return {name: value for name, value in sent.items() if value is not None}


@pytest.fixture
def open_studio(out: Path):  # -> Callable[..., Studio]
    """Opens the studio on ``out`` in-process (``groove_models`` as `create_app`'s)."""
    from contextlib import ExitStack

    from starlette.testclient import TestClient

    from drumgenx.studio.app import create_app

    with ExitStack() as stack:

        def opened(groove_models: dict[str, Path] | None = None) -> Studio:
            app = create_app(
                out,
                token=TOKEN,
                allowed_hosts=frozenset({"testserver"}),
                groove_models=groove_models,
            )
            client = stack.enter_context(TestClient(app, raise_server_exceptions=False))
            return Studio(client, out)

        yield opened


@pytest.fixture
def studio(open_studio) -> Studio:
    return open_studio()
