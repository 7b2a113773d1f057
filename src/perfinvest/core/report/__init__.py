"""The HTML report's model and the reviewer's log, as plain data (no HTML, no I/O)."""
