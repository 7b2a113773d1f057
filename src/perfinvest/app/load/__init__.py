"""Load runs and suites on Locust, recorded as runs of the investigation."""
