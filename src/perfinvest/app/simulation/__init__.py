"""``perfinvest simulate``: scenario files in, simulated results out."""
