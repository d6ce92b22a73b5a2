"""Anti-fraud alerts: the rules that find irregularities, the alerts view and its queries."""
