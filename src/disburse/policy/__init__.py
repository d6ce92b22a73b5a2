"""The policy catalogue shipped with disburse: the rules of DOMAIN.md with their sources."""
