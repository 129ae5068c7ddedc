"""`seqlab translate ...` subcommands (being built; see the issue tracker)."""


def register(sub) -> None:
    """Add this feature's subcommands to the top-level parser."""
