"""Profiles, pure: hotspots from collapsed stacks, the ranking of code paths."""
