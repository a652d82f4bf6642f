"""An independent WebSocket client (Python's websockets, from Debian's python3-websockets) against
fiberloop's server: each check prints one line, "name: result", which WebSocketClientsTest compares
with what it expects."""
import asyncio
import sys

import websockets

BASE = sys.argv[1]


def out(name, value):
    print(f"{name}: {value}", flush=True)


async def closed(ws):
    try:
        await ws.recv()
        return "message"
    except websockets.exceptions.ConnectionClosed as e:
        rcvd = e.rcvd
        return f"{rcvd.code} {rcvd.reason}" if rcvd else "no close frame"


async def main():
    async with websockets.connect(BASE + "/echo") as ws:
        exts = [e.name for e in ws.extensions]
        out("extensions", ",".join(exts) or "none")
        await ws.send("hello from python ✓")
        out("text", await ws.recv())
        await ws.send(bytes([0, 1, 2, 254, 255]))
        b = await ws.recv()
        out("binary", f"{type(b).__name__} {','.join(str(x) for x in b)}")
        await ws.send(["frag", "men", "ted"])  # one message in three fragments
        out("fragmented", await ws.recv())
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, 5)
        out("pong", "ok")
        big = bytes([7]) * (200 * 1024)
        await ws.send(big)
        echo = await ws.recv()
        out("big", f"{len(echo)} {echo == big}")
        await ws.close(4000, "python done")
        out("close", f"{ws.close_code} {ws.close_reason}")

    async with websockets.connect(BASE + "/proto", subprotocols=["v1", "v2"]) as ws:
        out("protocol", f"{ws.subprotocol} {await ws.recv()}")
        out("proto-close", await closed(ws))

    async with websockets.connect(BASE + "/echo", max_size=None) as ws:
        await ws.send("x" * (400 * 1024))  # compressed, it inflates past the limit
        out("too-big", await closed(ws))

    async with websockets.connect(BASE + "/fail") as ws:
        await ws.send("go")
        out("fail", await closed(ws))

    async with websockets.connect(BASE + "/closes") as ws:
        out("closes", await closed(ws))

    try:
        async with websockets.connect(BASE + "/origin", origin="https://evil.example"):
            out("origin", "accepted")
    except websockets.exceptions.InvalidStatusCode as e:
        out("origin", f"HTTP {e.status_code}")


asyncio.run(main())
out("done", "ok")
