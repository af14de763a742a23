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

from newsroom.config import Settings

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
    parts: int = 1  # SMS parts it travelled in (concatenated messages are joined back)


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
        self._parts: dict[tuple[str, str, int], dict[int, bytes]] = {}

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

    def _start_phone(self, outgoing: str = "") -> None:
        """fakesmsc connected to bearerbox: logs each message it receives; sends `outgoing` once.

        Kannel's fake SMSC serves one handset connection at a time, so a handset that wants to send
        replaces the listening one (fakesmsc takes what to send only on its command line).
        """
        connections = self._connections()
        count, message = ("1", outgoing) if outgoing else ("0", "1 2 text unused")
        phone = subprocess.Popen(
            [FAKESMSC, "-H", "127.0.0.1", "-r", str(self.smsc_port), "-i", "0.1", "-m", count, message],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=self.workdir,
        )
        self._processes.append(phone)
        self._phone = phone
        self._reader = threading.Thread(target=self._read_phone, args=(phone,), daemon=True)
        self._reader.start()
        self.wait_until_connected(connections)

    def _stop_phone(self) -> None:
        phone = self._phone
        if phone is None:
            return
        phone.send_signal(signal.SIGTERM)
        phone.wait(timeout=10)
        self._processes.remove(phone)
        if self._reader is not None:
            self._reader.join(timeout=10)
        self._phone = None

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
        if kind == "udh":
            self._publish(self._collect_part(sender, receiver, data))
            return None
        return HandsetMessage(sender, receiver, _decode(kind, data))

    def _collect_part(self, sender: str, receiver: str, data: str) -> HandsetMessage | None:
        """One part of a concatenated message (`udh <udh> data <bytes>`); the whole once complete."""
        udh_text, _kind, payload = data.split(" ", 2)
        udh = urllib.parse.unquote_to_bytes(udh_text.replace("+", " "))
        reference, total, number = _concatenation(udh)
        key = (sender, receiver, reference)
        parts = self._parts.setdefault(key, {})
        parts[number] = urllib.parse.unquote_to_bytes(payload.replace("+", " "))
        if len(parts) < total:
            return None
        whole = b"".join(parts[n] for n in sorted(parts))
        del self._parts[key]
        # The fake SMSC does not say how the parts are coded: UCS-2 (UTF-16BE) has NUL bytes in
        # every ASCII character (every alert has its link), GSM text arrives as UTF-8.
        text = whole.decode("utf-16-be") if b"\x00" in whole else whole.decode("utf-8", "replace")
        return HandsetMessage(sender, receiver, text, total)

    def _publish(self, message: HandsetMessage | None) -> None:
        if message is not None:
            with self._lock:
                self._received.append(message)
                self._lock.notify_all()

    def _connections(self) -> int:
        log = self.workdir / "bearerbox.log"
        return log.read_text("utf-8", "replace").count("Fakesmsc client connected") if log.is_file() else 0

    def wait_until_connected(self, before: int = 0, timeout: float = 20) -> None:
        """Until bearerbox logs one more handset connection than `before`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._connections() > before:
                return
            time.sleep(0.05)
        raise TimeoutError(f"fakesmsc did not connect to bearerbox; see {self.workdir / 'bearerbox.log'}")

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
        """One inbound text from a handset (sent as UCS-2, so any script arrives)."""
        encoded = urllib.parse.quote(text.encode("utf-16-be"))
        self._stop_phone()
        self._start_phone(f"{sender} {receiver} ucs2 {encoded}")

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
max-messages = 3
concatenation = true
accept-x-kannel-headers = true
{inbound}
"""


FAKESMSC_RECORD = re.compile(r"^(\S+) (\S+) (text|data|ucs-2|udh) (.*)$", re.DOTALL)


def record_body(line: str) -> str | None:
    """The `from to type data` between the angle brackets of a `Got message N: <...>` log line."""
    if "Got message" not in line or ": <" not in line:
        return None
    return line.split("Got message", 1)[1].split(": <", 1)[1].removesuffix(">")


def _concatenation(udh: bytes) -> tuple[int, int, int]:
    """(reference, total parts, part number) from a concatenation UDH (8- or 16-bit reference)."""
    index = 1
    while index < len(udh):
        element, length = udh[index], udh[index + 1]
        value = udh[index + 2 : index + 2 + length]
        if element == 0x00:
            return value[0], value[1], value[2]
        if element == 0x08:
            return value[0] << 8 | value[1], value[2], value[3]
        index += 2 + length
    raise ValueError(f"no concatenation element in UDH {udh.hex()}")


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


def settings_for_gateway(
    settings: Settings, gateway: KannelGateway | None, *, messages_per_second: float = 200, url: str = ""
) -> Settings:
    """The settings with delivery.kannel pointing at this gateway."""
    kannel = settings.delivery.kannel.model_copy(
        update={
            "sendsms_url": url or (gateway.sendsms_url if gateway else ""),
            "username": gateway.username if gateway else "newsroom",
            "messages_per_second": messages_per_second,
        }
    )
    delivery = settings.delivery.model_copy(update={"kannel": kannel})
    return Settings(settings.root, settings.file.model_copy(update={"delivery": delivery}))
