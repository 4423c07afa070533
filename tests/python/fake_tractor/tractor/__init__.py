"""A stand-in for Python tractor, only its child bootloader (tractor._child):
see _child.py. On PYTHONPATH only for tests/python/test_tractor_spawn.py."""
