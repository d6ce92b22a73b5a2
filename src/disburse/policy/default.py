"""The default catalogue: national rules from the seed documents, and the gaps they leave.

Numbers appear only where a source gives them. Where a source names a rule but not
its number (a local minimum wage, a local monitoring threshold, settlement sites of
3000-5000 people) the entry is :class:`NotSpecified`: a region must publish a version
that fills it before the rule can be applied.
"""

from __future__ import annotations

from datetime import date

from disburse.domain.fund import FundSource
from disburse.domain.person import LabourCapacity, PovertyStatus
from disburse.domain.rules import (
    GrantRules,
    NotSpecified,
    PolicyDocument,
    PostRules,
    QuotaBand,
    SourceRef,
)
from disburse.policy.programmes import PROGRAMME_SOURCES, PROGRAMMES

NATIONAL_VERSION = "CN-2021.1"
LIUZHOU_VERSION = "CN-45-4502-2019.1"

_SOURCES = [
    SourceRef(
        rule_id="POST-ELIG",
        seed="000, 004 §16",
        clause="脱贫人口 (2023: 含防止返贫监测对象); no extra age or disability limits",
    ),
    SourceRef(
        rule_id="POST-TERM",
        seed="000, 001, 004",
        clause="依法签订劳动合同或劳务协议，每次签订期限不超过1年",
    ),
    SourceRef(
        rule_id="POST-INSURANCE",
        seed="000, 001, 004",
        clause="购买意外伤害商业保险 / 参加工伤保险或购买人身意外伤害保险",
    ),
    SourceRef(
        rule_id="POST-STIPEND-FLOOR",
        seed="002",
        clause="岗位补贴按不低于当地最低工资标准安排 (Liuzhou; amount is local)",
    ),
    SourceRef(
        rule_id="POST-UNIFORM",
        seed="000, 001 §5",
        clause="保持同一区域内类似岗位间聘任标准、待遇保障水平等基本统一",
    ),
    SourceRef(
        rule_id="POST-EXIT-INCOME",
        seed="004 §16",
        clause="灵活就业收入超出当地防止返贫监测范围的，应退出岗位",
    ),
    SourceRef(
        rule_id="POST-ONE-PERSON-ONE-POST",
        seed="DOMAIN.md",
        clause="one person holds at most one active public post (the brief; no seed states it)",
    ),
    SourceRef(
        rule_id="POST-QUOTA-SITE",
        seed="002",
        clause="1000人以下安排3人，1000-3000人安排5人，5000人以上安排10人",
    ),
    SourceRef(rule_id="POST-QUOTA-VILLAGE", seed="002", clause="按照每个村不少于5人的规模"),
    SourceRef(
        rule_id="GRANT-ELIG",
        seed="000, 001, 004",
        clause="对跨省就业的脱贫人口适当安排一次性交通补助 (004: 含防止返贫监测对象)",
    ),
    SourceRef(
        rule_id="GRANT-FUND",
        seed="000, 001",
        clause="由衔接推进乡村振兴补助资金列支",
    ),
    SourceRef(
        rule_id="GRANT-AMOUNT",
        seed="000, 001",
        clause="适当安排 (the amount is set locally; none in the sources)",
    ),
    SourceRef(
        rule_id="POST-FUND",
        seed="002",
        clause="所需资金从就业补助资金开支 (stipends are paid from the employment subsidy fund)",
    ),
]

_QUOTA_BANDS = [
    QuotaBand(min_population=0, max_population=999, posts=3),
    QuotaBand(min_population=1000, max_population=3000, posts=5),
    QuotaBand(
        min_population=3001,
        max_population=4999,
        posts=NotSpecified(note="seed 002 gives quotas below 3000 and from 5000 only"),
    ),
    QuotaBand(min_population=5000, max_population=None, posts=10),
]


def national() -> PolicyDocument:
    """The national catalogue (region prefix ``""``)."""
    return PolicyDocument(
        version=NATIONAL_VERSION,
        title="National defaults from 人社部发〔2021〕26号 and the provincial plans",
        region_prefix="",
        effective_from=date(2021, 1, 1),
        post=PostRules(
            eligible_statuses=[PovertyStatus.LIFTED, PovertyStatus.MONITORED],
            priority_labour=[LabourCapacity.WEAK, LabourCapacity.HALF],
            max_term_months=12,
            stipend_floor_fen=None,
            income_exit_threshold_fen=NotSpecified(
                note="004 §16 refers to the local monitoring range, set by each region"
            ),
            site_quota_bands=_QUOTA_BANDS,
            village_min_posts=5,
            fund_sources=[FundSource.EMPLOYMENT_SUBSIDY],
            prorate_by_attendance=True,
            uniform_deviation_pct=30,
        ),
        grant=GrantRules(
            eligible_statuses=[PovertyStatus.LIFTED, PovertyStatus.MONITORED],
            amount_fen=NotSpecified(note="000/001: 适当安排; each region sets the amount"),
            fund_sources=[FundSource.RURAL_REVITALISATION],
        ),
        programmes=PROGRAMMES,
        sources=[*_SOURCES, *PROGRAMME_SOURCES],
    )


def liuzhou() -> PolicyDocument:
    """Liuzhou (4502): stipends not below the local minimum wage, whose amount is local."""
    base = national()
    return base.model_copy(
        update={
            "version": LIUZHOU_VERSION,
            "title": "Liuzhou action plan 2019 (seed 002)",
            "region_prefix": "4502",
            "effective_from": date(2019, 1, 1),
            # The 2019 action plan ran until the 2021 national guidance replaced it.
            "effective_to": date(2020, 12, 31),
            "post": base.post.model_copy(
                update={
                    "stipend_floor_fen": NotSpecified(
                        note="002: not below the local minimum wage, whose amount the source omits"
                    )
                }
            ),
        }
    )


def default_documents() -> list[PolicyDocument]:
    """Published by ``disburse init`` into an empty store, in this order."""
    return [national(), liuzhou()]
