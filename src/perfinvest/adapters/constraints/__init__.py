"""Constraint backends: run a benchmark under real CPU / memory / pids limits.

One module per backend (``cgroup2``, ``cgroup1``, ``docker_backend``, ``fallback``), the
automatic choice in ``detect``, leftover removal in ``cleanup``; the shared vocabulary in
``base``. Every backend hands out a *slot* (a context manager): where the process must go
before it does any work, what it reports afterwards, and the guarantee that the group or
container is removed on exit, also on Ctrl-C or an exception.
"""
