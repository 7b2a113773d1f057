"""One engine for every measured run: specs, runs, ad-hoc runs and comparisons."""
