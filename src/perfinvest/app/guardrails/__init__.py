"""CI guardrails: budget check, the baselines history, CI workflow templates."""
