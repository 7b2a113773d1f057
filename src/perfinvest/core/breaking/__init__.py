"""breaking."""
