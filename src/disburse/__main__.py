"""``python -m disburse`` runs the command line."""

from disburse.cli.main import main

main()
