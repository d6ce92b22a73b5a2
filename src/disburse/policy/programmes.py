"""Subsidy programmes of the default catalogue, with the sources they come from.

Amounts appear only where a source states them (Liuzhou's 一岗多补, seed 002);
elsewhere the source says 按规定 ("as provided") and the amount is NotSpecified.
"""

from __future__ import annotations

from datetime import date

from disburse.domain.fund import FundSource
from disburse.domain.person import PovertyStatus
from disburse.domain.rules import AmountRule, NotSpecified, ProgrammeRules, SourceRef

ELIGIBLE = [PovertyStatus.LIFTED, PovertyStatus.MONITORED]
_LOCAL = "the source says 按规定; the amount is set locally"


def _unset(note: str = _LOCAL) -> NotSpecified:
    return NotSpecified(note=note)


PROGRAMMES: dict[str, ProgrammeRules] = {
    "SVC-BROKER": ProgrammeRules(
        title="Employment-service subsidy to HR agencies and labour brokers (就业创业服务补助)",
        applicant_kind="broker",
        beneficiary_statuses=ELIGIBLE,
        per_beneficiary=True,
        amount=AmountRule(kind="fixed", amount_fen=_unset()),
        frequency="once_per_year",
        one_applicant_per_beneficiary=True,
        fund_sources=[FundSource.EMPLOYMENT_SUBSIDY],
        evidence=["labour contract or employment record of each worker"],
    ),
    "TRAIN-OJT": ProgrammeRules(
        title="On-the-job training subsidy (以工代训职业培训补贴)",
        applicant_kind="employer",
        beneficiary_statuses=ELIGIBLE,
        per_beneficiary=True,
        amount=AmountRule(kind="monthly", amount_fen=_unset(), max_months=6),
        frequency="once_ever",
        effective_to=date(2021, 12, 31),
        fund_sources=[FundSource.EMPLOYMENT_SUBSIDY],
        evidence=["training plan", "attendance of each trainee"],
    ),
    "HIRE-WAGE": ProgrammeRules(
        title="Liuzhou 一岗多补: wage subsidy per hired person per month",
        applicant_kind="employer",
        beneficiary_statuses=ELIGIBLE,
        per_beneficiary=True,
        amount=AmountRule(kind="monthly", min_fen=30_000, max_fen=50_000, max_months=12),
        frequency="once_ever",
        fund_sources=[FundSource.EMPLOYMENT_SUBSIDY],
        evidence=["labour contract", "wage records"],
    ),
    "HIRE-GRAD": ProgrammeRules(
        title="Liuzhou: one-time post subsidy for hiring a graduate of a poor household",
        applicant_kind="employer",
        beneficiary_statuses=ELIGIBLE,
        per_beneficiary=True,
        amount=AmountRule(kind="range", min_fen=300_000, max_fen=500_000),
        frequency="once_ever",
        fund_sources=[FundSource.EMPLOYMENT_SUBSIDY],
        evidence=["labour contract", "graduation certificate"],
    ),
    "TRAIN-LIVING": ProgrammeRules(
        title="Living allowance during training (培训期间生活费补贴)",
        applicant_kind="person",
        beneficiary_statuses=[*ELIGIBLE, PovertyStatus.LOW_INCOME],
        amount=AmountRule(kind="monthly", amount_fen=_unset()),
        fund_sources=[FundSource.EMPLOYMENT_SUBSIDY],
        evidence=["training enrolment and attendance"],
    ),
    "STARTUP-ONCE": ProgrammeRules(
        title="One-time startup subsidy (一次性创业补贴)",
        applicant_kind="person",
        beneficiary_statuses=ELIGIBLE,
        amount=AmountRule(kind="fixed", amount_fen=_unset()),
        frequency="once_ever",
        fund_sources=[FundSource.EMPLOYMENT_SUBSIDY],
        evidence=["business licence"],
    ),
    "BASE-REWARD": ProgrammeRules(
        title="One-time reward to employment-assistance bases and workshops",
        applicant_kind="base",
        amount=AmountRule(kind="fixed", amount_fen=_unset()),
        frequency="once_ever",
        fund_sources=[FundSource.RURAL_REVITALISATION],
        evidence=["number of assisted people employed"],
    ),
    "PENSION-PROXY": ProgrammeRules(
        title="Pension premium paid on behalf of hardship groups (代缴养老保险费)",
        applicant_kind="person",
        beneficiary_statuses=[*ELIGIBLE, PovertyStatus.LOW_INCOME],
        amount=AmountRule(kind="fixed", amount_fen=_unset("the minimum premium grade is local")),
        frequency="once_per_year",
        fund_sources=[FundSource.RURAL_REVITALISATION],
        evidence=["social-insurance enrolment"],
    ),
}

PROGRAMME_SOURCES = [
    SourceRef(
        rule_id="SVC-BROKER",
        seed="001, 003",
        clause="对面向脱贫人口开展有组织劳务输出的人力资源服务机构、劳务经纪人，"
        "按规定给予一次性就业创业服务补助",
    ),
    SourceRef(
        rule_id="TRAIN-OJT",
        seed="000, 001",
        clause="吸纳脱贫人口（已享受过以工代训职业培训补贴政策人员除外）就业并开展以工代训的，"
        "根据吸纳人数给予最长不超过6个月的职业培训补贴，政策执行时间至2021年底",
    ),
    SourceRef(
        rule_id="HIRE-WAGE",
        seed="002",
        clause="按每吸纳一人，给予企业每月300-500元的工资性补贴，期限一年",
    ),
    SourceRef(
        rule_id="HIRE-GRAD",
        seed="002",
        clause="吸纳贫困家庭高校毕业生就业的企业，还可给予3000-5000元的一次性岗位补贴",
    ),
    SourceRef(
        rule_id="TRAIN-LIVING",
        seed="000, 001",
        clause="培训期间按规定给予生活费补贴",
    ),
    SourceRef(rule_id="STARTUP-ONCE", seed="000, 001, 003", clause="一次性创业补贴"),
    SourceRef(
        rule_id="BASE-REWARD",
        seed="003",
        clause="对吸纳重点帮扶县脱贫人口和防止返贫监测对象就业数量多、成效好的就业帮扶基地，按规定给予一次性奖补",
    ),
    SourceRef(rule_id="PENSION-PROXY", seed="003 §12", clause="巩固拓展基本养老保险应保尽保成果"),
]
