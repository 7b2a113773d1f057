"""perfinvest: performance investigations as an enforced ten-phase state machine."""

__version__ = "0.1.0"
