"""What the metric tests share: building data through the services, and §3 read in plain Python.

`plain_reading` is DESIGN §3 read literally over whole tables, with the dashboard's filters
applied as `fokus.metrics.Filters` describes them: slow and obvious, for comparison with the SQL
of `fokus.metrics.compute_kpis` only. It borrows nothing from `fokus.metrics` but the Filters
type: its own targets lookup, its own ORS ordering, ORS figures in points rather than tenths.
"""

from __future__ import annotations

import statistics
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, select

from fokus import codes, db, metrics, services
from fokus.actor import SYSTEM, Actor
from fokus.clock import add_months
from fokus.models import Course, NetworkMeeting, OrsScore, Referral, Staff, Target

JAN_1, DEC_31 = date(2024, 1, 1), date(2024, 12, 31)
NO_FILTERS = metrics.Filters()


# ---------------------------------------------------------------------------------------
# Building data through the services

def refer(session: Session, unit_id: int, ref: str, received: date, **fields: Any) -> Referral:
    fields.setdefault("referrer", "socialcenter")
    fields.setdefault("target_group", "psychic")
    return services.register_referral(
        session, SYSTEM, unit_id=unit_id, citizen_ref=ref, birth_year=1980, received=received, **fields
    )


def score(session: Session, course: Course, day: date, points: float, session_no: int | None = None) -> OrsScore:
    """An ORS measurement with this total, spread over the four items in whole tenths."""
    tenths = round(points * 10)
    items = [tenths // 4 + (1 if i < tenths % 4 else 0) for i in range(4)]
    return services.add_ors(
        session, SYSTEM, course_id=course.id, day=day, items=dict(zip(codes.ORS_ITEMS, items, strict=True)),
        session_no=session_no,
    )


def course(
    session: Session,
    unit_id: int,
    ref: str,
    start: date,
    *,
    received: date | None = None,
    form: str = "group",
    contact_person_id: int | None = None,
    end: date | None = None,
    next_step: str | None = None,
    ors: tuple[tuple[date, float], ...] = (),
    **referral_fields: Any,
) -> Course:
    referral = refer(session, unit_id, ref, received or start, **referral_fields)
    started = services.start_course(
        session, SYSTEM, referral_id=referral.id, start=start, form=form, contact_person_id=contact_person_id
    )
    for day, points in ors:
        score(session, started, day, points)
    if end is not None:
        services.end_course(session, SYSTEM, course_id=started.id, end=end, end_reason="completed", next_step=next_step)
    return started


def ended(session: Session, unit_id: int, ref: str, first: float, last: float, **fields: Any) -> Course:
    """A course ended in 2024 with two ORS measurements."""
    return course(
        session, unit_id, ref, date(2024, 2, 1), end=date(2024, 5, 1),
        ors=((date(2024, 2, 1), first), (date(2024, 4, 30), last)), **fields,
    )


def kpis(
    start: date = JAN_1,
    end: date = DEC_31,
    unit_ids: list[int] | None = None,
    actor: Actor = SYSTEM,
    filters: metrics.Filters = NO_FILTERS,
) -> dict[str, Any]:
    with db.read_session() as session:
        return metrics.compute_kpis(session, actor, start, end, unit_ids, filters)


def second_unit(name: str = "FOKUS Unge") -> int:
    with db.write_session() as session:
        return services.create_unit(session, SYSTEM, name=name, municipality="Testkommune").id


# ---------------------------------------------------------------------------------------
# §3 in plain Python

def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _ors_total(score: OrsScore) -> float:
    return (score.individual + score.interpersonal + score.social + score.overall) / 10


def _rci_and_cutoff(targets: list[Target], day: date) -> tuple[float, float]:
    """The unit's targets in force on `day` (the latest valid_from on or before it), else 5 and 25."""
    in_force = [t for t in targets if t.valid_from <= day]
    if not in_force:
        return 5.0, 25.0
    latest = max(in_force, key=lambda t: t.valid_from)
    return latest.rci, latest.ors_cutoff


def plain_reading(start: date, end: date, unit: int, filters: metrics.Filters = NO_FILTERS) -> dict[str, Any]:
    """§3 for one unit over [start, end], read literally over whole tables, with the filters."""
    with db.read_session() as s:
        all_referrals = {r.id: r for r in s.exec(select(Referral)).all() if r.unit_id == unit}
        all_courses = [c for c in s.exec(select(Course)).all() if c.unit_id == unit]
        scores = s.exec(select(OrsScore)).all()
        meetings = s.exec(select(NetworkMeeting)).all()
        all_staff = [m for m in s.exec(select(Staff)).all() if m.unit_id == unit]
        targets = [t for t in s.exec(select(Target)).all() if t.unit_id == unit]
    f = filters

    def referral_counts(r: Referral) -> bool:
        return (not f.referrers or r.referrer in f.referrers) and (
            not f.target_groups or r.target_group in f.target_groups
        )

    def course_counts(c: Course) -> bool:
        return (
            referral_counts(all_referrals[c.referral_id])
            and (not f.forms or c.form in f.forms)
            and (not f.staff_ids or c.contact_person_id in f.staff_ids)
        )

    refs = [r for r in all_referrals.values() if referral_counts(r)]
    courses = [c for c in all_courses if course_counts(c)]
    staff = [m for m in all_staff if not f.staff_ids or m.id in f.staff_ids]

    in_period = [r for r in refs if start <= r.received <= end]
    started = [c for c in courses if start <= c.start <= end]
    done = [c for c in courses if c.end is not None and start <= c.end <= end]
    active = [c for c in courses if c.start <= end and (c.end is None or c.end > end)]
    weeks = [(c.end - c.start).days / 7 for c in done]
    steps = [c.next_step for c in done if c.next_step]
    pairs = []
    for c in done:
        own = sorted((o for o in scores if o.course_id == c.id), key=lambda o: (o.date, o.session_no, o.id))
        if len(own) >= 2:
            pairs.append((_ors_total(own[0]), _ors_total(own[-1])))
    firsts, lasts = [p[0] for p in pairs], [p[1] for p in pairs]
    change = [b - a for a, b in pairs]
    rci, cutoff = _rci_and_cutoff(targets, end)
    base = [(a, b) for a, b in pairs if a < cutoff]
    counted_ids = {c.id for c in courses}
    met = {m.course_id for m in meetings}

    return {
        "referrals": len(in_period),
        "by_referrer": {code: sum(r.referrer == code for r in in_period) for code in codes.REFERRERS},
        "by_target_group": {code: sum(r.target_group == code for r in in_period) for code in codes.TARGET_GROUPS},
        "from_sel85": sum(r.from_sel85 for r in in_period),
        "courses_started": len(started),
        "courses_ended": len(done),
        "active_at_end": len(active),
        "waiting_at_end": sum(r.received <= end and (r.decided is None or r.decided > end) for r in refs),
        "capacity": sum(m.max_active_courses for m in staff if m.active),
        "intake_12m": sum(end - timedelta(days=364) <= c.start <= end for c in courses),
        "group_share": _share(sum(c.form == "group" for c in started), len(started)),
        "median_wait_days": statistics.median([(c.start - all_referrals[c.referral_id].received).days
                                               for c in started]) if started else None,
        "median_weeks": statistics.median(weeks) if weeks else None,
        "share_12_16_weeks": _share(sum(12 <= w <= 16 for w in weeks), len(weeks)),
        "over_6_months": sum(c.end > add_months(c.start, 6) for c in done)
        + sum(add_months(c.start, 6) < end for c in active),
        "ors_pairs": len(pairs),
        "ors_progress_pct": (statistics.fmean(lasts) - statistics.fmean(firsts)) / statistics.fmean(firsts) * 100
        if pairs and statistics.fmean(firsts) else None,
        "reliable_improvement_share": _share(sum(d >= rci - 1e-9 for d in change), len(pairs)),
        "reliable_deterioration_share": _share(sum(d <= -rci + 1e-9 for d in change), len(pairs)),
        "clinically_significant_share": _share(sum(b >= cutoff and b - a >= rci - 1e-9 for a, b in base), len(base)),
        "effect_size": statistics.fmean(change) / statistics.stdev(firsts)
        if len(pairs) >= 2 and statistics.stdev(firsts) else None,
        "next_step_share": {code: _share(steps.count(code), len(steps)) for code in codes.NEXT_STEPS},
        "further_measure_share": _share(sum(step in codes.FURTHER_MEASURES for step in steps), len(steps)),
        "network_meetings": sum(start <= m.date <= end for m in meetings if m.course_id in counted_ids),
        "courses_with_network_meeting": sum(c.id in met for c in done),
    }


def flat(figures: dict[str, Any]) -> dict[str, Any]:
    """Breakdowns as `key.code` entries (pytest.approx compares flat dicts only)."""
    flattened: dict[str, Any] = {}
    for key, value in figures.items():
        if isinstance(value, dict):
            flattened |= {f"{key}.{code}": share for code, share in value.items()}
        else:
            flattened[key] = value
    return flattened
