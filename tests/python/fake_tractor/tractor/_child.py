"""A stand-in for Python tractor's child bootloader, ``python -m
tractor._child``, to check what a libtractor parent sends a tractor child
(tractor itself needs Python >= 3.13).

It parses its command line as tractor does (``ast.literal_eval`` of --uid and
--parent_addr), connects back to the parent, swaps ``Aid`` frames, reads the
``SpawnSpec`` and checks it as tractor's ``Actor._from_parent`` would (the
``_debug_mode`` and ``_is_infected_aio`` runtime vars must exist, the latter
must match --asyncio). It then writes a JSON report (command line, the
parent's Aid, the SpawnSpec with its keys in wire order and any msgpack bin
value marked) to $FAKE_TRACTOR_REPORT and exits 0, closing the connection.
"""
import argparse
import json
import os
import socket
import struct
import sys
from ast import literal_eval


# ---- a minimal msgpack ---------------------------------------------------

def pack(v) -> bytes:
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        if 0 <= v < 128:
            return bytes([v])
        return b"\xd3" + struct.pack(">q", v)
    if isinstance(v, str):
        b = v.encode()
        if len(b) < 32:
            return bytes([0xa0 | len(b)]) + b
        return b"\xd9" + bytes([len(b)]) + b if len(b) < 256 else b"\xda" + struct.pack(">H", len(b)) + b
    if isinstance(v, dict):
        out = bytes([0x80 | len(v)])
        for k, x in v.items():
            out += pack(k) + pack(x)
        return out
    raise TypeError(type(v))


class Reader:
    def __init__(self, data: bytes) -> None:
        self.d, self.i = data, 0

    def take(self, n: int) -> bytes:
        b = self.d[self.i:self.i + n]
        if len(b) != n:
            raise ValueError("truncated msgpack")
        self.i += n
        return b

    def u(self, fmt: str):
        return struct.unpack(">" + fmt, self.take(struct.calcsize(">" + fmt)))[0]

    def obj(self):
        """Decode one value. Maps become {"__map__": [[k, v], ...]} to keep
        their order; bin values {"__bin__": hex}."""
        t = self.take(1)[0]
        if t <= 0x7f:
            return t
        if t >= 0xe0:
            return t - 0x100
        if 0x80 <= t <= 0x8f:
            return self.map(t & 0x0f)
        if 0x90 <= t <= 0x9f:
            return [self.obj() for _ in range(t & 0x0f)]
        if 0xa0 <= t <= 0xbf:
            return self.take(t & 0x1f).decode()
        simple = {0xc0: None, 0xc2: False, 0xc3: True}
        if t in simple:
            return simple[t]
        if t in (0xc4, 0xc5, 0xc6):
            n = self.u({0xc4: "B", 0xc5: "H", 0xc6: "I"}[t])
            return {"__bin__": self.take(n).hex()}
        if t in (0xd9, 0xda, 0xdb):
            n = self.u({0xd9: "B", 0xda: "H", 0xdb: "I"}[t])
            return self.take(n).decode()
        ints = {0xcc: "B", 0xcd: "H", 0xce: "I", 0xcf: "Q", 0xd0: "b", 0xd1: "h", 0xd2: "i",
                0xd3: "q", 0xca: "f", 0xcb: "d"}
        if t in ints:
            return self.u(ints[t])
        if t in (0xdc, 0xdd):
            return [self.obj() for _ in range(self.u("H" if t == 0xdc else "I"))]
        if t in (0xde, 0xdf):
            return self.map(self.u("H" if t == 0xde else "I"))
        raise ValueError(f"unsupported msgpack type 0x{t:02x}")

    def map(self, n: int):
        return {"__map__": [[self.obj(), self.obj()] for _ in range(n)]}


def recv_frame(sock: socket.socket) -> bytes:
    def exactly(n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("the parent closed the connection")
            buf += chunk
        return buf
    (n,) = struct.unpack("<I", exactly(4))
    return exactly(n)


def plain(v):
    """The decoded value without the order-keeping wrappers."""
    if isinstance(v, dict) and "__map__" in v:
        return {k: plain(x) for k, x in v["__map__"]}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


def main() -> int:
    # tractor's own argument parsing (tractor/_child.py)
    parser = argparse.ArgumentParser()
    parser.add_argument("--uid", type=literal_eval)
    parser.add_argument("--loglevel", type=str)
    parser.add_argument("--parent_addr", type=literal_eval)
    parser.add_argument("--asyncio", action="store_true")
    args = parser.parse_args()
    name, uuid = args.uid
    host, port = args.parent_addr
    if isinstance(port, int):
        sock = socket.create_connection((host, port))
    else:
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(os.path.join(host, port))
    aid = {"msg_type": "Aid", "name": name, "uuid": uuid, "pid": os.getpid(),
           "is_registrar": False, "is_probe": False}
    body = pack(aid)
    sock.sendall(struct.pack("<I", len(body)) + body)
    parent_aid = Reader(recv_frame(sock)).obj()
    spec = Reader(recv_frame(sock)).obj()
    problems = []
    p = plain(spec)
    if p.get("msg_type") != "SpawnSpec":
        problems.append(f"second frame is not a SpawnSpec: {p.get('msg_type')}")
    rvs = p.get("_runtime_vars") or {}
    for key in ("_debug_mode", "_is_infected_aio"):   # tractor indexes these
        if key not in rvs:
            problems.append(f"_runtime_vars lacks {key}")
    if rvs.get("_is_infected_aio") != args.asyncio:
        problems.append("_is_infected_aio does not match --asyncio")
    report = {"argv": sys.argv, "executable": sys.executable, "args": vars(args),
              "parent_aid": plain(parent_aid), "spawnspec": spec, "problems": problems}
    path = os.environ["FAKE_TRACTOR_REPORT"]
    with open(path + ".tmp", "w") as f:
        json.dump(report, f)
    os.rename(path + ".tmp", path)
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
