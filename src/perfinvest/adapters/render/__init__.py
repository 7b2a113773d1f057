"""Renderers of the state for people and other tools: OpenMetrics, CSV (one per format)."""
