"""A served function that raises an exception group (test_remote_groups.py)."""


def raise_group():
    raise ExceptionGroup("two failures", [ValueError("a"), KeyError("b")])
