"""Settings read from the environment, at call time (AppTest keeps modules imported)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_SQLITE_FILE = DATA_DIR / "fokus.db"


def database_url() -> str:
    """`DATABASE_URL`, or the embedded SQLite file under `data/`."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url
    return f"sqlite:///{DEFAULT_SQLITE_FILE}"
