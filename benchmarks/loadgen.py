"""A minimal HTTP/1.1 keep-alive load generator on asyncio streams.

httpx spends about a millisecond of CPU per request on these machines, enough to make the
client, not the server, the bottleneck at 50 concurrent clients; this sends pre-built requests
and reads responses by Content-Length, at a few tens of microseconds per request.
"""

from __future__ import annotations

import asyncio
import time


def build_request(method: str, path: str, host: str, body: bytes = b"") -> bytes:
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def one_client(
    host: str, port: int, request: bytes, deadline: float, latencies: list[float]
) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    done = 0
    try:
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            writer.write(request)
            status, _ = await read_response(reader)
            if status != 200:
                raise RuntimeError(f"HTTP {status}")
            latencies.append(time.perf_counter() - began)
            done += 1
    finally:
        writer.close()
    return done


async def load(
    host: str, port: int, request: bytes, clients: int, seconds: float
) -> tuple[int, float, list[float]]:
    """Completed requests, elapsed seconds and every latency, for `clients` connections."""
    latencies: list[float] = []
    began = time.perf_counter()
    counts = await asyncio.gather(
        *(one_client(host, port, request, began + seconds, latencies) for _ in range(clients))
    )
    return sum(counts), time.perf_counter() - began, latencies
