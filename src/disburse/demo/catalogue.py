"""The catalogue version the demo city publishes: the national rules with local numbers.

The seeds leave amounts to each region (按规定, 适当安排); a real city fills them in a
version of its own. These figures are plausible for a county of Jilin city and are
labelled as demo figures in the version's title; they are not taken from a source.
"""

from __future__ import annotations

from datetime import date

from disburse.domain.fund import FundSource
from disburse.domain.rules import AmountRule, PayoutRules, PolicyDocument
from disburse.policy.default import national

CITY = "2202"  # Jilin city, Jilin province
VERSION = "CN-22-2202-DEMO.1"

#: Local amounts of the programmes whose amount the seeds leave open (fen).
_AMOUNTS = {
    "SVC-BROKER": AmountRule(kind="fixed", amount_fen=30_000),
    "TRAIN-OJT": AmountRule(kind="monthly", amount_fen=50_000, max_months=6),
    "TRAIN-LIVING": AmountRule(kind="monthly", amount_fen=30_000, max_months=6),
    "STARTUP-ONCE": AmountRule(kind="fixed", amount_fen=500_000),
    "BASE-REWARD": AmountRule(kind="fixed", amount_fen=10_000_000),
    "PENSION-PROXY": AmountRule(kind="fixed", amount_fen=10_000),
}


def demo_catalogue() -> PolicyDocument:
    """Jilin city's version for the demo: thresholds and amounts the seeds leave open."""
    base = national()
    programmes = {
        code: rules.model_copy(update={"amount": _AMOUNTS[code]}) if code in _AMOUNTS else rules
        for code, rules in base.programmes.items()
    }
    # East-west cooperation money supports assistance workshops (帮扶车间) in the demo city.
    programmes["BASE-REWARD"] = programmes["BASE-REWARD"].model_copy(
        update={"fund_sources": [FundSource.EAST_WEST, FundSource.RURAL_REVITALISATION]}
    )
    assert base.grant is not None  # noqa: S101 - the national version has grant rules
    document = base.model_copy(
        update={
            "version": VERSION,
            "title": "Jilin city (demo figures): monitoring threshold, grant and subsidy amounts",
            "region_prefix": CITY,
            "effective_from": date(2021, 1, 1),
            "post": base.post.model_copy(update={"income_exit_threshold_fen": 60_000}),
            "grant": base.grant.model_copy(update={"amount_fen": 50_000, "min_months_away": 3}),
            "programmes": programmes,
            "payouts": PayoutRules(second_approval_above_fen=300_000),
        }
    )
    return PolicyDocument.model_validate(document.model_dump())
