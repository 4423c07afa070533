"""Service discovery: actors find each other by name through the registrar
(here the root, which elected itself registrar), not through their parent.

After tractor's examples/service_discovery.py and a_trynamic_first_scene.py:
two actors wait for each other with wait_for_actor() and talk directly.

Run: PYTHONPATH=build/bindings/python python3 examples/python/service_discovery.py
"""
import libtractor as tractor


def hi() -> str:
    return f"hi, I am {tractor.current_actor().name}"


def say_hello(other_actor: str) -> str:
    """Runs in each actor: find the other one by name and greet it."""
    with tractor.wait_for_actor(other_actor, timeout=10) as portal:
        return f"{tractor.current_actor().name} asked {other_actor}: {portal.run(hi)!r}"


def main() -> None:
    with tractor.open_nursery() as an:
        me = tractor.current_actor()
        print(f"the registrar is {me.name} at {me.addr} (registrar: {me.is_registrar})")
        donny = an.start_actor("donny", enable_modules=[__name__])
        gretchen = an.start_actor("gretchen", enable_modules=[__name__])
        with tractor.fail_after(30):
            print(donny.run(say_hello, other_actor="gretchen"))
            print(gretchen.run(say_hello, other_actor="donny"))
            # the registry: "name.uuid" -> addresses
            for key, addrs in sorted(tractor.get_registry().items()):
                print(f"  registered: {key.split('.')[0]:<9} at {addrs[0]}")
            with tractor.wait_for_actor("gretchen") as p:
                print(f"gretchen is found at {tractor.query_actor('gretchen')} ({p.name})")
        an.cancel()


if __name__ == "__main__":
    main()
