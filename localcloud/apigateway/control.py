"""Placeholder: replaced by its concern's implementation."""


def install() -> None:
    pass
