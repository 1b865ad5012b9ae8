"""Code names of the domain and their Danish labels: the one translation table.

Codes are what the database, the KPI JSON and the code use (DESIGN §1); labels are what a
person reads. Every list keeps the order in which the UI shows the codes.
"""

from __future__ import annotations

REFERRERS: dict[str, str] = {
    "socialcenter": "Socialcenter",
    "jobcenter": "Jobcenter",
    "other": "Andet",
}

TARGET_GROUPS: dict[str, str] = {
    "psychic": "Psykisk",
    "physical": "Fysisk",
    "social": "Socialt",
}

REFERRAL_STATUSES: dict[str, str] = {
    "waiting": "Venter",
    "started": "Startet",
    "rejected": "Afvist",
    "withdrawn": "Trukket tilbage",
}

# Why a referral was rejected or withdrawn: the short list of DESIGN §2.
DECISION_REASONS: dict[str, str] = {
    "outside_target_group": "Uden for målgruppen",
    "needs_other_help": "Har brug for anden hjælp",
    "declined": "Borgeren takkede nej",
    "no_contact": "Ingen kontakt til borgeren",
    "moved": "Fraflyttet kommunen",
    "other": "Andet",
}

FORMS: dict[str, str] = {
    "group": "Gruppe",
    "individual": "Individuelt",
}

END_REASONS: dict[str, str] = {
    "completed": "Gennemført",
    "dropped_out": "Afbrudt",
    "moved": "Flyttet",
    "other": "Andet",
}

NEXT_STEPS: dict[str, str] = {
    "none": "Ingen",
    "sel85": "§ 85",
    "other_sel": "Anden SEL-indsats",
    "job": "Job",
    "education": "Uddannelse",
    "other": "Andet",
}

# Next steps that count as a further measure under serviceloven (DESIGN §3).
FURTHER_MEASURES: tuple[str, ...] = ("sel85", "other_sel")

ROLES: dict[str, str] = {
    "admin": "Administrator",
    "leader": "Leder",
    "staff": "Medarbejder",
    "screen": "Mødeskærm",
}

ORS_ITEMS: dict[str, str] = {
    "individual": "Individuelt",
    "interpersonal": "Nære relationer",
    "social": "Socialt",
    "overall": "Generelt",
}

# DESIGN §6: the four lines of the ORS, with what each is about.
ORS_EXPLANATIONS: dict[str, str] = {
    "individual": "personligt velbefindende",
    "interpersonal": "familie, nære venner",
    "social": "arbejde, skole, venskaber, fællesskaber",
    "overall": "generel følelse af velbefindende",
}

# Reliable-change classes of a score against the course's first (fokus.ors.reliable_change).
ORS_CHANGES: dict[str, str] = {
    "first": "Første måling",
    "improved": "Pålidelig fremgang",
    "unchanged": "Ingen pålidelig ændring",
    "deteriorated": "Pålidelig forværring",
}

SRS_ITEMS: dict[str, str] = {
    "relation": "Relation",
    "goals": "Mål og emner",
    "approach": "Tilgang",
    "overall": "Generelt",
}


# The flags of a course (fokus.ors: the rule behind each). The labels name the default
# targets (16 weeks, 6 months, RCI); the rules use the unit's own.
FLAGS: dict[str, str] = {
    "over_weeks": "Over 16 uger",
    "near_max_months": "Under 4 uger til 6 måneder",
    "over_max_months": "Over 6 måneder",
    "no_recent_ors": "Ingen ORS i 4 uger",
    "reliable_deterioration": "Pålidelig forværring",
    "no_improvement": "Ingen pålidelig fremgang efter 6 målinger",
    "srs_low": "SRS under 36",
    "srs_drop": "SRS faldet siden sidst",
}


def label(table: dict[str, str], code: str | None) -> str:
    """The Danish label of a code, or an empty string for no code."""
    if code is None:
        return ""
    return table.get(code, code)


def group_or_form(form: str, group_name: str | None) -> str:
    """Where a course runs, in one word: its group, or its form when it is on none."""
    return group_name or ("Gruppe, intet hold" if form == "group" else label(FORMS, form))


# The kinds of use in the audit log (fokus.audit.ACTIONS) and the tables it names.
AUDIT_ACTIONS: dict[str, str] = {
    "viewed": "Set",
    "searched": "Søgt",
    "created": "Oprettet",
    "changed": "Ændret",
    "deleted": "Slettet",
    "exported": "Udtrukket",
    "login": "Logget ind",
    "login_failed": "Mislykket login",
    "logout": "Logget ud",
    "denied": "Adgang nægtet",
    "purged": "Gamle logposter slettet",
}

AUDIT_TABLES: dict[str, str] = {
    "unit": "Enhed",
    "citizen": "Borger",
    "referral": "Henvisning",
    "course": "Forløb",
    "group": "Hold",
    "groupsession": "Holdmøde",
    "attendance": "Fremmøde",
    "staff": "Medarbejder",
    "user": "Bruger",
    "orsscore": "ORS-måling",
    "srsscore": "SRS-måling",
    "networkmeeting": "Netværksmøde",
    "target": "Mål",
    "setting": "Indstilling",
    "unitsetting": "Enhedens indstilling",
    "auditevent": "Revisionslog",
    "selfreportsession": "Selvregistrering",
    "database": "Hele databasen",
}

# The dashboard's period picker (fokus.periods).
PERIOD_KINDS: dict[str, str] = {
    "rolling12": "Seneste 12 måneder",
    "year": "År",
    "quarter": "Kvartal",
    "month": "Måned",
    "custom": "Selvvalgt",
}
