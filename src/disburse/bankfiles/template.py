"""Bank templates: how one bank lays out a payment file and its return file, as data.

A template is a JSON file in ``disburse/bankfiles/templates/`` named after it
(``generic.json``); see docs/operations.md, "Adding a bank template".
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from disburse.domain.errors import InvalidInputError

DEFAULT_TEMPLATE = "generic"
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Columns(_Data):
    """The header of each column the payment file has (the bank's own words)."""

    sequence: str = Field(description="Line number column; the totals row's label goes here.")
    account: str = Field(description="The payee's account number.")
    name: str = Field(description="The payee's account name (户名).")
    amount: str = Field(description="Amount in yuan with two decimals.")
    purpose: str = Field(description="摘要: what the payment is for.")
    reference: str = Field(description="Our reference of the line (the payout id, 32 hex).")


class Totals(_Data):
    """The control-totals row closing the file."""

    label: str = Field(description="Text in the sequence column marking the row (合计).")
    count_column: str = Field(
        default="account", description="Which column (a field of columns) holds the count."
    )


class Results(_Data):
    """The columns the bank adds in its return file, and its words for each outcome."""

    status: str
    reason: str
    bank_reference: str
    paid_on: str
    paid: tuple[str, ...]
    failed: tuple[str, ...]


class Debtor(_Data):
    """Who pays, as named in pain.001 (the county's 代发 account; blank: the fund's id)."""

    name: str
    account: str = ""


class BankTemplate(_Data):
    """One bank's payment and return file layout."""

    name: str
    title: str
    sheet: str = Field(description="Worksheet name of the XLSX file.")
    encoding: str = Field(default="utf-8-sig", description="Encoding of the CSV file.")
    purpose: str = Field(description="摘要 text; {programme} and {period} are filled in.")
    columns: Columns
    totals: Totals
    results: Results
    debtor: Debtor

    def headers(self) -> list[str]:
        """The payment file's header row, in column order."""
        return list(self.columns.model_dump().values())

    def purpose_of(self, programme: str, period: str) -> str:
        """The 摘要 of one line."""
        return self.purpose.replace("{programme}", programme).replace("{period}", period)


def template_names() -> list[str]:
    """The templates shipped, by name."""
    folder = resources.files(__package__).joinpath("templates")
    return sorted(
        p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json")
    )


@cache
def load_template(name: str = DEFAULT_TEMPLATE) -> BankTemplate:
    """The template of that name; ``InvalidInputError`` (BANKFILE-TEMPLATE) if there is none."""
    if not _NAME.fullmatch(name) or name not in template_names():
        raise InvalidInputError(
            "BANKFILE-TEMPLATE",
            f"no bank template {name!r}; known: {', '.join(template_names())}",
            "template",
        )
    text = resources.files(__package__).joinpath("templates", f"{name}.json").read_text("utf-8")
    try:
        template = BankTemplate.model_validate(json.loads(text))
    except (ValueError, ValidationError) as error:  # a shipped file: caught by the tests
        raise InvalidInputError(
            "BANKFILE-TEMPLATE", f"template {name}: {error}", "template"
        ) from None
    if template.totals.count_column not in Columns.model_fields:
        raise InvalidInputError(
            "BANKFILE-TEMPLATE", "totals.count_column names no column", "template"
        )
    return template
