"""The command line: `python -m fokus init | demo | kpi …`."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from fokus import config, db
from fokus.errors import FokusError


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"'{text}' er ikke en dato på formen ÅÅÅÅ-MM-DD") from error


def _cmd_init(_args: argparse.Namespace) -> int:
    db.upgrade_to_head()
    print(f"Databasen er klar (revision {db.current_revision()}): {_safe_url()}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from fokus import demo

    db.upgrade_to_head()
    if args.if_empty and not demo.database_is_empty():
        print("Databasen har allerede data: der lægges ingen demodata i.")
        return 0
    print(demo.fill_demo())
    return 0


def _cmd_kpi(args: argparse.Namespace) -> int:
    from fokus import metrics

    db.upgrade_to_head()
    figures = metrics.kpis_for_cli(start=args.start, end=args.end, unit_name=args.unit)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
    else:
        print(metrics.kpi_table(figures, start=args.start, end=args.end, unit_name=args.unit))
    return 0


def _safe_url() -> str:
    """The database URL without a password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(config.database_url()).render_as_string(hide_password=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fokus", description="fokus: §82a/§82b-enhedens arbejdsredskab")
    commands = parser.add_subparsers(dest="command", required=True)

    init = commands.add_parser("init", help="opret eller opgrader databasen til nyeste version")
    init.set_defaults(run=_cmd_init)

    demo = commands.add_parser("demo", help="fyld en TOM database med realistiske demodata for én enhed")
    demo.add_argument("--if-empty", action="store_true",
                      help="spring stille over, når databasen allerede har data (i stedet for at fejle)")
    demo.set_defaults(run=_cmd_demo)

    kpi = commands.add_parser("kpi", help="nøgletal for en periode (DESIGN §3–4)")
    kpi.add_argument("--from", dest="start", type=_iso_date, required=True, help="første dag, ÅÅÅÅ-MM-DD")
    kpi.add_argument("--to", dest="end", type=_iso_date, required=True, help="sidste dag, ÅÅÅÅ-MM-DD")
    kpi.add_argument("--unit", default=None, help="enhedens navn (uden: alle enheder)")
    kpi.add_argument("--json", action="store_true", help="skriv JSON i stedet for en tabel")
    kpi.set_defaults(run=_cmd_kpi)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except FokusError as error:
        print(f"fejl: {error.message}", file=sys.stderr)
        return 2
