"""Soak measurement of the meeting screen (issue 6): does a screen left running grow or slow down?

Starts a fokus server on fresh demo data, sets the slide time to a few seconds (every slide
change is a data refresh), opens the screen in Debian's chromium at 1920×1080 as `demo-skaerm`
and leaves it running. Meanwhile a save through the service layer every `--save-every`
seconds changes the data version, so the figures are really recomputed, as during a working
day. Records the server's resident memory (VmRSS of the streamlit process, from /proc) and the
time of each refresh (from the moment Streamlit reports the fragment running to the moment it
is done, seen in the browser).

    .venv/bin/python bench/screen_soak.py --minutes 30            # the measurement
    .venv/bin/python bench/screen_soak.py --minutes 2 --json out.json

Memory is compared from the end of the first minute (the first slides drawn, caches warm) to the
end; growth under 10 % passes. Not part of the test suite: it is a bench.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RUN_OBSERVER = """() => {
  window.fokusRuns = []; let started = null;
  const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => {
    const state = app.getAttribute('data-test-script-state');
    if (state === 'running' && started === null) started = performance.now();
    if (state === 'notRunning' && started !== null) {
      window.fokusRuns.push(performance.now() - started); started = null;
    }
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--slide-seconds", type=int, default=3)
    parser.add_argument("--save-every", type=float, default=120, help="seconds between saves (0: none)")
    parser.add_argument("--sample-every", type=float, default=30)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="fokus-soak-"))
    url = f"sqlite:///{work / 'fokus.db'}"
    os.environ["DATABASE_URL"] = url
    subprocess.run([sys.executable, "-m", "fokus", "demo"], cwd=ROOT, check=True, capture_output=True)
    password = next(line.split(":", 1)[1].strip() for line in (work / "demo-login.txt").read_text().splitlines()
                    if "adgangskode" in line)

    from playwright.sync_api import sync_playwright
    from sqlmodel import select

    from fokus import db, services, settings
    from fokus.actor import SYSTEM
    from fokus.clock import today
    from fokus.models import Unit
    from tests.e2e.conftest import start_server

    with db.write_session() as session:
        settings.put(session, SYSTEM, "screen_slide_seconds", args.slide_seconds)
        unit_id = session.exec(select(Unit.id)).first()

    server, base = start_server(url, work / "streamlit.log")
    samples: list[tuple[float, int]] = []
    saves = 0
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"])
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(base)
            page.get_by_label("Brugernavn").fill("demo-skaerm")
            page.get_by_label("Adgangskode").fill(password)
            page.keyboard.press("Enter")
            page.locator(".fokus-target").wait_for(timeout=60_000)
            page.evaluate(RUN_OBSERVER)
            opened = time.monotonic()
            samples.append((0.0, rss_kib(server.pid)))
            next_sample, next_save = opened + args.sample_every, opened + (args.save_every or 1e12)
            deadline = opened + args.minutes * 60
            while time.monotonic() < deadline:
                page.wait_for_timeout(1000)
                now = time.monotonic()
                if now >= next_sample:
                    samples.append((now - opened, rss_kib(server.pid)))
                    next_sample += args.sample_every
                if now >= next_save:
                    with db.write_session() as session:
                        services.register_referral(
                            session, SYSTEM, unit_id=unit_id, citizen_ref=f"SOAK-{saves}", birth_year=1980,
                            received=today() - timedelta(days=1), referrer="socialcenter", target_group="psychic")
                    saves += 1
                    next_save += args.save_every
            runs = page.evaluate("window.fokusRuns")
            still_screen = page.locator(".fokus-target").count() == 1
            browser.close()
        samples.append((time.monotonic() - opened, rss_kib(server.pid)))
    finally:
        server.terminate()
        server.wait(timeout=10)

    baseline = next((rss for t, rss in samples if t >= 60), samples[0][1])
    end = samples[-1][1]
    result = {
        "minutes": args.minutes, "slide_seconds": args.slide_seconds, "saves": saves,
        "rss_kib_at_open": samples[0][1], "rss_kib_after_1_min": baseline, "rss_kib_end": end,
        "growth_pct_from_1_min": round((end - baseline) / baseline * 100, 2),
        "refreshes": len(runs),
        "refresh_ms_median": round(statistics.median(runs), 1) if runs else None,
        "refresh_ms_p95": round(sorted(runs)[int(len(runs) * 0.95) - 1], 1) if runs else None,
        "refresh_ms_max": round(max(runs), 1) if runs else None,
        "refresh_ms_first_10_median": round(statistics.median(runs[:10]), 1) if runs else None,
        "refresh_ms_last_10_median": round(statistics.median(runs[-10:]), 1) if runs else None,
        "still_on_the_screen_at_the_end": still_screen,
        "rss_samples": samples,
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
