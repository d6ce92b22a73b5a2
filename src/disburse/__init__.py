"""disburse: an event-sourced ledger for rural employment-assistance subsidies."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("disburse")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"
