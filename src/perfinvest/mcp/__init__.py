"""perfinvest as a Model Context Protocol server (``perfinvest mcp``, the ``mcp`` extra).

``models`` holds the tools' structured results, ``tools`` builds each tool's command line and
runs it as ``python -m perfinvest ... --json``, ``server`` registers the tools with the ``mcp``
package's FastMCP and serves them over stdio. Only ``server`` imports the ``mcp`` package.
"""
