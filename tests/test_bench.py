"""The benchmark runner runs: every measuring function of `bench.run` on size S, SQLite, one run each,
without the browser. Benchmarks are not tests (pytest collects `tests/` only); this proves that
the runner works and leaves the data as it found them."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from bench import generate, run
from fokus import db


def _state(url: str) -> tuple[int, list[tuple[int, int | None]]]:
    """ORS scores in all, and every course's contact person."""
    with db.engine_for(url).connect() as connection:
        scores = connection.execute(sa.text("SELECT count(*) FROM orsscore")).scalar_one()
        people = connection.execute(sa.text("SELECT id, contact_person_id FROM course ORDER BY id")).all()
    return int(scores), [tuple(row) for row in people]


def test_the_runner_measures_size_s_on_sqlite_and_leaves_the_data_as_generated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'S.sqlite'}"
    generate.generate("S", url)
    wal = tmp_path / "S.sqlite-wal"
    assert not wal.exists() or wal.stat().st_size == 0, "the generated rows are left in the write-ahead log"
    before = _state(url)

    found = run.measure(url, repeat=1, saves=3, browser=False, log=lambda line: None)

    assert found["unit"] == 1 and found["course"] > 1500 and found["orsscore"] > 15_000
    timed = ["overblik_after_save_all", "overblik_after_save_one", "overblik_warm_all", "overblik_warm_one",
             "save_ors", "save_course", "kpi_in_process", "kpi_subprocess"]
    for key in timed:
        assert found[key] is not None and found[key] > 0, key
    # Server time is the script run alone: never more than AppTest's wall time around it.
    assert found["overblik_warm_all"] <= found["overblik_warm_all_wall"]
    assert found["charts_all"] == found["charts_one"] == run.CHARTS
    assert _state(url) == before  # the scores added are deleted, the contact person is back

    text = run.table({("sqlite", "S"): {**found, "generated_s": 2.0}}, ["S"], "sqlite")
    assert "| Overblik after a save, all units: server ms |" in text
    assert "Server peak memory" not in text  # no browser, no row
