"""Errors of the store: one sentence a person can act on."""


class StoreError(ValueError):
    """A request the store cannot carry out (unknown name, duplicate, bad key...)."""
