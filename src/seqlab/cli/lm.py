"""`seqlab names` and `seqlab lm train|sample|eval` (being built)."""


def register(sub) -> None:
    """Add this feature's subcommands to the top-level parser."""
