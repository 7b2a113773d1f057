"""Discrete-event simulation of a scenario, deterministic from its seed."""
