"""The demo county's people: valid resident IDs, households, statuses, bank accounts.

Everything comes from one seeded ``random.Random``, so a seed always gives the same
county. The mix follows what a county's registry of 脱贫人口 looks like: most people
lifted out of poverty, some monitored households at risk of relapse, some rural
low-income people, a few with no status, and weak or half labour capacity common
among older people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, TypeVar

from disburse.domain.identity import check_digit
from disburse.domain.person import LabourCapacity, PovertyStatus

if TYPE_CHECKING:
    import random

T = TypeVar("T")

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "秀英桂兰玉华凤芝明国建军志强海涛春梅丽娟淑珍德福永庆金生立新文广云霞红伟成"
VILLAGES = (
    "东风村",
    "红旗村",
    "新立村",
    "太平村",
    "永安村",
    "双河村",
    "长岭村",
    "北沟村",
    "南岔村",
    "五里村",
    "兴隆村",
    "万宝村",
)
STATUS_MIX = (
    (PovertyStatus.LIFTED, 62),
    (PovertyStatus.MONITORED, 16),
    (PovertyStatus.LOW_INCOME, 12),
    (PovertyStatus.NONE, 10),
)
CAPACITY_MIX = ((LabourCapacity.FULL, 55), (LabourCapacity.WEAK, 28), (LabourCapacity.HALF, 17))


@dataclass(frozen=True)
class Resident:
    """One person as the county registry knows them."""

    resident_id: str
    name: str
    household_id: str
    status: PovertyStatus
    capacity: LabourCapacity
    bank_account: str
    born: date


def _pick(rng: random.Random, mix: tuple[tuple[T, int], ...]) -> T:
    [chosen] = rng.choices([value for value, _ in mix], weights=[weight for _, weight in mix])
    return chosen


def resident_id(region: str, born: date, serial: int) -> str:
    """A valid 18-character resident ID (GB 11643) issued in ``region``."""
    first17 = f"{region}{born:%Y%m%d}{serial % 1000:03d}"
    return first17 + check_digit(first17)


def population(rng: random.Random, region: str, count: int) -> list[Resident]:
    """``count`` people in households of one to five, each with an ID of their own."""
    people: list[Resident] = []
    used: set[str] = set()
    household = 0
    while len(people) < count:
        household += 1
        household_id = f"{region}-H{household:05d}"
        status = _pick(rng, STATUS_MIX)  # a household shares its status
        surname = rng.choice(SURNAMES)
        for _ in range(min(rng.randint(1, 5), count - len(people))):
            born = date(1955, 1, 1) + timedelta(days=rng.randrange(365 * 48))
            rid = resident_id(region, born, rng.randrange(1000))
            while rid in used:
                rid = resident_id(region, born, rng.randrange(1000))
            used.add(rid)
            older = born.year < 1970
            capacity = _pick(rng, CAPACITY_MIX)
            if older and capacity is LabourCapacity.FULL and rng.random() < 0.5:
                capacity = LabourCapacity.WEAK
            people.append(
                Resident(
                    resident_id=rid,
                    name=surname + "".join(rng.choices(GIVEN, k=rng.choice((1, 2)))),
                    household_id=household_id,
                    status=status,
                    capacity=capacity,
                    bank_account=f"6217{rng.randrange(10**15):015d}",
                    born=born,
                )
            )
    return people
