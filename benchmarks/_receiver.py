"""A fast webhook receiver for bench_dispatch.py (run as a separate process).

Minimal HTTP/1.1 with keep-alive on asyncio; prints ``<delivery id> <arrival time>`` per
request to stdout so the benchmark sees every arrival without sharing a GIL with it.
Usage: python _receiver.py  → prints the port on the first line.
"""

from __future__ import annotations

import asyncio
import sys
import time


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    out = sys.stdout
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            delivery = "-"
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                key = name.strip().lower()
                if key == b"content-length":
                    length = int(value.strip())
                elif key == b"x-runxin-delivery":
                    delivery = value.strip().decode()
            if length:
                await reader.readexactly(length)
            out.write(f"{delivery} {time.time()}\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main() -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)

    async def flusher() -> None:
        while True:
            await asyncio.sleep(0.001)
            sys.stdout.flush()

    task = asyncio.create_task(flusher())
    async with server:
        await server.serve_forever()
    task.cancel()


if __name__ == "__main__":
    asyncio.run(main())
