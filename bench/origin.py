#!/usr/bin/env python3
"""origin.py: the fixed origin behind both proxies in bench/nginx-compare.sh.

It serves the same bytes to rempart and nginx, says how long they may be
cached, and counts requests per path so that the benchmark can prove a run
was all cache hits (origin count flat) and how many times a burst reached
the origin. Standard library only.

  /live/master.m3u8  1 KiB master playlist (EXT-X-STREAM-INF lines)
  /live/seg.ts       1 MiB segment
  /burst/<name>.ts   1 MiB segment answered after --burst-delay, for the
                     flash-crowd test (a fresh name is never cached)
  /_stats            JSON {path: requests}; not counted itself

Every 200 carries "Cache-Control: public, max-age=3600" so both proxies
decide freshness from the same origin header. The playlist is a *master*
playlist on purpose: rempart caps a media playlist's freshness at half its
EXT-X-TARGETDURATION (live players poll), which would turn a hit-throughput
test into a refresh test.
"""

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SEGMENT_BYTES = 1 << 20
PLAYLIST_BYTES = 1024
CACHE_CONTROL = "public, max-age=3600"


def make_playlist(size):
    """A valid master playlist padded with renditions to exactly size bytes."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:3"]
    i = 0
    while len("\n".join(lines)) < size - 120:
        bw = 400000 + 300000 * i
        lines.append(f'#EXT-X-STREAM-INF:BANDWIDTH={bw},RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2"')
        lines.append(f"r{i}/index.m3u8")
        i += 1
    body = "\n".join(lines) + "\n"
    pad = size - len(body)
    body += "#" + "x" * (pad - 2) + "\n" if pad >= 2 else ""
    return body.encode()[:size]


def make_segment(size):
    """size bytes of MPEG-TS null packets (sync byte 0x47, PID 0x1FFF)."""
    packet = bytes([0x47, 0x1F, 0xFF, 0x10]) + b"\xff" * 184
    return (packet * (size // len(packet) + 1))[:size]


class Counts:
    """Requests per path; lock guards by_path."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_path = {}

    def add(self, path):
        with self.lock:
            self.by_path[path] = self.by_path.get(path, 0) + 1

    def snapshot(self):
        with self.lock:
            return dict(self.by_path)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the proxies' pools expect
    server_version = "bench-origin"

    def do_GET(self):
        self.answer(send_body=True)

    def do_HEAD(self):
        self.answer(send_body=False)

    def answer(self, send_body):
        path = self.path.split("?", 1)[0]
        srv = self.server
        if path == "/_stats":
            self.reply(200, json.dumps(srv.counts.snapshot()).encode(), "application/json", None, send_body)
            return
        srv.counts.add(path)
        if path == "/live/master.m3u8":
            self.reply(200, srv.playlist, "application/vnd.apple.mpegurl", CACHE_CONTROL, send_body)
        elif path == "/live/seg.ts":
            self.reply(200, srv.segment, "video/mp2t", CACHE_CONTROL, send_body)
        elif path.startswith("/burst/") and path.endswith(".ts"):
            # One line per burst request: when it came and on which upstream
            # connection, to tell a late duplicate from a parallel one.
            print(f"{time.time():.3f} origin GET {path} from {self.client_address[1]}", file=sys.stderr, flush=True)
            time.sleep(srv.burst_delay)  # the origin's time to produce a new segment
            self.reply(200, srv.segment, "video/mp2t", CACHE_CONTROL, send_body)
        else:
            self.reply(404, b"not found\n", "text/plain", None, send_body)

    def reply(self, code, body, ctype, cache_control, send_body):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if cache_control:
            self.send_header("Cache-Control", cache_control)
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def log_message(self, *args):
        pass  # counts replace the access log; no per-request output


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 4096  # a proxy that does not coalesce must not get refused
    allow_reuse_address = True


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--listen", default="127.0.0.1:18000", help="host:port (loopback only)")
    p.add_argument("--burst-delay", type=float, default=0.1, help="seconds before answering /burst/ (default 0.1)")
    a = p.parse_args()
    host, port = a.listen.rsplit(":", 1)
    if host not in ("127.0.0.1", "localhost"):
        p.error("--listen must be on 127.0.0.1")
    srv = Server((host, int(port)), Handler)
    srv.counts = Counts()
    srv.playlist = make_playlist(PLAYLIST_BYTES)
    srv.segment = make_segment(SEGMENT_BYTES)
    srv.burst_delay = a.burst_delay
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
