"""Allow ``python -m perfinvest``."""

from perfinvest.cli.main import main

raise SystemExit(main())
