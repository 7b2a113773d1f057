"""The load engine: the targets file on disk, a generated locustfile, Locust as a subprocess.

Locust and gevent are never imported into the perfinvest process: they monkey-patch the
standard library. The engine writes a locustfile and a JSON plan and runs
``python -m locust`` headless; the locustfile dumps each route's full latency histogram.
"""
