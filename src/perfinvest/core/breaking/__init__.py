"""The breaking-point search, pure: bisection, its grid, probe verdicts."""
