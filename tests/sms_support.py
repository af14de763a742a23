"""A real Kannel on loopback for tests and benchmarks: bearerbox + smsbox + fakesmsc as the phone.

    with KannelGateway(tmp_path, inbound_url="http://127.0.0.1:8123/sms/inbound") as gateway:
        ...send to gateway.sendsms_url with gateway.username / gateway.password...
        gateway.wait_for_messages(1)  # what arrived at the handset (fakesmsc)
        gateway.phone_sends("+15185550100", "STOP")  # an inbound text from a handset

Every process binds 127.0.0.1 on free ports and is stopped by its own pid on exit.
"""

from __future__ import annotations

import os
import re
import select
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

BEARERBOX = "/usr/sbin/bearerbox"
SMSBOX = "/usr/sbin/smsbox"
FAKESMSC = "/usr/lib/kannel/test/fakesmsc"
SHORT_CODE = "12345"


def kannel_available() -> bool:
    return all(Path(path).is_file() and os.access(path, os.X_OK) for path in (BEARERBOX, SMSBOX, FAKESMSC))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class HandsetMessage:
    """A message that reached fakesmsc (the phone network): sender, receiver, text."""

    sender: str
    receiver: str
    text: str


class KannelGateway:
    def __init__(self, workdir: Path, inbound_url: str = "", username: str = "newsroom") -> None:
        self.workdir = workdir
        self.username = username
        self.password = "test-" + os.urandom(6).hex()
        self.inbound_url = inbound_url
        self.admin_port, self.smsbox_port, self.smsc_port, self.sendsms_port = (free_port() for _ in range(4))
        self._processes: list[subprocess.Popen[bytes]] = []
        self._received: list[HandsetMessage] = []
        self._lock = threading.Condition()
        self._reader: threading.Thread | None = None
        self._phone: subprocess.Popen[bytes] | None = None

    @property
    def sendsms_url(self) -> str:
        return f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms"

    # --- lifecycle ---

    def __enter__(self) -> KannelGateway:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "kannel.conf"
        config.write_text(self._config(), encoding="utf-8")
        try:
            self._start([BEARERBOX, str(config)], "bearerbox")
            _wait_port(self.smsbox_port)
            self._start([SMSBOX, str(config)], "smsbox")
            _wait_port(self.sendsms_port)
            self._start_phone()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        for process in reversed(self._processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in reversed(self._processes):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self._processes.clear()

    def _start(self, command: list[str], name: str) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{name}.out").open("wb")
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir)
        self._processes.append(process)
        return process

    def _start_phone(self) -> None:
        """fakesmsc connected to bearerbox: logs each MT message it receives, sends none (-m 0)."""
        phone = subprocess.Popen(
            [FAKESMSC, "-H", "127.0.0.1", "-r", str(self.smsc_port), "-i", "0.1", "-m", "0", "1 2 text x"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=self.workdir,
        )
        self._processes.append(phone)
        self._phone = phone
        self._reader = threading.Thread(target=self._read_phone, args=(phone,), daemon=True)
        self._reader.start()
        self.wait_until_connected()

    def _read_phone(self, phone: subprocess.Popen[bytes]) -> None:
        """fakesmsc logs `... Got message N: <from to type data>` per line it reads from bearerbox.

        Kannel's fake SMSC protocol is one line per message with GSM text sent raw, so a text with
        a line break arrives as several "messages"; a record that is not `from to type data` is the
        rest of the previous text and is joined back. A message is published once no more of it
        can follow (the next record, or a quiet pipe).
        """
        assert phone.stderr is not None
        fd = phone.stderr.fileno()
        pending: HandsetMessage | None = None
        buffer = b""
        with (self.workdir / "fakesmsc.log").open("wb") as log:
            while True:
                ready, _, _ = select.select([fd], [], [], 0.2)
                if not ready:
                    self._publish(pending)
                    pending = None
                    continue
                chunk = os.read(fd, 65536)
                if not chunk:
                    self._publish(pending)
                    return
                log.write(chunk)
                log.flush()
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    pending = self._absorb(line.decode("utf-8", "replace"), pending)

    def _absorb(self, line: str, pending: HandsetMessage | None) -> HandsetMessage | None:
        body = record_body(line)
        if body is None:
            return pending
        header = FAKESMSC_RECORD.match(body)
        if header is None:
            if pending is None:
                return None
            return HandsetMessage(pending.sender, pending.receiver, pending.text + "\n" + body)
        self._publish(pending)
        sender, receiver, kind, data = header.groups()
        return HandsetMessage(sender, receiver, _decode(kind, data))

    def _publish(self, message: HandsetMessage | None) -> None:
        if message is not None:
            with self._lock:
                self._received.append(message)
                self._lock.notify_all()

    def wait_until_connected(self, timeout: float = 20) -> None:
        """Until bearerbox reports the fake SMSC online (messages sent before that queue up anyway)."""
        deadline = time.monotonic() + timeout
        status = self.workdir / "bearerbox.log"
        while time.monotonic() < deadline:
            if status.is_file() and "Fakesmsc client connected" in status.read_text("utf-8", "replace"):
                return
            time.sleep(0.1)
        raise TimeoutError(f"fakesmsc did not connect to bearerbox; see {status}")

    # --- what the handset sees ---

    def received(self) -> list[HandsetMessage]:
        with self._lock:
            return list(self._received)

    def wait_for_messages(self, count: int, timeout: float = 30) -> list[HandsetMessage]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self._received)} of {count} messages reached fakesmsc")
                self._lock.wait(left)
            return list(self._received)

    def phone_sends(self, sender: str, text: str, receiver: str = SHORT_CODE) -> None:
        """One inbound text from a handset, through its own short-lived fakesmsc."""
        encoded = urllib.parse.quote(text.encode("utf-16-be"))
        subprocess.run(
            [FAKESMSC, "-H", "127.0.0.1", "-r", str(self.smsc_port), "-i", "0.1", "-m", "1",
             f"{sender} {receiver} ucs2 {encoded}"],
            cwd=self.workdir, capture_output=True, timeout=30, check=False,
        )  # fmt: skip

    # --- configuration ---

    def _config(self) -> str:
        inbound = (
            f'get-url = "{self.inbound_url}?sender=%p&receiver=%P&text=%a"'
            if self.inbound_url
            else 'text = "no inbound service in this test"'
        )
        return f"""
group = core
admin-port = {self.admin_port}
admin-interface = 127.0.0.1
admin-password = {self.password}
admin-allow-ip = "127.0.0.1"
smsbox-port = {self.smsbox_port}
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
log-level = 1
log-file = "{self.workdir}/bearerbox.log"
access-log = "{self.workdir}/access.log"
dlr-storage = internal
store-type = file
store-location = "{self.workdir}/store"

group = smsc
smsc = fake
smsc-id = phone
port = {self.smsc_port}
our-host = 127.0.0.1
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {self.smsbox_port}
sendsms-port = {self.sendsms_port}
sendsms-interface = 127.0.0.1
mo-recode = true
global-sender = {SHORT_CODE}
log-level = 1
log-file = "{self.workdir}/smsbox.log"
access-log = "{self.workdir}/smsbox-access.log"

group = sendsms-user
username = {self.username}
password = {self.password}
max-messages = 10
concatenation = true

group = sms-service
keyword = default
catch-all = true
max-messages = 1
concatenation = true
{inbound}
"""


FAKESMSC_RECORD = re.compile(r"^(\S+) (\S+) (text|data|ucs-2|udh-data|udh-text) (.*)$", re.DOTALL)


def record_body(line: str) -> str | None:
    """The `from to type data` between the angle brackets of a `Got message N: <...>` log line."""
    if "Got message" not in line or ": <" not in line:
        return None
    return line.split("Got message", 1)[1].split(": <", 1)[1].removesuffix(">")


def _decode(kind: str, data: str) -> str:
    if kind == "text":
        return data
    raw = urllib.parse.unquote_to_bytes(data.replace("+", " "))
    return raw.decode("utf-16-be") if kind == "ucs-2" else raw.decode("latin-1")


def _wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")
