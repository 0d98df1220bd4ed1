"""A raw-socket server on 127.0.0.1 that misbehaves the way broken or hostile status
endpoints do, at the TCP level where tests/status_server.py (a well-behaved HTTP server)
cannot: it never answers, streams gigabytes, drops the connection, answers a TLS
handshake with garbage, or drips its answer a byte at a time.

The path of the request picks the behaviour: /silent, /gigabytes, /drop, /drop-mid-body,
/not-tls, /drip, /redirect-loop, the compression bombs /gzip-bomb and /deflate-bomb (10 MB
of zeros squeezed into 10 KB, sent with Content-Encoding gzip or deflate) and
/gzip-gigabytes (2 GiB of zeros as an endless gzip stream, about 1 KB on the wire per
MiB inflated), /gzip-then-garbage, the compressed answers in ENCODED (honest ones such
as /ok-gzip, and broken ones), and /ok (a small valid Statuspage summary).
"""

from __future__ import annotations

import socket
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

OK_BODY = b'{"page": {"name": "fine"}, "status": {"indicator": "none", "description": "All good"}}'
BOMB_SIZE = 10 * 1024 * 1024
STREAMED_BOMB_SIZE = 2 * 1024 * 1024 * 1024
_MIB = 1024 * 1024


def _squeezed(wbits: int) -> bytes:
    """BOMB_SIZE zeros compressed (gzip for wbits 31, zlib-wrapped deflate for 15)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return packer.compress(bytes(BOMB_SIZE)) + packer.flush()


def _streamed_gzip() -> tuple[bytes, bytes]:
    """The head of a gzip stream and a block that inflates to one MiB of zeros: after a
    full flush every block compresses alike, so repeating it makes a stream of any size."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = packer.compress(bytes(_MIB)) + packer.flush(zlib.Z_FULL_FLUSH)
    block = packer.compress(bytes(_MIB)) + packer.flush(zlib.Z_FULL_FLUSH)
    return head, block


def _packed(data: bytes, wbits: int) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, wbits)
    return packer.compress(data) + packer.flush()


GZIP_BOMB, DEFLATE_BOMB = _squeezed(31), _squeezed(15)
GZIP_HEAD, GZIP_BLOCK = _streamed_gzip()
# Compressed answers, honest, hostile and broken: path -> (Content-Encoding, body).
ENCODED = {
    "/gzip-bomb": ("gzip", GZIP_BOMB),
    "/deflate-bomb": ("deflate", DEFLATE_BOMB),
    "/ok-gzip": ("gzip", _packed(OK_BODY, 31)),
    "/ok-deflate": ("deflate", _packed(OK_BODY, 15)),
    "/ok-deflate-raw": ("deflate", _packed(OK_BODY, -15)),  # no zlib header, as some send
    "/ok-gzip-twice": ("gzip, gzip", _packed(_packed(OK_BODY, 31), 31)),
    "/gzip-corrupt": ("gzip", _packed(OK_BODY, 31)[:12] + b"\xff" * 40),
    "/brotli": ("br", b"\x0b\x02\x80hello\x03"),
    "/gzip-four-times": ("gzip, gzip, gzip, gzip", OK_BODY),
}


@dataclass
class HostileServer:
    port: int
    served: list[str] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _read_request(conn: socket.socket) -> str:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    line = data.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ")
    return parts[1].split("?")[0] if len(parts) > 1 else ""


def _handle(conn: socket.socket, state: HostileServer) -> None:
    try:
        first = conn.recv(1, socket.MSG_PEEK)
        if first == b"\x16":  # a TLS ClientHello: answer with something that is not TLS
            conn.sendall(b"HTTP/1.1 400 this is not TLS\r\n\r\n" + b"\x00garbage" * 64)
            return
        path = _read_request(conn)
        state.served.append(path)
        if path == "/silent":
            state.stopping.wait(120)
        elif path == "/gigabytes":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n[")
            block = b"0," * 32768
            for _ in range(2 * 1024 * 1024 * 1024 // len(block)):  # up to 2 GiB
                if state.stopping.is_set():
                    break
                conn.sendall(block)
        elif path in ENCODED:
            coding, body = ENCODED[path]
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Encoding: %s\r\nContent-Length: %d\r\n\r\n%s"
                         % (coding.encode(), len(body), body))  # fmt: skip
        elif path == "/gzip-then-garbage":  # a small gzip answer, then 6 MiB more bytes
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Encoding: gzip\r\n\r\n" + ENCODED["/ok-gzip"][1])  # fmt: skip
            for _ in range(6 * 16):
                if state.stopping.is_set():
                    break
                conn.sendall(b"\x00" * 65536)
        elif path == "/gzip-gigabytes":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Encoding: gzip\r\n\r\n" + GZIP_HEAD)  # fmt: skip
            for _ in range(STREAMED_BOMB_SIZE // (64 * _MIB)):  # or until the client leaves
                if state.stopping.is_set():
                    break
                conn.sendall(GZIP_BLOCK * 64)
        elif path == "/drop":
            conn.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
        elif path == "/drop-mid-body":
            conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n{"page": ')
        elif path == "/drip":
            answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(OK_BODY), OK_BODY)
            for byte in answer:
                if state.stopping.is_set():
                    break
                conn.sendall(bytes([byte]))
                time.sleep(0.2)
        elif path == "/redirect-loop":
            conn.sendall(
                b"HTTP/1.1 302 Found\r\nLocation: /redirect-loop\r\nContent-Length: 0\r\n\r\n"
            )
        else:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(OK_BODY), OK_BODY))  # fmt: skip
    except OSError:
        pass
    finally:
        conn.close()


@contextmanager
def hostile_server() -> Iterator[HostileServer]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.2)
    state = HostileServer(listener.getsockname()[1])

    def accept() -> None:
        while not state.stopping.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=_handle, args=(conn, state), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stopping.set()
        thread.join(timeout=2)
        listener.close()
