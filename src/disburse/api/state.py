"""What the routes share: the ledger, the views, API clients, console users, settings, metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from disburse.api.metrics import Metrics

if TYPE_CHECKING:
    from disburse.access.clients import Clients
    from disburse.access.users import Users
    from disburse.application.ledger import Ledger
    from disburse.readside.views import Views
    from disburse.settings import Settings


@dataclass
class ApiState:
    """Built once per process by :func:`disburse.api.app.create_app`."""

    ledger: Ledger
    views: Views
    ledger_clients: Clients
    users: Users
    settings: Settings
    metrics: Metrics = field(default_factory=Metrics)
