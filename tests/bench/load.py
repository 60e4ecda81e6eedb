"""A small load generator for the benchmarks: raw HTTP/1.1 keep-alive connections on asyncio.

Run as a separate process so the load and the server do not share an interpreter:
    python -m tests.bench.load URL METHOD PATH --clients 50 --seconds 8 [--rate 200] [--body JSON]
        [--token T | --tokens T1,T2,…] [--idempotency] [--path-cycle p1,p2,…]
Prints one JSON object: counts by status, latencies (ms) of successful requests, response bodies
(optional), server-side durations from the Server-Timing header.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from urllib.parse import urlsplit


async def request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> tuple[int, dict, bytes]:
    writer.write(raw)
    await writer.drain()
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    headers: dict[str, str] = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


def build(method: str, host: str, path: str, token: str | None, body: bytes | None, key: bool) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if key:
        lines.append(f"Idempotency-Key: {uuid.uuid4().hex}")
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


async def client(index: int, args: argparse.Namespace, results: dict, deadline: float, start: float) -> None:
    url = urlsplit(args.url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    body = args.body.encode() if args.body else None
    paths = args.path_cycle.split(",") if args.path_cycle else [args.path]
    tokens = args.tokens.split(",") if args.tokens else [args.token]
    token = tokens[index % len(tokens)]  # e.g. client i is the clerk signed in at counter c{i+1}
    interval = args.clients / args.rate if args.rate else 0.0
    # spread the clients over the interval, or with --burst send all at the same instants
    next_at = start + (index * interval / args.clients if interval and not args.burst else 0)
    n = 0
    try:
        while True:
            if interval:
                delay = next_at - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                next_at += interval
            now = time.perf_counter()
            if now >= deadline:
                break
            path = paths[n % len(paths)].replace("{i}", str(index)).replace("{n}", str(index + 1))
            n += 1
            raw = build(args.method, url.netloc, path, token, body, args.idempotency)
            sent = time.perf_counter()
            status, headers, payload = await request(reader, writer, raw)
            elapsed_ms = (time.perf_counter() - sent) * 1000
            results["status"][str(status)] = results["status"].get(str(status), 0) + 1
            if 200 <= status < 300:
                results["latency_ms"].append(elapsed_ms)
                timing = headers.get("server-timing", "")
                if "dur=" in timing:
                    results["server_ms"].append(float(timing.split("dur=")[1].split(";")[0]))
                if args.keep_bodies:
                    results["bodies"].append({"client": index, "path": path, "body": json.loads(payload)})
    finally:
        writer.close()


async def main_async(args: argparse.Namespace) -> dict:
    results: dict = {"status": {}, "latency_ms": [], "server_ms": [], "bodies": []}
    start = time.perf_counter()
    deadline = start + args.seconds
    await asyncio.gather(*(client(i, args, results, deadline, start) for i in range(args.clients)))
    results["seconds"] = time.perf_counter() - start
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("method")
    parser.add_argument("path")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rate", type=float, default=0, help="total requests per second (0: no think time)")
    parser.add_argument("--body")
    parser.add_argument("--token")
    parser.add_argument("--tokens", help="comma-separated tokens, client i uses the i-th (cycled)")
    parser.add_argument("--idempotency", action="store_true")
    parser.add_argument("--burst", action="store_true", help="with --rate: every client sends at the same instants")
    parser.add_argument("--keep-bodies", action="store_true")
    parser.add_argument("--path-cycle", help="comma-separated paths cycled per client; {i} = client index, "
                        "{n} = index + 1")
    args = parser.parse_args()
    json.dump(asyncio.run(main_async(args)), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
