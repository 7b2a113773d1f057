"""CI guardrails, pure: budgets, query budgets, history thresholds, the diff report."""
