"""The capacity model, pure: the Universal Scalability Law fitted to throughput."""
