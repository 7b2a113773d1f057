"""One module per command family; importing them registers the commands."""
