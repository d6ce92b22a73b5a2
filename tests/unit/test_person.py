"""The beneficiary registry: registration, death, income, status, account, employment."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest

from disburse.domain.errors import ConflictError, InvalidInputError
from disburse.domain.identity import mask_resident_id
from disburse.domain.meta import Role
from disburse.domain.months import Month
from disburse.domain.person import (
    LabourCapacity,
    Person,
    PovertyStatus,
    check_account,
    check_registration,
)
from disburse.domain.regions import check_region_code
from tests import factories as f

if TYPE_CHECKING:
    from disburse.application.ledger import Ledger

FEB = Month(2024, 2)
MAR = Month(2024, 3)


# -- registration (application) -------------------------------------------------------------


def test_registering_the_same_resident_id_twice_names_the_same_person(
    memory_ledger: Ledger,
) -> None:
    rid = f.resident_id()
    first = memory_ledger.people.register(
        f.clerk(),
        resident_id=rid,
        name="张三",
        home_region=f.COUNTY,
        poverty_status=PovertyStatus.LIFTED,
        labour_capacity=LabourCapacity.FULL,
        household_id="H-1",
        bank_account="6222020200001234",
    )
    second = memory_ledger.people.register(
        f.clerk(),
        resident_id=rid,
        name="张三",
        home_region=f.COUNTY,
        poverty_status=PovertyStatus.LIFTED,
        labour_capacity=LabourCapacity.FULL,
        household_id="H-1",
        bank_account="6222020200001234",
    )

    assert first.created
    assert not second.created
    assert second.person_id == first.person_id
    assert len(f.stored_events(memory_ledger, first.person_id)) == 1


def test_a_resident_id_with_a_lower_case_x_names_the_same_person_as_with_upper_case(
    memory_ledger: Ledger,
) -> None:
    rid = next(rid for rid in (f.resident_id(serial=n) for n in range(1000)) if rid.endswith("X"))

    upper = f.register(memory_ledger, rid=rid)
    lower = f.register(memory_ledger, rid=rid[:17] + "x")

    assert lower == upper
    assert memory_ledger.people.id_for(rid.lower()) == upper


def test_a_registered_person_keeps_a_masked_id_and_the_birth_date_from_the_id(
    memory_ledger: Ledger,
) -> None:
    rid = f.resident_id(born=date(1975, 11, 3))

    person = memory_ledger.people.get(f.register(memory_ledger, rid=rid))

    assert person.resident_id_masked == mask_resident_id(rid)
    assert person.birth_date == date(1975, 11, 3)


def test_the_person_id_and_match_key_are_a_keyed_hash_not_the_raw_id(
    memory_ledger: Ledger,
) -> None:
    rid = f.resident_id()

    person = memory_ledger.people.get(f.register(memory_ledger, rid=rid))

    assert person.id_hash == memory_ledger.keys.resident_id_hash(rid)
    assert rid not in person.id_hash
    assert person.id == Person.create_id(person.id_hash)


def test_registering_an_invalid_resident_id_is_refused_before_anything_is_stored(
    memory_ledger: Ledger,
) -> None:
    rid = f.resident_id()
    wrong_check = rid[:17] + ("1" if rid[17] != "1" else "2")

    with pytest.raises(InvalidInputError) as caught:
        f.register(memory_ledger, rid=wrong_check)
    assert caught.value.rule_id == "ID-RESIDENT"


@pytest.mark.parametrize(
    ("fields", "rule_id", "field"),
    [
        ({"name": "  "}, "PERSON-NAME", "name"),
        ({"name": "名" * 65}, "PERSON-NAME", "name"),
        ({"home_region": "2202"}, "REGION-CODE", "home_region"),
        ({"home_region": "990101"}, "REGION-CODE", "home_region"),
        ({"household_id": " "}, "PERSON-HOUSEHOLD", "household_id"),
        ({"bank_account": "1234567"}, "PERSON-ACCOUNT", "bank_account"),
        ({"bank_account": "6222-0202-0000"}, "PERSON-ACCOUNT", "bank_account"),
    ],
)
def test_a_registration_with_an_invalid_field_is_refused_naming_the_field(
    fields: dict[str, str], rule_id: str, field: str
) -> None:
    valid = {
        "name": "张三",
        "home_region": f.COUNTY,
        "household_id": "H-1",
        "bank_account": "6222020200001234",
    }

    with pytest.raises(InvalidInputError) as caught:
        check_registration(**(valid | fields))
    assert caught.value.rule_id == rule_id
    assert caught.value.field == field


def test_a_registration_is_normalised_by_trimming_name_and_household() -> None:
    assert check_registration(
        name=" 张三 ", home_region=f.COUNTY, household_id=" H-1 ", bank_account="6222020200001234"
    ) == ("张三", f.COUNTY, "H-1", "6222020200001234")


# -- death ----------------------------------------------------------------------------------


def test_a_person_is_alive_through_the_month_of_death_and_not_after() -> None:
    person = f.domain_person()

    person.record_death(died_on=date(2024, 2, 10), evidence="civil registry", meta=f.meta())

    assert person.is_deceased
    assert person.alive_in(FEB)
    assert not person.alive_in(MAR)


def test_a_second_death_record_is_refused_with_person_death() -> None:
    person = f.domain_person()
    person.record_death(died_on=date(2024, 2, 10), evidence="civil registry", meta=f.meta())

    with pytest.raises(ConflictError) as caught:
        person.record_death(died_on=date(2024, 3, 1), evidence="family", meta=f.meta())
    assert caught.value.rule_id == "PERSON-DEATH"
    assert person.died_on == date(2024, 2, 10)


def test_a_death_before_birth_is_refused_with_person_death() -> None:
    person = f.domain_person(rid=f.resident_id(born=date(1980, 5, 17)))

    with pytest.raises(InvalidInputError) as caught:
        person.record_death(died_on=date(1980, 5, 16), evidence="?", meta=f.meta())
    assert caught.value.rule_id == "PERSON-DEATH"
    assert not person.is_deceased


# -- income ---------------------------------------------------------------------------------


def test_reported_income_is_kept_per_month_and_the_latest_report_counts() -> None:
    person = f.domain_person()

    person.report_income(month=FEB, amount_fen=80_000, source="flexible work", meta=f.meta())
    person.report_income(month=FEB, amount_fen=90_000, source="correction", meta=f.meta())
    person.report_income(month=MAR, amount_fen=0, source="none", meta=f.meta())

    assert person.income_in(FEB) == 90_000
    assert person.income_in(MAR) == 0
    assert person.income_in(Month(2024, 4)) is None


def test_a_negative_income_is_refused() -> None:
    person = f.domain_person()

    with pytest.raises(InvalidInputError) as caught:
        person.report_income(month=FEB, amount_fen=-1, source="?", meta=f.meta())
    assert caught.value.rule_id == "MONEY-FEN"
    assert person.income_in(FEB) is None


# -- status, account, employment ------------------------------------------------------------


def test_a_status_change_updates_only_the_facts_given() -> None:
    person = f.domain_person(status=PovertyStatus.LIFTED, labour=LabourCapacity.WEAK)

    person.change_status(
        poverty_status=PovertyStatus.MONITORED, effective_on=date(2024, 2, 1), meta=f.meta()
    )

    assert person.poverty_status is PovertyStatus.MONITORED
    assert person.labour_capacity is LabourCapacity.WEAK
    assert not person.public_payroll


def test_a_status_change_with_nothing_to_change_is_refused() -> None:
    person = f.domain_person()

    with pytest.raises(InvalidInputError) as caught:
        person.change_status(effective_on=date(2024, 2, 1), meta=f.meta())
    assert caught.value.rule_id == "PERSON-STATUS"


def test_changing_to_the_account_already_on_record_is_refused() -> None:
    person = f.domain_person(account="6222020200001234")

    with pytest.raises(ConflictError) as caught:
        person.change_bank_account(bank_account="6222020200001234", meta=f.meta())
    assert caught.value.rule_id == "PERSON-ACCOUNT"


def test_a_malformed_new_account_is_refused_and_the_old_one_kept() -> None:
    person = f.domain_person(account="6222020200001234")

    with pytest.raises(InvalidInputError) as caught:
        person.change_bank_account(bank_account="12ab", meta=f.meta())
    assert caught.value.rule_id == "PERSON-ACCOUNT"
    assert person.bank_account == "6222020200001234"


def test_employment_in_an_unknown_province_is_refused() -> None:
    person = f.domain_person()

    with pytest.raises(InvalidInputError) as caught:
        person.record_employment(
            province_code="99", employer="某公司", started_on=date(2024, 1, 1), meta=f.meta()
        )
    assert caught.value.rule_id == "REGION-CODE"
    assert caught.value.field == "province_code"


def test_employment_without_an_employer_is_refused() -> None:
    person = f.domain_person()

    with pytest.raises(InvalidInputError) as caught:
        person.record_employment(
            province_code="44", employer=" ", started_on=date(2024, 1, 1), meta=f.meta()
        )
    assert caught.value.rule_id == "PERSON-EMPLOYMENT"


def test_employment_is_recorded_with_its_province_employer_and_start() -> None:
    person = f.domain_person()

    person.record_employment(
        province_code="44", employer=" 东莞某厂 ", started_on=date(2024, 3, 1), meta=f.meta()
    )

    assert person.employments == [
        {
            "province_code": "44",
            "employer": "东莞某厂",
            "started_on": date(2024, 3, 1),
            "ended_on": None,
            "request_id": "req-1",
        }
    ]


# -- events ---------------------------------------------------------------------------------


def test_every_person_event_carries_who_did_it() -> None:
    person = f.domain_person()
    meta = f.meta("clerk-7", Role.CLERK)
    person.report_income(month=FEB, amount_fen=1, source="x", meta=meta)
    person.change_bank_account(bank_account="6222020200009999", meta=meta)
    person.record_death(died_on=date(2024, 5, 1), evidence="registry", meta=meta)

    events = person.collect_events()

    assert f.names_of(events) == [
        "Registered",
        "IncomeReported",
        "BankAccountChanged",
        "DeathRecorded",
    ]
    for event in events[1:]:
        assert f.meta_of(event) == meta


def test_a_person_rebuilt_from_their_events_has_the_same_facts() -> None:
    person = f.domain_person()
    person.report_income(month=FEB, amount_fen=5_000, source="x", meta=f.meta())
    person.change_status(public_payroll=True, effective_on=date(2024, 3, 1), meta=f.meta())

    rebuilt = f.replay(Person, person.collect_events())

    assert rebuilt.incomes == {"2024-02": 5_000}
    assert rebuilt.public_payroll
    assert rebuilt.resident_id_masked == person.resident_id_masked


def test_a_region_code_or_account_in_full_width_digits_is_rejected() -> None:
    with pytest.raises(InvalidInputError) as region:
        check_region_code("22０221")
    assert region.value.rule_id == "REGION-CODE"
    with pytest.raises(InvalidInputError) as account:
        check_account("６２２２０２０２００１１２２３３")
    assert account.value.rule_id == "PERSON-ACCOUNT"


def test_a_registration_as_unemployed_ends_the_work_on_record_before_it_once() -> None:
    """PERSON-UNEMPLOYMENT: the same registration again is refused (an import skips it)."""
    person = f.domain_person()
    person.record_employment(
        province_code="44", employer="东莞某厂", started_on=date(2024, 3, 1), meta=f.meta()
    )

    person.register_unemployment(registered_on=date(2024, 5, 2), evidence="list", meta=f.meta())

    assert person.employments[0]["ended_on"] == date(2024, 5, 2)
    with pytest.raises(ConflictError, match="PERSON-UNEMPLOYMENT"):
        person.register_unemployment(registered_on=date(2024, 5, 2), evidence="list", meta=f.meta())
