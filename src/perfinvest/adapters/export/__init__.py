"""Writing the exports: OpenMetrics text (and a Pushgateway push), CSV."""
