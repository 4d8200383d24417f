"""`python -m cronbridge`: the same as the `cronbridge` command."""

from cronbridge.cli import main

raise SystemExit(main())
