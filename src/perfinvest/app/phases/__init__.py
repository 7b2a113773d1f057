"""Phases 1-7, 9 and 10 as use cases (phase 8 is ``app/experiments``)."""
