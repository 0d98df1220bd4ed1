"""A raw-socket server on 127.0.0.1 that misbehaves the way broken or hostile status
endpoints do, at the TCP level where tests/status_server.py (a well-behaved HTTP server)
cannot: it never answers, streams gigabytes, drops the connection, answers a TLS
handshake with garbage, or drips its answer a byte at a time.

The path of the request picks the behaviour: /silent, /gigabytes, /drop, /drop-mid-body,
/not-tls, /drip, /redirect-loop, and /ok (a small valid Statuspage summary).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

OK_BODY = b'{"page": {"name": "fine"}, "status": {"indicator": "none", "description": "All good"}}'


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
