"""What an event shows outside the ledger: its fields, without personal data."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from disburse.domain.catalogue import PolicyCatalogue
from disburse.domain.meta import Role
from disburse.domain.organisation import Organisation, OrganisationKind
from disburse.domain.site import Site, SiteKind
from disburse.policy.default import national
from disburse.readside.base import jsonable
from disburse.readside.redact import (
    DROPPED,
    ENVELOPE,
    PERSON_NAME_FIELDS,
    _redacted,
    mask_account,
    mask_birth_date,
    mask_name,
    public_fields,
    public_payload,
)
from tests import factories as f

RID = f.resident_id(serial=321)
ACCOUNT = "6222020212345678"


def test_a_registration_shows_no_resident_id_no_full_name_and_no_full_account() -> None:
    [registered] = f.domain_person(rid=RID, account=ACCOUNT).collect_events()

    payload = public_payload(registered)

    text = json.dumps(payload, ensure_ascii=False)
    assert RID not in text
    assert f"hash-{RID}" not in text
    assert "测试人" not in text
    assert ACCOUNT not in text
    assert "resident_id" not in payload
    assert "id_hash" not in payload
    assert payload["name"] == "测**"
    assert payload["bank_account"] == "************5678"


def test_a_registration_keeps_its_other_fields_as_json_values() -> None:
    [registered] = f.domain_person(rid=RID, account=ACCOUNT).collect_events()

    payload = public_payload(registered)

    assert payload["resident_id_masked"] == f"{RID[:4]}**********{RID[-4:]}"
    assert payload["birth_date"] == "1980-**-**"
    assert payload["home_region"] == f.COUNTY
    assert payload["poverty_status"] == "lifted"
    assert payload["labour_capacity"] == "weak"
    assert payload["household_id"] == f"H-{RID[-6:]}"
    assert payload["public_payroll"] is False
    json.dumps(payload)  # JSON-ready throughout


def test_the_masked_id_region_and_birth_date_together_do_not_spell_out_the_resident_id() -> None:
    [registered] = f.domain_person(rid=RID).collect_events()

    payload = public_payload(registered)

    assert payload["home_region"] == RID[:6]
    assert str(payload["resident_id_masked"]).endswith(RID[-4:])
    assert RID[6:14] not in json.dumps(payload)  # the birth date: only its year is shown


def test_the_envelope_is_not_part_of_the_payload() -> None:
    [registered] = f.domain_person().collect_events()

    payload = public_payload(registered)

    for envelope in ("meta", "originator_id", "originator_version", "timestamp"):
        assert envelope not in payload
    assert "originator_topic" not in payload


def test_a_changed_bank_account_is_masked_to_its_last_four_digits() -> None:
    person = f.domain_person()
    person.change_bank_account(bank_account="6228480099998888", meta=f.meta())
    changed = person.collect_events()[-1]

    assert public_payload(changed) == {"bank_account": "************8888"}


def test_an_organisation_keeps_its_name_and_credit_code_but_not_its_full_account() -> None:
    code = f.credit_code(serial=7)
    org = Organisation.register(
        credit_code=code,
        kind=OrganisationKind.EMPLOYER,
        name="某人力资源公司",
        region_code=f.COUNTY,
        bank_account="6228480012345678",
        meta=f.meta(),
    )
    [registered] = org.collect_events()

    payload = public_payload(registered)

    assert payload["name"] == "某人力资源公司"
    assert payload["credit_code"] == code
    assert payload["bank_account"] == "************5678"


def test_a_site_keeps_its_name() -> None:
    site = Site.register(
        region_code=f.COUNTY,
        kind=SiteKind.VILLAGE,
        name="东风村",
        population=1200,
        lifted=True,
        meta=f.meta(),
    )

    assert public_payload(site.collect_events()[0])["name"] == "东风村"


def test_a_published_catalogue_document_is_shown_whole() -> None:
    catalogue = PolicyCatalogue(meta=f.meta("admin-1", Role.ADMIN))
    document = national()
    catalogue.publish(document, meta=f.meta("admin-1", Role.ADMIN))
    published = catalogue.collect_events()[-1]

    assert public_payload(published) == {"document": document.model_dump(mode="json")}


class Claim:
    """A made-up aggregate: new events are covered by field name alone."""

    @dataclass(frozen=True)
    class Filed:
        """A claim was filed (by whom, paid to which account)."""

        originator_id: uuid.UUID
        person_id: uuid.UUID
        name: str
        account: str
        filed_on: date
        details: dict[str, Any] = field(default_factory=dict)


def test_personal_fields_of_any_event_are_dropped_or_masked_even_when_nested() -> None:
    person_id = uuid.uuid4()
    filed = Claim.Filed(
        originator_id=uuid.uuid4(),
        person_id=person_id,
        name="某合作社",
        account=ACCOUNT,
        filed_on=date(2024, 3, 1),
        details={"applicant": {"resident_id": RID, "bank_account": ACCOUNT, "months": 3}},
    )

    payload = public_payload(filed)

    assert payload == {
        "person_id": str(person_id),
        "name": "某合作社",  # not a Person event: not a natural person's name
        "account": "************5678",
        "filed_on": "2024-03-01",
        "details": {"applicant": {"bank_account": "************5678", "months": 3}},
    }


def test_masks_keep_only_what_identifies_nobody() -> None:
    assert mask_account("6222020212345678") == "************5678"
    assert mask_account("1234") == "****"
    assert mask_name("张三丰") == "张**"
    assert mask_name("张三") == "张**"
    assert mask_name("") == ""
    assert mask_birth_date("1980-05-17") == "1980-**-**"


class Colour(Enum):
    RED = "red"
    CODE = 7


FIELD_NAMES = st.sampled_from(
    ["name", "bank_account", "account", "birth_date", "resident_id", "key", "months", "x_id"]
)
PLAIN = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.uuids(),
    st.dates(),
    st.sampled_from(Colour),
)
NESTED = st.recursive(
    PLAIN,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.one_of(FIELD_NAMES, st.integers(0, 3)), inner, max_size=4),
    ),
    max_leaves=12,
)


@given(
    st.sampled_from(["Person", "Payout"]),
    st.dictionaries(st.one_of(FIELD_NAMES, st.sampled_from(sorted(ENVELOPE))), NESTED, max_size=6),
)
def test_public_fields_converts_and_masks_in_one_pass_as_the_two_steps_did(
    kind: str, fields: dict[str, object]
) -> None:
    """The one pass gives exactly what ``jsonable`` then ``_redacted`` gave, field by field."""
    names = PERSON_NAME_FIELDS.get(kind, frozenset())
    two_steps = {
        name: mask_name(value)
        if name in names and isinstance(value, str)
        else _redacted(name, jsonable(value))
        for name, value in fields.items()
        if name not in ENVELOPE and name not in DROPPED
    }

    assert repr(public_fields(kind, fields)) == repr(two_steps)  # types and order too
