"""The report rendered as one self-contained HTML file."""
