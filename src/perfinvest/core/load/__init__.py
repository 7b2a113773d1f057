"""Load testing, pure: load shapes, the targets file, results and SLO verdicts."""
