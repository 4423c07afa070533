"""A middle actor that spawns a (fake or real) Python tractor child:
tests/python/test_tractor_spawn.py checks what the grandchild is sent."""
import libtractor as tractor


def spawn_tractor_child(name: str, enable_modules: list) -> list:
    """Start a lang="tractor" child, wait for it to end (the fake exits by
    itself once it has its SpawnSpec), return its uid."""
    with tractor.open_nursery() as an:
        p = an.start_actor(name, lang="tractor", enable_modules=enable_modules)
        return list(p.uid)
