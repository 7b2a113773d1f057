"""Statistics, pure: summaries, comparisons, verdicts, comparability."""
