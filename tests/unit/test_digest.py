"""Head digests (JSON files, Ed25519 signatures) and the chain's hashing scheme, by hand."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from disburse.audit.digest import (
    SEED_BYTES,
    Digest,
    DigestError,
    Signer,
    generate_signing_key,
    publish_digest,
    take_digest,
)
from disburse.audit.verify import verify
from disburse.persistence.chain import ALGORITHM, GENESIS, Link, event_digest, extend, link_hash
from disburse.persistence.recorders import ChainedPOPORecorder

OID = UUID("12345678-1234-5678-1234-567812345678")
TOPIC = "pkg.mod:Thing.Happened"
STATE = b"\x00\x01state bytes"
HASH = "ab" * 32
TAKEN_AT = "2024-03-01T08:00:00+00:00"
#: sha256("12345678-...-567812345678\n3\npkg.mod:Thing.Happened\n" + sha256(STATE).hexdigest())
KNOWN_DIGEST = "b539a29b9800f164b2eb700a53591085444c60eca481ce16b25cfede141ff386"
#: sha256("7\n" + KNOWN_DIGEST + "\n" + "0" * 64)
KNOWN_HASH = "454abb58a35e9563c7bb9cfbcaed526ff234605c2bd994aff3b92cec5a2a6cb9"


def sha256(text: str | bytes) -> str:
    return hashlib.sha256(text if isinstance(text, bytes) else text.encode()).hexdigest()


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer(generate_signing_key())


def digest(position: int = 42, hash_: str = HASH, taken_at: str = TAKEN_AT) -> Digest:
    return Digest(position=position, hash=hash_, taken_at=taken_at)


def stored(n: int, state: bytes = b"s") -> StoredEvent:
    return StoredEvent(
        originator_id=UUID(int=n + 1), originator_version=1, topic=TOPIC, state=state + bytes([n])
    )


# -- the chain's scheme, recomputed by hand ---------------------------------------------------


def test_the_hashes_are_those_the_documentation_spells_out() -> None:
    by_hand = sha256(f"{OID}\n3\n{TOPIC}\n{sha256(STATE)}")
    assert by_hand == KNOWN_DIGEST
    assert sha256(f"7\n{by_hand}\n{'0' * 64}") == KNOWN_HASH

    assert GENESIS == "0" * 64
    assert event_digest(OID, 3, TOPIC, STATE) == KNOWN_DIGEST
    assert link_hash(7, KNOWN_DIGEST, GENESIS) == KNOWN_HASH
    assert extend(None, [(7, OID, 3, TOPIC, STATE)]) == [Link(7, 0, KNOWN_DIGEST, KNOWN_HASH)]


@pytest.mark.parametrize("spelling", [OID, str(OID), OID.hex, str(OID).upper()])
def test_the_event_digest_names_the_originator_in_canonical_form_however_it_is_stored(
    spelling: UUID | str,
) -> None:
    # SQLite stores the id as 32 hex digits, PostgreSQL as a uuid: the digest is the same.
    assert event_digest(spelling, 3, TOPIC, STATE) == KNOWN_DIGEST


@pytest.mark.parametrize(
    "changed",
    [
        (UUID(int=1), 3, TOPIC, STATE),
        (OID, 4, TOPIC, STATE),
        (OID, 3, TOPIC + "X", STATE),
        (OID, 3, TOPIC, STATE + b"\x00"),
    ],
)
def test_every_part_of_the_event_changes_its_digest(changed: tuple[UUID, int, str, bytes]) -> None:
    assert event_digest(*changed) != KNOWN_DIGEST


def test_extend_links_each_event_to_the_one_before_it_whatever_the_gaps() -> None:
    first = extend(None, [(7, OID, 3, TOPIC, STATE)])[0]
    second_digest = sha256(f"{UUID(int=9)}\n1\nt:E\n{sha256(b'x')}")
    third_digest = sha256(f"{UUID(int=9)}\n2\nt:E\n{sha256(b'y')}")
    second_hash = sha256(f"12\n{second_digest}\n{KNOWN_HASH}")
    third_hash = sha256(f"13\n{third_digest}\n{second_hash}")

    links = extend(first, [(12, UUID(int=9), 1, "t:E", b"x"), (13, UUID(int=9), 2, "t:E", b"y")])

    assert links == [
        Link(12, 7, second_digest, second_hash),
        Link(13, 12, third_digest, third_hash),
    ]
    # All at once from the start gives the same links: the chain depends on content only.
    assert extend(
        None,
        [
            (7, OID, 3, TOPIC, STATE),
            (12, UUID(int=9), 1, "t:E", b"x"),
            (13, UUID(int=9), 2, "t:E", b"y"),
        ],
    ) == [first, *links]
    assert extend(first, []) == []


# -- digest files -----------------------------------------------------------------------------


def test_a_digest_survives_its_json_file(signer: Signer) -> None:
    for original in (digest(), signer.sign(digest())):
        text = original.to_json()
        assert text.endswith("\n")
        assert json.loads(text)["algorithm"] == ALGORITHM
        assert Digest.from_json(text) == original


def test_a_digest_file_without_an_algorithm_is_read_as_this_chain() -> None:
    text = json.dumps({"position": 3, "hash": HASH, "taken_at": TAKEN_AT})
    assert Digest.from_json(text) == digest(3)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not a disburse digest"),
        ("{position: 3}", "not a disburse digest"),
        ("null", "not a disburse digest"),
        ("[1, 2, 3]", "not a disburse digest"),
        ('{"hash": "' + HASH + '", "taken_at": "t"}', "not a disburse digest: 'position'"),
        ('{"position": 3, "taken_at": "t"}', "not a disburse digest: 'hash'"),
        ('{"position": 3, "hash": "' + HASH + '"}', "not a disburse digest: 'taken_at'"),
        ('{"position": "three", "hash": "' + HASH + '", "taken_at": "t"}', "a whole number"),
        ('{"position": [3], "hash": "' + HASH + '", "taken_at": "t"}', "a whole number"),
        ('{"position": true, "hash": "' + HASH + '", "taken_at": "t"}', "a whole number"),
        ('{"position": -1, "hash": "' + HASH + '", "taken_at": "t"}', "a whole number >= 0"),
        ('{"position": 3, "hash": "abc", "taken_at": "t"}', "64 lower-case hex"),
        ('{"position": 3, "hash": "' + "g" * 64 + '", "taken_at": "t"}', "64 lower-case hex"),
        (
            '{"position": 3, "hash": "' + HASH + '", "taken_at": "t", "algorithm": "md5-chain"}',
            "unknown chain algorithm 'md5-chain'",
        ),
    ],
)
def test_a_malformed_digest_file_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(DigestError, match=message):
        Digest.from_json(text)


# -- signatures -------------------------------------------------------------------------------


def test_a_signed_digest_verifies_also_against_its_pinned_key(signer: Signer) -> None:
    signed = signer.sign(digest())
    assert (signed.position, signed.hash, signed.taken_at) == (42, HASH, TAKEN_AT)
    assert signed.public_key == signer.public_key
    assert signed.check_signature() is True
    assert signed.check_signature(signer.public_key) is True
    assert signed.check_signature(signer.public_key + "\n") is True  # as read from a file
    assert Digest.from_json(signed.to_json()).check_signature(signer.public_key) is True


def test_signing_a_signed_digest_again_signs_only_the_head(signer: Signer) -> None:
    other = Signer(generate_signing_key())
    resigned = signer.sign(other.sign(digest()))
    assert resigned.public_key == signer.public_key
    assert resigned.check_signature(signer.public_key) is True


def test_an_unsigned_digest_says_so_and_is_refused_when_a_key_is_pinned(signer: Signer) -> None:
    assert digest().check_signature() is False
    with pytest.raises(DigestError, match="not signed"):
        digest().check_signature(signer.public_key)
    half = dataclasses.replace(signer.sign(digest()), public_key=None)
    with pytest.raises(DigestError, match="not signed"):
        half.check_signature(signer.public_key)


@pytest.mark.parametrize(
    "change",
    [
        {"position": 43},
        {"position": 0},
        {"hash": "cd" * 32},
        {"taken_at": "2024-03-02T08:00:00+00:00"},
    ],
)
def test_an_altered_signed_digest_fails(signer: Signer, change: dict[str, object]) -> None:
    altered = dataclasses.replace(signer.sign(digest()), **change)  # type: ignore[arg-type]
    with pytest.raises(DigestError, match="altered"):
        altered.check_signature()
    # The file route: edit the JSON, read it back.
    data = json.loads(signer.sign(digest()).to_json()) | change
    with pytest.raises(DigestError, match="altered"):
        Digest.from_json(json.dumps(data)).check_signature(signer.public_key)


def test_a_digest_signed_by_another_key_fails_against_the_pinned_key(signer: Signer) -> None:
    forger = Signer(generate_signing_key())
    forged = forger.sign(digest())
    assert forged.check_signature() is True  # anyone can sign with a key of their own
    with pytest.raises(DigestError, match="another key"):
        forged.check_signature(signer.public_key)
    # Swapping in the pinned public key does not help the forger.
    with pytest.raises(DigestError, match="altered"):
        dataclasses.replace(forged, public_key=signer.public_key).check_signature(signer.public_key)


@pytest.mark.parametrize(
    ("signature", "public_key"),
    [
        ("!!not base64!!", None),
        (base64.b64encode(b"short").decode(), None),
        (None, base64.b64encode(b"\x01" * 31).decode()),
        (None, "%%%"),
    ],
)
def test_a_garbled_signature_or_public_key_fails_cleanly(
    signer: Signer, signature: str | None, public_key: str | None
) -> None:
    signed = signer.sign(digest())
    garbled = dataclasses.replace(
        signed,
        signature=signature or signed.signature,
        public_key=public_key or signed.public_key,
    )
    with pytest.raises(DigestError, match="altered"):
        garbled.check_signature()


def test_a_digest_file_whose_signature_is_not_a_string_is_a_digest_error() -> None:
    text = json.dumps(
        {"position": 3, "hash": HASH, "taken_at": TAKEN_AT, "signature": 5, "public_key": 7}
    )
    with pytest.raises(DigestError):
        Digest.from_json(text).check_signature()


# -- signing keys -----------------------------------------------------------------------------


def test_generated_signing_keys_are_fresh_32_byte_seeds() -> None:
    first, second = generate_signing_key(), generate_signing_key()
    assert first != second
    assert len(base64.b64decode(first, validate=True)) == SEED_BYTES
    assert Signer(first).public_key != Signer(second).public_key
    assert Signer(first + "\n").public_key == Signer(first).public_key  # read from a file


def test_a_seed_gives_the_same_key_every_time() -> None:
    seed = base64.b64encode(bytes(range(32))).decode()
    assert Signer(seed).public_key == Signer(seed).public_key
    assert len(base64.b64decode(Signer(seed).public_key)) == 32


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        ("", "32 bytes"),
        ("not base64 at all!", "not base64"),
        ("QUJ", "not base64"),  # bad padding
        (base64.b64encode(b"\x01" * 16).decode(), "32 bytes"),
        (base64.b64encode(b"\x01" * 33).decode(), "32 bytes"),
        (base64.b64encode(b"\x01" * 64).decode(), "32 bytes"),
    ],
)
def test_the_signer_refuses_a_bad_seed(seed: str, message: str) -> None:
    with pytest.raises(DigestError, match=message):
        Signer(seed)


# -- digests of a recorder (in memory) --------------------------------------------------------


def test_take_and_publish_a_digest_of_the_head(signer: Signer) -> None:
    recorder = ChainedPOPORecorder()
    empty = take_digest(recorder)
    assert (empty.position, empty.hash, empty.signature) == (0, GENESIS, None)
    assert publish_digest(recorder, signer) is None
    assert recorder.select_digests(0, 10) == []

    recorder.insert_events([stored(n) for n in range(3)])
    head = recorder.chain_head()
    assert head is not None
    assert head.position == 3

    taken = take_digest(recorder, signer)
    assert (taken.position, taken.hash) == (3, head.hash)
    assert taken.check_signature(signer.public_key) is True
    published = publish_digest(recorder, signer)
    assert published is not None
    assert published.check_signature(signer.public_key) is True
    assert recorder.select_digests(0, 10) == [
        (3, head.hash, published.taken_at, published.signature, signer.public_key)
    ]

    recorder.insert_events([stored(9)])
    report = verify(recorder, from_digest=taken)
    assert report.ok
    assert (report.checked, report.digests_checked, report.extends_digest) == (4, 1, True)


def test_a_digest_of_another_history_does_not_verify() -> None:
    recorder = ChainedPOPORecorder()
    recorder.insert_events([stored(n) for n in range(3)])
    other = ChainedPOPORecorder()
    other.insert_events([stored(n, b"other") for n in range(3)])

    report = verify(recorder, from_digest=take_digest(other))

    assert not report.ok
    assert report.finding is not None
    assert (report.finding.position, report.finding.kind) == (3, "digest-mismatch")
    assert report.extends_digest is False


def test_a_digest_of_the_empty_store_is_extended_by_any_later_log() -> None:
    recorder = ChainedPOPORecorder()
    at_install = take_digest(recorder)
    assert verify(recorder, from_digest=at_install).ok
    recorder.insert_events([stored(n) for n in range(3)])
    assert verify(recorder, from_digest=at_install).ok
