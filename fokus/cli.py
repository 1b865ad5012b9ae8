"""The command line: `python -m fokus init | demo | kpi | retention | backup | restore | import | export | dst …`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from sqlmodel import Session

from fokus import config, db
from fokus.errors import FokusError, NotFoundError, ValidationError


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
        note = demo.demo_login_file()
        if note.exists():
            print(note.read_text(encoding="utf-8"))
        return 0
    print(demo.fill_demo())
    print(demo.create_demo_logins())
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


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    import getpass

    first = getpass.getpass("Adgangskode (mindst 12 tegn): ")
    if getpass.getpass("Gentag adgangskoden: ") != first:
        raise ValidationError("De to adgangskoder er ikke ens.", "password")
    return first


def _unit_ids(names: list[str]) -> list[int]:
    from sqlmodel import select

    from fokus.models import Unit

    with db.read_session() as session:
        known = {unit.name: unit.id for unit in session.exec(select(Unit)).all()}
    missing = [name for name in names if name not in known]
    if missing:
        listed = ", ".join(sorted(known)) or "ingen"
        raise NotFoundError(f"Ukendt enhed: {', '.join(missing)}. Kendte enheder: {listed}.")
    return [int(known[name]) for name in names]


def _cmd_user(args: argparse.Namespace) -> int:
    from sqlmodel import func, select

    from fokus import auth
    from fokus.actor import SYSTEM
    from fokus.models import User

    db.upgrade_to_head()
    if args.user_command == "list":
        with db.read_session() as session:
            for user in auth.list_users(session, SYSTEM):
                units = ", ".join(user["units"]) or "alle"  # type: ignore[arg-type]
                state = "aktiv" if user["active"] else "deaktiveret"
                print(f"{user['login']:<40} {user['role']:<8} {state:<12} {units}")
        return 0
    if args.user_command == "add":
        unit_ids = _unit_ids(args.unit or [])
        password = _read_password(args) if not args.no_password else None
        with db.write_session() as session:
            auth.create_user(session, SYSTEM, login=args.login, role=args.role, password=password, unit_ids=unit_ids)
        print(f"Brugeren {args.login.lower()} er oprettet med rollen {args.role}.")
        return 0
    password = _read_password(args)
    with db.write_session() as session:
        user = session.exec(select(User).where(func.lower(User.login) == args.login.lower())).first()
        if user is None:
            raise NotFoundError(f"Brugeren {args.login} findes ikke.")
        auth.reset_password(session, SYSTEM, user_id=user.id, password=password)
    print(f"Ny adgangskode sat for {args.login.lower()}.")
    return 0


def _cmd_purge_audit(_args: argparse.Namespace) -> int:
    from fokus import auditlog, clock
    from fokus.actor import SYSTEM

    db.upgrade_to_head()
    with db.write_session() as session:
        purged = auditlog.purge(session, SYSTEM, clock.now_utc())
    print(f"{purged} poster ud over opbevaringstiden er slettet fra revisionsloggen.")
    return 0


def _cmd_retention(args: argparse.Namespace) -> int:
    from fokus import clock, retention
    from fokus.actor import SYSTEM

    db.upgrade_to_head()
    if args.print_register:
        with db.read_session() as session:
            for line in retention.register_lines(retention.register_hashes(session)):
                print(line)
        return 0
    if args.apply_register:
        register = retention.load_register(args.apply_register)
        with db.write_session() as session:
            deleted = retention.apply_register(session, SYSTEM, register)
        print(f"Sletteregistret ({len(register)} borgere) er anvendt: {deleted} borgere slettet her.")
        return 0
    today = clock.today()
    with db.write_session() as session:
        years = retention.retention_years(session)
        due = retention.due_citizens(session, SYSTEM, today)
    if not due:
        print(f"Ingen borgere skal slettes i dag (opbevaringstid {retention.years_text(years)} år).")
        return 0
    print(retention.preview_frame(due).to_string(index=False))
    print(f"\n{len(due)} borgere skal slettes (opbevaringstid {retention.years_text(years)} år).")
    if not args.delete:
        print("Kør igen med --delete for at slette dem permanent.")
        return 0
    with db.write_session() as session:
        deleted = retention.delete_due(session, SYSTEM, today, [citizen.citizen_id for citizen in due])
    print(f"{deleted} borgere er slettet permanent.")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from fokus import fmt, report
    from fokus.actor import SYSTEM
    from fokus.periods import Period

    if not (args.docx or args.pdf):
        raise ValidationError("Angiv --docx FIL og/eller --pdf FIL.", "docx")
    db.upgrade_to_head()
    period = Period(args.start, args.end, f"Perioden {fmt.period(args.start, args.end)}")
    unit_id = None if args.unit is None else _unit_ids([args.unit])[0]
    with db.write_session() as session:
        note = report.note(session, SYSTEM, period, unit_id)
    images = report.chart_images(note)
    for target, write in ((args.docx, report.to_docx), (args.pdf, report.to_pdf)):
        if target:
            Path(target).write_bytes(write(note, images))
            print(f"Udvalgsnotatet er gemt i {target}.")
    if images is None:
        print(report.NO_CHARTS)
    return 0


def _cmd_backup(args: argparse.Namespace) -> int:
    from fokus import backup, fmt
    from fokus.actor import SYSTEM

    made = backup.backup(SYSTEM, args.file)
    print(f"Sikkerhedskopien er gemt i {made.path} ({fmt.number(made.size_bytes / 1e6, 1)} MB, revision "
          f"{made.revision}) på {fmt.number(made.seconds, 1)} sekunder.")
    print("Opbevar den lige så beskyttet som databasen: den indeholder helbredsoplysninger.")
    return 0


def _cmd_restore(args: argparse.Namespace) -> int:
    from fokus import backup, fmt
    from fokus.actor import SYSTEM

    if not args.ja:
        if not sys.stdin.isatty():
            raise ValidationError("Gendannelsen erstatter alle data i databasen: bekræft med --ja.", "ja")
        answer = input(f"Gendannelsen erstatter ALLE data i {_safe_url()} med {args.file}. Skriv ja for at fortsætte: ")
        if answer.strip().lower() != "ja":
            print("Intet er ændret.")
            return 1
    done = backup.restore(SYSTEM, args.file)
    print(f"Databasen er gendannet fra {done.path} (revision {done.backup_revision}, nu {done.revision}) "
          f"på {fmt.number(done.seconds, 1)} sekunder.")
    print(f"Sletteregistret er anvendt igen: {done.deleted_again} borgere slettet igen.")
    return 0


def _import_unit(session, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    """The unit to import into: named (created with --kommune when new), or the only one there is."""
    from sqlmodel import select

    from fokus import services
    from fokus.actor import SYSTEM
    from fokus.models import Unit

    units = {unit.name: unit.id for unit in session.exec(select(Unit)).all()}
    if args.unit is None:
        if len(units) != 1:
            raise ValidationError(f"Angiv enheden med --unit (kendte enheder: {', '.join(sorted(units)) or 'ingen'}).",
                                  "unit")
        return int(next(iter(units.values())))
    if args.unit in units:
        return int(units[args.unit])
    if not args.kommune:
        raise NotFoundError(f"Enheden {args.unit} findes ikke: angiv --kommune for at oprette den.")
    return int(services.create_unit(session, SYSTEM, name=args.unit, municipality=args.kommune).id)


class _DryRun(Exception):
    """Ends a dry run's transaction without keeping anything (the unit created for it included)."""


def _cmd_import(args: argparse.Namespace) -> int:
    from fokus import exchange
    from fokus.actor import SYSTEM

    db.upgrade_to_head()
    workbook = exchange.read_workbook(args.file)
    plan = None
    try:
        with db.write_session() as session:
            unit_id = _import_unit(session, args)
            if args.dry_run:
                plan = exchange.check(session, SYSTEM, workbook, unit_id)
                raise _DryRun
            tally = exchange.import_workbook(session, SYSTEM, workbook, unit_id)
    except _DryRun:
        assert plan is not None
        if not plan.ok:
            return _refused(plan.problems)
        print(f"Prøvekørsel, intet er gemt. Filen kan importeres: {plan.tally.summary()}.")
        return 0
    except exchange.ImportRefused as refused:
        return _refused(refused.problems)
    print(f"Importeret: {tally.summary()}.")
    return 0


def _refused(problems) -> int:  # type: ignore[no-untyped-def]
    print(f"Filen er afvist, og intet er gemt: {len(problems)} fejl.", file=sys.stderr)
    for problem in problems:
        print(f"  {problem.line()}", file=sys.stderr)
    return 1


@contextmanager
def _unit_session(unit: str | None) -> Iterator[tuple[Session, int]]:
    """The database at head, a transaction, and the unit named by --unit (or the only one)."""
    db.upgrade_to_head()
    with db.write_session() as session:
        yield session, _import_unit(session, argparse.Namespace(unit=unit, kommune=None))


def _cmd_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from fokus import exchange
    from fokus.actor import SYSTEM

    with _unit_session(args.unit) as (session, unit_id):
        sheets = exchange.export_sheets(session, SYSTEM, unit_id, args.start, args.end)
    target = Path(args.file)
    if target.suffix.lower() == ".xlsx":
        target.write_bytes(exchange.to_xlsx(sheets))
    else:
        exchange.write_csv_folder(sheets, target)
    counts = ", ".join(f"{len(frame)} {name}" for name, frame in sheets.items())
    print(f"Eksporteret til {target}: {counts}.")
    return 0


def _cmd_dst(args: argparse.Namespace) -> int:
    from pathlib import Path

    from fokus import exchange
    from fokus.actor import SYSTEM

    with _unit_session(args.unit) as (session, unit_id):
        frame = exchange.dst_monthly(session, SYSTEM, unit_id, args.year, args.month)
    target = Path(args.file)
    target.write_bytes(exchange.dst_xlsx(frame) if target.suffix.lower() == ".xlsx" else exchange.dst_csv(frame))
    print(f"{len(frame)} forløb startet eller afsluttet i {args.month:02d}.{args.year} er skrevet til {target}.")
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

    user = commands.add_parser("user", help="brugere: opret, ny adgangskode, vis")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    add = user_commands.add_parser("add", help="opret en bruger (den første administrator oprettes sådan)")
    add.add_argument("login", help="brugernavn, fx e-mailadresse")
    add.add_argument("--role", required=True, choices=["admin", "leader", "staff", "screen"])
    add.add_argument("--unit", action="append", help="enhedens navn (kan gentages; ikke nødvendig for admin)")
    add.add_argument("--password-stdin", action="store_true", help="læs adgangskoden fra standard input")
    add.add_argument("--no-password", action="store_true", help="ingen adgangskode: login via kommunens konto")
    passwd = user_commands.add_parser("passwd", help="sæt en ny adgangskode")
    passwd.add_argument("login")
    passwd.add_argument("--password-stdin", action="store_true", help="læs adgangskoden fra standard input")
    user_commands.add_parser("list", help="vis alle brugere")
    user.set_defaults(run=_cmd_user)

    kpi = commands.add_parser("kpi", help="nøgletal for en periode (DESIGN §3–4)")
    kpi.add_argument("--from", dest="start", type=_iso_date, required=True, help="første dag, ÅÅÅÅ-MM-DD")
    kpi.add_argument("--to", dest="end", type=_iso_date, required=True, help="sidste dag, ÅÅÅÅ-MM-DD")
    kpi.add_argument("--unit", default=None, help="enhedens navn (uden: alle enheder)")
    kpi.add_argument("--json", action="store_true", help="skriv JSON i stedet for en tabel")
    kpi.set_defaults(run=_cmd_kpi)

    purge = commands.add_parser("purge-audit", help="slet revisionslogposter ud over opbevaringstiden (Indstillinger)")
    purge.set_defaults(run=_cmd_purge_audit)

    keep = commands.add_parser("retention", help="borgere, hvis data skal slettes (DESIGN §8); --delete sletter dem")
    what = keep.add_mutually_exclusive_group()
    what.add_argument("--delete", action="store_true", help="slet de viste borgere permanent")
    what.add_argument("--print-register", action="store_true", help="skriv sletteregistret (hashede referencer)")
    what.add_argument("--apply-register", metavar="FIL_ELLER_DATABASE_URL",
                      help="slet igen dem, et nyere sletteregister nævner (efter en gendannelse)")
    keep.set_defaults(run=_cmd_retention)

    note = commands.add_parser("report", help="udvalgsnotat for en periode som Word og/eller PDF (små tal skjult)")
    note.add_argument("--from", dest="start", type=_iso_date, required=True, help="første dag, ÅÅÅÅ-MM-DD")
    note.add_argument("--to", dest="end", type=_iso_date, required=True, help="sidste dag, ÅÅÅÅ-MM-DD")
    note.add_argument("--unit", default=None, help="enhedens navn (uden: alle enheder)")
    note.add_argument("--docx", metavar="FIL", help="gem notatet som Word-dokument")
    note.add_argument("--pdf", metavar="FIL", help="gem notatet som PDF")
    note.set_defaults(run=_cmd_report)

    save = commands.add_parser("backup", help="tag en sikkerhedskopi af hele databasen (SQLite eller pg_dump)")
    save.add_argument("file", metavar="FIL", help="filen, sikkerhedskopien gemmes i")
    save.set_defaults(run=_cmd_backup)

    back = commands.add_parser("restore", help="gendan hele databasen fra en sikkerhedskopi (sletteregistret "
                                               "anvendes igen)")
    back.add_argument("file", metavar="FIL", help="sikkerhedskopien")
    back.add_argument("--ja", action="store_true", help="bekræft, at alle nuværende data erstattes")
    back.set_defaults(run=_cmd_restore)

    load = commands.add_parser("import", help="indlæs en udvekslingsfil (.xlsx eller mappe med CSV-filer): alt "
                                              "eller intet")
    load.add_argument("file", metavar="FIL", help="regnearket, eller mappen med CSV-filerne")
    load.add_argument("--unit", default=None, help="enhedens navn (uden: den eneste enhed)")
    load.add_argument("--kommune", default=None, help="kommunen, når enheden skal oprettes")
    load.add_argument("--dry-run", action="store_true", help="kontrollér kun filen; intet gemmes")
    load.set_defaults(run=_cmd_import)

    out = commands.add_parser("export", help="skriv enhedens data som udvekslingsfil (.xlsx, ellers en mappe med "
                                             "CSV-filer)")
    out.add_argument("file", metavar="FIL", help="FIL.xlsx, eller en mappe til CSV-filerne")
    out.add_argument("--unit", default=None, help="enhedens navn (uden: den eneste enhed)")
    out.add_argument("--from", dest="start", type=_iso_date, default=None, help="første dag, ÅÅÅÅ-MM-DD")
    out.add_argument("--to", dest="end", type=_iso_date, default=None, help="sidste dag, ÅÅÅÅ-MM-DD")
    out.set_defaults(run=_cmd_export)

    dst = commands.add_parser("dst", help="månedens starter og afslutninger (§ 82a/§ 82b) til Danmarks Statistik")
    dst.add_argument("file", metavar="FIL", help="FIL.csv eller FIL.xlsx")
    dst.add_argument("--year", type=int, required=True, help="året, fx 2026")
    dst.add_argument("--month", type=int, required=True, help="måneden, 1–12")
    dst.add_argument("--unit", default=None, help="enhedens navn (uden: den eneste enhed)")
    dst.set_defaults(run=_cmd_dst)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except FokusError as error:
        print(f"fejl: {error.message}", file=sys.stderr)
        return 2
    except Exception as error:
        if not db.unreachable(error):
            raise
        print("fejl: fokus kan ikke nå databasen lige nu (DATABASE_URL). Prøv igen om et øjeblik.", file=sys.stderr)
        return 3
