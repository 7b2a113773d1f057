"""adapters/formats."""
