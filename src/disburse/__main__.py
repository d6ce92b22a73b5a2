"""``python -m disburse`` runs the command line."""

from disburse.cli import main

main()
