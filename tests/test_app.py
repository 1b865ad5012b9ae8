"""AppTest walks every registered page, on demo data and on an empty database, without an error."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")


def registered_pages() -> list[str]:
    return re.findall(r'st\.Page\(\s*"(pages/[^"]+\.py)"', (ROOT / "app.py").read_text())


def test_every_file_in_pages_is_registered_and_every_registered_page_exists() -> None:
    on_disk = sorted(f"pages/{path.name}" for path in (ROOT / "pages").glob("*.py"))
    assert sorted(registered_pages()) == on_disk


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'fokus.db'}"
    subprocess.run([sys.executable, "-m", "fokus", "demo"], cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "DATABASE_URL": url})
    return url


def run_page(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    if page != registered_pages()[0]:
        at.switch_page(page).run()
    return at


@pytest.mark.parametrize("page", registered_pages())
def test_page_runs_without_error_on_demo_data(page: str, demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", demo_url)
    at = run_page(page)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("page", registered_pages())
def test_page_runs_without_error_on_an_empty_database(page: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    at = run_page(page)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def test_overblik_shows_the_demo_units_figures_and_chart(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", demo_url)
    at = run_page("pages/overblik.py")
    labels = {metric.label: metric.value for metric in at.metric}
    intake = int(labels["Tilgang, 12 måneder"].replace(".", ""))
    assert 150 <= intake <= 200
    assert labels["Startet i gruppe"].endswith("%")
    charts = at.get("plotly_chart")
    assert charts, "Overblik draws no chart"
    import json

    figure = json.loads(charts[0].proto.spec)
    bars = [trace for trace in figure["data"] if trace["type"] == "bar"]
    assert sum(sum(trace["y"]) for trace in bars if isinstance(trace["y"], list)) > 0
