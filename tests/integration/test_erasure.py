"""Erasing a person's identity: the key is destroyed, the money and the chain stay, both stores."""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import pytest
from eventsourcing.cryptography import AESCipher
from eventsourcing.utils import Environment

from disburse.application.ledger import Ledger
from disburse.application.payouts import BankResult
from disburse.audit.verify import verify
from disburse.bootstrap import store_env
from disburse.domain.batch import Outcome
from disburse.domain.errors import ConflictError, InvalidInputError, NotFoundError
from disburse.domain.identity import mask_resident_id
from disburse.domain.months import Month
from disburse.domain.person import ERASED, LabourCapacity, PovertyStatus
from disburse.persistence.sealing import PersonKeys
from disburse.persistence.store import LedgerStore
from tests import factories as f

if TYPE_CHECKING:
    from collections.abc import Callable
    from uuid import UUID

    from disburse.readside.views import Views
    from disburse.settings import Settings
    from tests.conftest import LedgerFactory

NAME = "王秀英"
ACCOUNT = "6222020211112222"
NEW_ACCOUNT = "6217000033334444"
BASIS = "PIPL art. 47(1)"
FEB, MAR = Month(2024, 2), Month(2024, 3)
#: Every field of a person but those that identify them, and what erasure itself changes.
KEPT = (
    "id_hash",
    "birth_date",
    "home_region",
    "poverty_status",
    "labour_capacity",
    "household_id",
    "public_payroll",
    "registered_via",
    "died_on",
    "incomes",
    "employments",
    "id",
    "created_on",
)


@dataclass(frozen=True)
class Story:
    """A person with a paid January stipend and an approved February one, and a bystander."""

    place: f.County
    person: UUID
    rid: str
    post: UUID
    paid: UUID  # January, paid to NEW_ACCOUNT
    approved: UUID  # February, approved, not yet sent to the bank
    vacancy: UUID  # a post with nobody in it
    other: UUID


def story(ledger: Ledger) -> Story:
    place = f.county(ledger)
    rid = f.resident_id()
    person = ledger.people.register(
        f.clerk(),
        resident_id=rid,
        name=NAME,
        home_region=f.COUNTY,
        poverty_status=PovertyStatus.MONITORED,
        labour_capacity=LabourCapacity.HALF,
        household_id="H-0042",
        bank_account=ACCOUNT,
    ).person_id
    ledger.people.change_bank_account(
        f.clerk(), person, bank_account=NEW_ACCOUNT, reason="card replaced"
    )
    post, _ = f.staffed_post(ledger, place, person)
    paid = ledger.posts.record_attendance(
        f.clerk(), post, month=f.JAN, days_worked=22, days_required=22
    )
    approved = ledger.posts.record_attendance(
        f.clerk(), post, month=FEB, days_worked=11, days_required=22
    )
    assert paid is not None
    assert approved is not None
    ledger.payouts.approve(f.finance(), paid)
    ledger.payouts.approve(f.finance(), approved)
    batch = ledger.payouts.release_batch(f.finance(), fund_id=place.fund_id, payout_ids=[paid])
    ledger.payouts.record_results(
        f.finance(),
        batch,
        results=[BankResult(paid, Outcome.PAID, bank_reference="BOC-1")],
        control_count=1,
        control_total_fen=150_000,
    )
    vacancy = f.post(ledger, place)
    return Story(place, person, rid, post, paid, approved, vacancy, other=f.register(ledger))


def erase(ledger: Ledger, person: UUID) -> bool:
    return ledger.people.erase_identity(
        f.admin(), person, legal_basis=BASIS, reason="the person asked for erasure"
    )


def head(ledger: Ledger) -> int:
    return ledger.store.recorder.max_notification_id() or 0


def plaintexts(ledger: Ledger) -> list[tuple[str, bytes]]:
    """Every stored event decrypted with the store's key alone: (topic, JSON bytes)."""
    cipher = AESCipher(Environment(env={"CIPHER_KEY": ledger.keys.cipher_key}))
    stored = ledger.store.recorder.select_notifications(start=1, limit=100_000)
    return [(n.topic, cipher.decrypt(n.state)) for n in stored]


# -- what erasure keeps and what it destroys --------------------------------------------------


def test_erasure_destroys_the_identity_and_keeps_amounts_dates_statuses_and_the_chain(
    ledger: Ledger, open_ledger: LedgerFactory
) -> None:
    told = story(ledger)
    before = ledger.people.get(told.person)
    assert (before.name, before.resident_id, before.bank_account) == (NAME, told.rid, NEW_ACCOUNT)
    payouts = [ledger.payouts.get(p) for p in (told.paid, told.approved)]
    fund = ledger.funds.get(told.place.fund_id)
    bystander = ledger.people.get(told.other)
    chained = ledger.store.chained.select_links(0, 100_000)

    assert erase(ledger, told.person) is True

    for reader in (ledger, open_ledger()):
        person = reader.people.get(told.person)
        identity = (
            person.name,
            person.resident_id,
            person.resident_id_masked,
            person.bank_account,
        )
        assert identity == (ERASED,) * 4
        assert person.is_erased
        assert person.erased_on == reader.today()
        assert {k: getattr(person, k) for k in KEPT} == {k: getattr(before, k) for k in KEPT}
        assert person.poverty_status is PovertyStatus.MONITORED
        assert person.birth_date == date(1980, 5, 17)
        assert [reader.payouts.get(p.id) for p in payouts] == payouts
        assert [p.amount_fen for p in payouts] == [150_000, 75_000]
        assert reader.funds.get(told.place.fund_id) == fund
        assert reader.people.get(told.other) == bystander
        assert reader.people.get(told.other).name == "测试人"
        # The events were not touched: one more was chained, the rest is as it was.
        report = verify(reader.store.chained)
        assert report.ok
        assert report.checked == head(reader) == len(chained) + 1
        assert reader.store.chained.select_links(0, 100_000)[:-1] == chained
    # The identity fields of the person's own events are unreadable, not just the aggregate.
    registered = next(
        e
        for e in map(
            ledger.store.mapper.to_domain_event, ledger.store.recorder.select_notifications(1, 1000)
        )
        if e.originator_id == told.person and type(e).__qualname__ == "Person.Registered"
    )
    assert vars(registered)["name"] == ERASED
    assert vars(registered)["home_region"] == f.COUNTY


def test_the_store_holds_the_identity_only_sealed_even_before_erasure(ledger: Ledger) -> None:
    told = story(ledger)
    secrets = (NAME, told.rid, told.rid[:17], mask_resident_id(told.rid), ACCOUNT)

    events = plaintexts(ledger)

    for topic, plain in events:
        for secret in secrets:
            assert secret.encode() not in plain, (topic, secret)
            assert json.dumps(secret).encode() not in plain, (topic, secret)
    registered = [json.loads(p) for t, p in events if t.endswith("Person.Registered")]
    ours = [e for e in registered if e["household_id"] == "H-0042"]
    assert len(ours) == 1
    for field in ("resident_id", "resident_id_masked", "name", "bank_account"):
        assert set(ours[0][field]) == {"sealed_v1"}, field
    assert ours[0]["home_region"] == f.COUNTY  # the rest is as it was


def test_after_erasure_only_the_payment_records_keep_the_account_they_were_paid_to(
    ledger: Ledger,
) -> None:
    # A payment's account is a financial record (bank reconciliation, recovery): it is not
    # sealed (docs/audit.md). The person's own events no longer show it.
    told = story(ledger)
    erase(ledger, told.person)
    assert ledger.payouts.get(told.paid).account == NEW_ACCOUNT
    assert ledger.people.get(told.person).bank_account == "[erased]"
    revealing = {topic for topic, plain in plaintexts(ledger) if NEW_ACCOUNT.encode() in plain}
    assert revealing
    assert all(":Payout." in topic for topic in revealing), revealing


# -- nothing more can be done for an erased person --------------------------------------------


COMMANDS: dict[str, Callable[[Ledger, Story], object]] = {
    "record death": lambda ledger, told: ledger.people.record_death(
        f.clerk(), told.person, died_on=date(2024, 2, 20), evidence="civil registry"
    ),
    "change bank account": lambda ledger, told: ledger.people.change_bank_account(
        f.clerk(), told.person, bank_account="6222020255556666", reason="new card"
    ),
    "report income": lambda ledger, told: ledger.people.report_income(
        f.clerk(), told.person, month=FEB, amount_fen=10_000, source="flexible work"
    ),
    "change status": lambda ledger, told: ledger.people.change_status(
        f.clerk(), told.person, effective_on=date(2024, 3, 1), poverty_status=PovertyStatus.LIFTED
    ),
    "record employment": lambda ledger, told: ledger.people.record_employment(
        f.clerk(), told.person, province_code="44", employer="某厂", started_on=date(2024, 3, 1)
    ),
    "request a payout": lambda ledger, told: ledger.posts.record_attendance(
        f.clerk(), told.post, month=MAR, days_worked=22, days_required=22
    ),
    "appoint to a post": lambda ledger, told: ledger.posts.appoint(
        f.clerk(),
        told.vacancy,
        person_id=told.person,
        term_start=date(2024, 3, 1),
        term_end=date(2024, 12, 31),
    ),
    "pay an approved payout": lambda ledger, told: ledger.payouts.release_batch(
        f.finance(), fund_id=told.place.fund_id, payout_ids=[told.approved]
    ),
    "register the resident ID again": lambda ledger, told: ledger.people.register(
        f.clerk("another-system"),
        resident_id=told.rid.lower(),
        name=NAME,
        home_region=f.COUNTY,
        poverty_status=PovertyStatus.MONITORED,
        labour_capacity=LabourCapacity.HALF,
        household_id="H-0042",
        bank_account=ACCOUNT,
    ),
}


@pytest.mark.parametrize("command", COMMANDS)
def test_nothing_more_is_done_for_an_erased_person(
    ledger: Ledger, open_ledger: LedgerFactory, command: str
) -> None:
    told = story(ledger)
    erase(ledger, told.person)
    reopened = open_ledger()
    position = head(reopened)

    with pytest.raises(ConflictError) as refused:
        COMMANDS[command](reopened, told)

    assert refused.value.rule_id == "PERSON-ERASED"
    assert head(reopened) == position
    assert reopened.posts.get(told.vacancy).holder_id is None
    assert reopened.payouts.get(told.approved).batch_id is None


def test_erasing_twice_destroys_once_and_records_once(
    ledger: Ledger, open_ledger: LedgerFactory
) -> None:
    told = story(ledger)
    assert erase(ledger, told.person) is True
    position = head(ledger)

    assert erase(ledger, told.person) is False
    assert erase(open_ledger(), told.person) is False

    assert head(ledger) == position
    assert ledger.people.get(told.person).name == ERASED
    assert ledger.store.chained.person_key(told.person) is False


@pytest.mark.parametrize(
    ("basis", "reason", "field"),
    [
        ("", "asked", "legal_basis"),
        ("   ", "asked", "legal_basis"),
        (BASIS, "", "reason"),
        (BASIS, " \n", "reason"),
    ],
)
def test_an_erasure_needs_a_legal_basis_and_a_reason(
    ledger: Ledger, basis: str, reason: str, field: str
) -> None:
    told = story(ledger)
    position = head(ledger)

    with pytest.raises(InvalidInputError) as refused:
        ledger.people.erase_identity(f.admin(), told.person, legal_basis=basis, reason=reason)

    assert (refused.value.rule_id, refused.value.field) == ("PERSON-ERASURE-BASIS", field)
    assert head(ledger) == position
    assert ledger.people.get(told.person).name == NAME  # the key is still there
    assert isinstance(ledger.store.chained.person_key(told.person), bytes)


def test_erasing_an_unknown_person_is_not_found(ledger: Ledger) -> None:
    unknown = ledger.people.id_for(f.resident_id())
    with pytest.raises(NotFoundError) as refused:
        erase(ledger, unknown)
    assert refused.value.rule_id == "PERSON-NOT-FOUND"
    assert ledger.store.chained.person_key(unknown) is None


def test_an_erasure_whose_key_was_not_destroyed_is_completed_by_erasing_again(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    told = story(ledger)
    recorder = ledger.store.chained

    def key_store_down(subject: UUID, destroyed_at: str) -> bool:
        raise ConnectionError(f"key store unreachable ({subject}, {destroyed_at})")

    with monkeypatch.context() as patch:
        patch.setattr(recorder, "destroy_person_key", key_store_down)
        with pytest.raises(ConnectionError):
            erase(ledger, told.person)
    assert ledger.people.get(told.person).is_erased  # recorded...
    assert isinstance(recorder.person_key(told.person), bytes)  # ...but the key lives
    position = head(ledger)

    assert erase(ledger, told.person) is True

    assert head(ledger) == position  # not recorded twice
    assert recorder.person_key(told.person) is False
    registered: Any = ledger.store.repository.get(told.person, version=1)
    assert registered.name == ERASED


# -- the read side ----------------------------------------------------------------------------


def _person_payloads(views: Views, person: UUID) -> dict[str, dict[str, Any]]:
    views.catch_up()
    trail = views.audit.trail(person)
    return {e.event_type: e.payload for e in trail if e.entity_id == str(person)}


def test_the_audit_view_forgets_the_identity_live_and_when_rebuilt(
    ledger: Ledger, views: Views
) -> None:
    told = story(ledger)
    shown = _person_payloads(views, told.person)
    assert shown["Person.Registered"]["name"] == "王**"
    assert shown["Person.Registered"]["resident_id_masked"] == mask_resident_id(told.rid)
    assert shown["Person.Registered"]["bank_account"] == "************2222"
    assert shown["Person.BankAccountChanged"]["bank_account"] == "************4444"

    erase(ledger, told.person)
    live = _person_payloads(views, told.person)
    views.projector.rebuild()
    rebuilt = _person_payloads(views, told.person)

    for payloads in (live, rebuilt):
        registered = payloads["Person.Registered"]
        assert (registered["name"], registered["resident_id_masked"]) == (ERASED, ERASED)
        assert registered["bank_account"] == ERASED
        assert "resident_id" not in registered
        assert registered["home_region"] == f.COUNTY
        assert payloads["Person.BankAccountChanged"]["bank_account"] == ERASED
        assert payloads["Person.IdentityErased"]["legal_basis"] == BASIS
        text = json.dumps(payloads, ensure_ascii=False)
        assert "王" not in text
        assert told.rid[-4:] not in text
    assert rebuilt == live
    # Nobody else was erased.
    views.catch_up()
    other = views.audit.trail(told.other)[0]
    assert other.payload["name"] == "测**"


def test_rebuilding_the_views_raises_no_alert_against_erased_people(
    ledger: Ledger, views: Views
) -> None:
    first, second = f.register(ledger), f.register(ledger)
    for person in (first, second):
        erase(ledger, person)
    views.catch_up()
    assert views.alerts.find(rule="FRAUD-SHARED-ACCOUNT") == []

    views.projector.rebuild()

    assert views.alerts.find(rule="FRAUD-SHARED-ACCOUNT") == []


# -- person keys ------------------------------------------------------------------------------


def test_two_writers_making_the_key_of_one_new_person_at_once_get_the_same_key(
    ledger: Ledger, open_ledger: LedgerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    subject = ledger.people.id_for(f.resident_id())
    wrap = base64.b64decode(ledger.keys.person_key_wrap)
    stores = [ledger.store.chained, open_ledger().store.chained]
    both_made_a_key = threading.Barrier(len(stores))
    for recorder in stores:
        original = recorder.add_person_key

        def add(
            subject: UUID,
            wrapped: bytes,
            created_at: str,
            _original: Callable[[UUID, bytes, str], None] = original,
        ) -> None:
            both_made_a_key.wait(timeout=20)  # neither has stored its key yet
            _original(subject, wrapped, created_at)

        monkeypatch.setattr(recorder, "add_person_key", add)
    keys: list[bytes] = []
    errors: list[BaseException] = []

    def make(recorder: Any) -> None:
        try:
            keys.append(PersonKeys(recorder, wrap).for_writing(subject))
        except BaseException as error:  # reported by the main thread
            errors.append(error)
            raise

    threads = [threading.Thread(target=make, args=(r,)) for r in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not errors
    assert len(keys) == 2
    assert keys[0] == keys[1]
    assert PersonKeys(open_ledger().store.chained, wrap).for_reading(subject) == keys[0]


def test_a_destroyed_key_is_never_made_again(ledger: Ledger) -> None:
    keys = ledger.store.person_keys
    assert keys is not None
    subject = ledger.people.id_for(f.resident_id())
    key = keys.for_writing(subject)
    assert keys.for_writing(subject) == key

    assert keys.destroy(subject) is True
    assert keys.destroy(subject) is False

    assert keys.for_reading(subject) is None
    with pytest.raises(ConflictError) as refused:
        keys.for_writing(subject)
    assert refused.value.rule_id == "PERSON-ERASED"
    never_had_one = ledger.people.id_for(f.resident_id())
    assert keys.destroy(never_had_one) is True  # a tombstone: no key can be made for it
    with pytest.raises(ConflictError):
        keys.for_writing(never_had_one)


def test_a_person_registered_before_sealing_cannot_be_erased_by_a_key(
    ledger: Ledger, settings: Settings
) -> None:
    env = store_env(settings.store, ledger.keys, settings)
    del env[LedgerStore.PERSON_KEY_WRAP]  # as before identities were sealed
    unsealed = LedgerStore(env=env)
    try:
        person = f.register(Ledger.assemble(unsealed, ledger.keys, ledger.today))
    finally:
        unsealed.close()

    with pytest.raises(ConflictError) as refused:
        erase(ledger, person)

    assert (refused.value.rule_id, refused.value.field) == ("PERSON-UNSEALED", "person_id")
    assert not ledger.people.get(person).is_erased
    assert ledger.store.chained.person_key(person) is None


def test_a_chunk_of_new_people_gets_its_keys_in_one_transaction_and_each_can_be_erased(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = ledger.store.chained
    batches: list[int] = []
    singles: list[object] = []
    add_many, add_one = recorder.add_person_keys, recorder.add_person_key

    def counted_many(keys: list[tuple[UUID, bytes, str]]) -> None:
        batches.append(len(keys))
        add_many(keys)

    def counted_one(subject: UUID, wrapped: bytes, created_at: str) -> None:
        singles.append(subject)
        add_one(subject, wrapped, created_at)

    monkeypatch.setattr(recorder, "add_person_keys", counted_many)
    monkeypatch.setattr(recorder, "add_person_key", counted_one)

    def register(n: int, _changes: object) -> UUID:
        return f.register(ledger, rid=f.resident_id(serial=900 + n))

    people = [p for _, p, _ in ledger.store.transact_each(range(5), register) if p is not None]

    assert (batches, singles) == ([5], [])
    assert [ledger.people.get(p).name for p in people] == ["测试人"] * 5
    ledger.people.erase_identity(f.admin(), people[0], legal_basis="PIPL art. 47", reason="t")
    assert ledger.people.get(people[0]).name == ERASED
    assert ledger.people.get(people[1]).name == "测试人"
