"""Real engines for the backend tests and bench/backends.py: Oxigraph server and Virtuoso 7, each on
free loopback ports with a temporary database, started and stopped by the caller."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

VIRTUOSO_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")
VIRTUOSO_DB = "/var/lib/virtuoso-opensource-7/db/"
VIRTUOSO_USER, VIRTUOSO_PASSWORD = "dba", "dba"  # a fresh database's administrator
# Virtuoso cuts every result at ResultSetMaxRows (10,000 in the Debian file): the service's dumps need
# all rows, so the test server (and any deployment, see graph/backends/virtuoso.py) raises it.
VIRTUOSO_SETTINGS = {"ResultSetMaxRows": "100000000", "NumberOfBuffers": "60000", "MaxDirtyBuffers": "45000",
                     "MaxQueryExecutionTime": "0"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(url: str, process: subprocess.Popen, seconds: float, log: Path | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            detail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise RuntimeError(f"the engine exited ({process.returncode}) before answering {url}\n{detail}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the engine did not answer {url} within {seconds:g} s")


class Engine:
    """A started engine: its kind, base URL, credentials and process."""

    def __init__(self, kind: str, base_url: str, process: subprocess.Popen, user: str = "", password: str = ""):
        self.kind, self.base_url, self.process = kind, base_url, process
        self.user, self.password = user, password

    @property
    def query_url(self) -> str:
        return self.base_url + ("/sparql" if self.kind == "virtuoso" else "/query")

    def settings(self) -> dict:
        """The service's settings for this engine (api.settings fields)."""
        return {"store": "remote", "remote_engine": self.kind, "remote_url": self.base_url,
                "remote_user": self.user, "remote_password": self.password}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def oxigraph_binary() -> str | None:
    return shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph")


def start_oxigraph(folder: Path, timeout_s: int = 30) -> Engine:
    binary = oxigraph_binary()
    if binary is None:
        raise FileNotFoundError("the oxigraph server is missing: pip install oxigraph (a test dependency)")
    port = free_port()
    process = subprocess.Popen([binary, "serve", "--location", str(folder), "--bind", f"127.0.0.1:{port}",
                                "--timeout-s", str(timeout_s)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    engine = Engine("oxigraph", f"http://127.0.0.1:{port}", process)
    try:
        _wait(engine.query_url + "?query=ASK%7B%7D", process, 30)
    except Exception:
        engine.stop()
        raise
    return engine


def virtuoso_binary() -> str | None:
    return shutil.which("virtuoso-t")


def start_virtuoso(folder: Path) -> Engine:
    binary = virtuoso_binary()
    if binary is None or not VIRTUOSO_INI.exists():
        raise FileNotFoundError("Virtuoso is missing: tests/backends/setup-virtuoso.sh installs it (as root)")
    folder.mkdir(parents=True, exist_ok=True)
    sql_port, http_port = free_port(), free_port()
    text = VIRTUOSO_INI.read_text().replace(VIRTUOSO_DB, str(folder) + "/")
    text = re.sub(r"(?m)^ServerPort(\s*)=\s*1111", rf"ServerPort\g<1>= {sql_port}", text)
    text = re.sub(r"(?m)^ServerPort(\s*)=\s*8890", rf"ServerPort\g<1>= {http_port}", text)
    text = text.replace("localhost:8890", f"127.0.0.1:{http_port}")
    for key, value in VIRTUOSO_SETTINGS.items():
        text = re.sub(rf"(?m)^{key}(\s*)=\s*[^;\n]*", rf"{key}\g<1>= {value} ", text)
    ini = folder / "virtuoso.ini"
    ini.write_text(text)
    log = folder / "virtuoso.log"
    process = subprocess.Popen([binary, "+foreground", "+configfile", str(ini)], cwd=folder,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ})
    engine = Engine("virtuoso", f"http://127.0.0.1:{http_port}", process, VIRTUOSO_USER, VIRTUOSO_PASSWORD)
    try:
        _wait(engine.query_url + "?query=ASK%7B%7D", process, 90, log)
    except Exception:
        engine.stop()
        raise
    return engine
