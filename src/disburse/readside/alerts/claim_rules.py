"""FRAUD-* rules about claims: transport grants and subsidy applications."""

from __future__ import annotations

from typing import TYPE_CHECKING

from disburse.domain.money import yuan
from disburse.readside.alerts.findings import Finding
from disburse.readside.alerts.post_rules import LIVE_SOURCE

if TYPE_CHECKING:
    from disburse.domain.rules import PolicyDocument
    from disburse.readside.db import Row, Tx

LIVE_GRANT = LIVE_SOURCE.format(src="g.grant_id")
LIVE_APPLICATION = LIVE_SOURCE.format(src="a.application_id")


def duplicate_grant(tx: Tx, grant: Row) -> list[Finding]:
    """FRAUD-DUP-GRANT: two live transport grants for one person and year (any county)."""
    rows = tx.all(
        "SELECT g.grant_id, g.region_code, g.position FROM alert_grants g"
        f" WHERE g.person_id = :p AND g.period = :period AND {LIVE_GRANT} ORDER BY g.position",
        {"p": grant["person_id"], "period": grant["period"]},
    )
    if len(rows) < 2:  # noqa: PLR2004 - a pair
        return []
    return [
        Finding(
            "FRAUD-DUP-GRANT",
            "person",
            grant["person_id"],
            f"grant:{grant['person_id']}:{grant['period']}",
            grant["region_code"],
            grant["person_id"],
            f"{len(rows)} transport grants for {grant['period']}: "
            + ", ".join(r["grant_id"] for r in rows),
            tuple(int(r["position"]) for r in rows),
            _regions(rows),
        )
    ]


def duplicate_application(tx: Tx, app: Row, policy: PolicyDocument | None) -> list[Finding]:
    """FRAUD-DUP-GRANT for programmes paid once a year or once ever per beneficiary.

    Mirrors the limits enforced at submission: each beneficiary (or the applicant, for an
    application without beneficiaries) counts once per programme and year (or ever).
    Where a programme allows one applicant per beneficiary (brokers), two applicants are
    FRAUD-DUP-BROKER instead, and only the same applicant twice is a duplicate here.
    """
    rules = policy.programmes.get(app["programme"]) if policy else None
    if rules is None or (rules.frequency == "none" and not rules.one_applicant_per_beneficiary):
        return []
    same_year = "" if rules.frequency == "once_ever" else " AND a.year = :year"
    same_applicant = " AND a.applicant_id = :who" if rules.one_applicant_per_beneficiary else ""
    period = "ever" if rules.frequency == "once_ever" else app["year"]
    found = []
    for subject in _counted_people(tx, app):
        rows = tx.all(
            "SELECT a.application_id, a.region_code, a.position FROM alert_applications a"
            " JOIN alert_app_people ap ON ap.application_id = a.application_id"
            f" WHERE ap.person_id = :p AND a.programme = :programme{same_year}{same_applicant}"
            f" AND {LIVE_APPLICATION} ORDER BY a.position",
            {
                "p": subject["person_id"],
                "programme": app["programme"],
                "year": app["year"],
                "who": app["applicant_id"],
            },
        )
        if len(rows) < 2:  # noqa: PLR2004 - a pair
            continue
        kind, person = _subject(app, subject["person_id"])
        found.append(
            Finding(
                "FRAUD-DUP-GRANT",
                kind,
                subject["person_id"],
                f"application:{subject['person_id']}:{app['programme']}:{period}",
                app["region_code"],
                person,
                f"{len(rows)} {app['programme']} applications for one beneficiary "
                f"({rules.frequency.replace('_', ' ')})",
                tuple(int(r["position"]) for r in rows),
                _regions(rows),
            )
        )
    return found


def _subject(app: Row, subject_id: str) -> tuple[str, str | None]:
    """Whom a finding is about: a person, or the applying organisation itself."""
    if subject_id == app["applicant_id"] and app["applicant_kind"] != "person":
        return "organisation", None
    return "person", subject_id


def duplicate_broker(tx: Tx, app: Row) -> list[Finding]:
    """FRAUD-DUP-BROKER: one worker claimed by two brokers in the same year."""
    if app["applicant_kind"] != "broker":
        return []
    people = _counted_people(tx, app)
    found = []
    for person in people:
        rows = tx.all(
            "SELECT a.application_id, a.applicant_id, a.region_code, a.position"
            " FROM alert_applications a"
            " JOIN alert_app_people ap ON ap.application_id = a.application_id"
            " WHERE ap.person_id = :p AND a.applicant_kind = 'broker' AND a.year = :year"
            f" AND {LIVE_APPLICATION} ORDER BY a.position",
            {"p": person["person_id"], "year": app["year"]},
        )
        brokers = {r["applicant_id"] for r in rows}
        if len(brokers) > 1:
            found.append(
                Finding(
                    "FRAUD-DUP-BROKER",
                    "person",
                    person["person_id"],
                    f"broker:{person['person_id']}:{app['year']}",
                    app["region_code"],
                    person["person_id"],
                    f"the worker is claimed by {len(brokers)} brokers in {app['year']}",
                    tuple(int(r["position"]) for r in rows),
                    _regions(rows),
                )
            )
    return found


def _regions(rows: list[Row]) -> tuple[str, ...]:
    """The regions of the claims a finding rests on."""
    return tuple(sorted({str(r["region_code"]) for r in rows}))


def _counted_people(tx: Tx, app: Row) -> list[Row]:
    """The people an application counts for: its beneficiaries, or a person applicant."""
    return tx.all(
        "SELECT person_id FROM alert_app_people WHERE application_id = :a ORDER BY person_id",
        {"a": app["application_id"]},
    )


def same_province(grant: Row, person: Row | None) -> list[Finding]:
    """FRAUD-SAME-PROVINCE: a transport grant for work in the home province."""
    if person is None or person["home_region"][:2] != grant["work_province"]:
        return []
    return [
        Finding(
            "FRAUD-SAME-PROVINCE",
            "grant",
            grant["grant_id"],
            f"province:{grant['grant_id']}",
            grant["region_code"],
            grant["person_id"],
            f"the workplace province {grant['work_province']} is the home province",
            (int(grant["position"]), int(person["position"])),
        )
    ]


def over_cap(tx: Tx, app: Row, policy: PolicyDocument | None) -> list[Finding]:
    """FRAUD-OVER-CAP: a person's months or amount under one programme above its limits.

    Summed over the applications the programme's frequency counts together: all of them
    (once ever), those of the year (once a year), or the application alone (no limit).
    """
    rules = policy.programmes.get(app["programme"]) if policy else None
    if rules is None or (rules.amount.max_months is None and rules.amount.cap_fen is None):
        return []
    scope = {  # the limits hold over what the programme's frequency counts together
        "once_ever": "",
        "once_per_year": " AND a.year = :year",
        "none": " AND a.application_id = :id",
    }[rules.frequency]
    people = _counted_people(tx, app)
    found = []
    for person in people:
        rows = tx.all(
            "SELECT a.months, a.per_person_fen, a.region_code, a.position"
            " FROM alert_applications a"
            " JOIN alert_app_people ap ON ap.application_id = a.application_id"
            f" WHERE ap.person_id = :p AND a.programme = :programme{scope}"
            f" AND {LIVE_APPLICATION} ORDER BY a.position",
            {
                "p": person["person_id"],
                "programme": app["programme"],
                "year": app["year"],
                "id": app["application_id"],
            },
        )
        months = sum(int(r["months"]) for r in rows)
        amount = sum(int(r["per_person_fen"]) for r in rows)
        evidence = tuple(int(r["position"]) for r in rows)
        limit_months, cap = rules.amount.max_months, rules.amount.cap_fen
        if limit_months is not None and months > limit_months:
            summary = f"{months} months of {app['programme']}; the limit is {limit_months}"
        elif cap is not None and amount > cap:
            summary = f"{yuan(amount)} yuan of {app['programme']}; the cap is {yuan(cap)} yuan"
        else:
            continue
        kind, person_id = _subject(app, person["person_id"])
        found.append(
            Finding(
                "FRAUD-OVER-CAP",
                kind,
                person["person_id"],
                f"cap:{person['person_id']}:{app['programme']}",
                app["region_code"],
                person_id,
                summary,
                evidence,
                _regions(rows),
            )
        )
    return found
