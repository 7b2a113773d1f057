"""``export`` and ``metrics export``: reading results and writing other tools' formats."""
