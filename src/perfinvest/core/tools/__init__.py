"""Tool-driven runs, pure: recognising a benchmark tool and rewriting its options."""
