"""`python -m seqlab` runs the command-line tool."""

from seqlab.cli import main

raise SystemExit(main())
