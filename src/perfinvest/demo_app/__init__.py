"""The small application `perfinvest demo` investigates, with a slowdown planted in history.

The files are shipped as package data (``*.txt`` so no tool mistakes them for perfinvest's
own code) and written into a fresh git repository commit by commit.
"""
