"""Who acts in the demo county: named clerks, two finance approvers, an inspector."""

from __future__ import annotations

from disburse.access.context import Context
from disburse.domain.meta import Role

COUNTY = "220221"  # 永吉县, Jilin city
NEIGHBOUR = "220281"  # 蛟河市, the county next door
CLIENT = "disburse:demo"

CLERK = Context(actor_id="clerk-wang", role=Role.CLERK, client_id=CLIENT)
NEIGHBOUR_CLERK = Context(actor_id="clerk-liu-220281", role=Role.CLERK, client_id=CLIENT)
FINANCE = Context(actor_id="finance-li", role=Role.FINANCE, client_id=CLIENT)
SECOND_APPROVER = Context(actor_id="finance-zhao", role=Role.FINANCE, client_id=CLIENT)
INSPECTOR = Context(actor_id="inspector-chen", role=Role.INSPECTOR, client_id=CLIENT)
ADMIN = Context(actor_id="admin-sun", role=Role.ADMIN, client_id=CLIENT)
MIGRATION = Context(actor_id="migration-220281", role=Role.SYSTEM, client_id="disburse:migration")

#: API clients the demo creates, one per role: (name, role, region scope).
API_CLIENTS = (
    ("demo-clerk", Role.CLERK, COUNTY),
    ("demo-finance", Role.FINANCE, COUNTY),
    ("demo-inspector", Role.INSPECTOR, "22"),
    ("demo-claimant", Role.CLAIMANT, COUNTY),
    ("demo-admin", Role.ADMIN, "22"),
)

#: Console users the demo creates: (username, role, region scope). Their initial
#: passwords are printed once and must be changed at the first sign-in.
CONSOLE_USERS = (
    ("finance.li", Role.FINANCE, COUNTY),
    ("finance.zhao", Role.FINANCE, COUNTY),
    ("clerk.wang", Role.CLERK, COUNTY),
    ("inspector.chen", Role.INSPECTOR, "22"),
)
