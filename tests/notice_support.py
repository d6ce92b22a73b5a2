"""Builders and readers for public-notice tests: named stipends, PDF text and fonts."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from pypdf import PdfReader

from disburse.domain.months import Month
from tests import factories as f

if TYPE_CHECKING:
    from uuid import UUID

    from disburse.application.ledger import Ledger

NAMES = ("张小三", "李四", "欧阳小明")
MASKED = ("张*三", "李*", "欧**明")
PERIOD = "2024-01"
CONTACT = "县人力资源和社会保障局（电话 0432-12345678，地址 县政府路1号）"


def named_stipends(
    ledger: Ledger, *, region: str = f.COUNTY, names: tuple[str, ...] = NAMES
) -> list[UUID]:
    """January 2024 stipends of 1500.00 yuan, one per name, requested by clerk-1."""
    place = f.county(ledger, region=region)
    payouts = []
    for name in names:
        person = f.register(ledger, region=region, name=name)
        post_id, _ = f.staffed_post(ledger, place, person)
        payout = ledger.posts.record_attendance(
            f.clerk(), post_id, month=Month.parse(PERIOD), days_worked=22, days_required=22
        )
        assert payout is not None
        payouts.append(payout)
    return payouts


def pdf_text(data: bytes) -> str:
    """All the text of a PDF, as a reader extracts it."""
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def fonts(data: bytes) -> dict[str, bool]:
    """Each font the PDF uses, and whether it carries the font program (``FontFile2``/``3``)."""
    found: dict[str, bool] = {}
    for page in PdfReader(io.BytesIO(data)).pages:
        resources: Any = page["/Resources"]
        for ref in resources.get_object().get("/Font", {}).values():
            font = ref.get_object()
            carried = False
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object().get("/FontDescriptor")
                if descriptor is not None:
                    program = descriptor.get_object()
                    carried |= "/FontFile2" in program or "/FontFile3" in program
            found[str(font["/BaseFont"])] = carried
    return found


def all_fonts_embedded(data: bytes) -> bool:
    """Whether the PDF uses fonts and carries every one of them: it prints anywhere."""
    used = fonts(data)
    return bool(used) and all(used.values())
