"""A throw-away Kannel SMS gateway plus a fake phone, for tests.

    from tests.support.kannel import KannelGateway, kannel_missing

    with KannelGateway(get_url="http://127.0.0.1:8123/sms/inbound") as kg:
        # the app sends MT messages through kg.sendsms_url with kg.username/kg.password
        kg.sendsms("+79001234567", "Привет")          # or let the app do it
        [msg] = kg.received(timeout=5)                 # what the phone got
        assert msg.text == "Привет"
        kg.send_from_phone("+79001234567", "1234", "СТОП")   # MO -> get_url

Everything runs in a temporary directory, bound to 127.0.0.1 on free ports:

* bearerbox (admin port, smsbox port, a `fake` SMSC listening for fakesmsc),
* smsbox (sendsms on 127.0.0.1, `mo-recode = true`, one sendsms-user, one
  `sms-service` `default` whose get-url is the caller's URL),
* /usr/lib/kannel/test/fakesmsc (kannel-extras) in interactive mode: it is the phone.
  Lines written to its stdin are messages the phone sends (MO); messages the
  gateway sends to the phone (MT) appear in its log on stderr.

fakesmsc line format (both directions, see Kannel's test/fakesmsc.c, gw/smsc/smsc_fake.c):

    SENDER RECEIVER text MESSAGE            7-bit; Kannel prints UTF-8 bytes raw
    SENDER RECEIVER data URLENCODED         8-bit data
    SENDER RECEIVER ucs2 URLENCODED         MO (phone -> gateway): UTF-16BE, url-encoded
    SENDER RECEIVER ucs-2 URLENCODED        MT (gateway -> phone): same, spelt "ucs-2"
    SENDER RECEIVER udh URLENC-UDH data URLENC-DATA

fakesmsc reads stdin with a 256-byte buffer, so one MO line is at most 255 bytes
(about 40 Cyrillic characters as url-encoded UCS-2); send_from_phone() refuses longer.
An MT "text" message containing a newline reaches the phone as two lines; the
helper joins a line that is not "SENDER RECEIVER TYPE ..." to the message before.

MO messages reach get_url as a GET.  When get_url has no Kannel %-escapes, these
query parameters are appended (Kannel escapes in brackets):

    from (%p)  to (%P)  text (%b, UTF-8 thanks to mo-recode)  charset (%C)
    coding (%c)  smsc (%i)  id (%I)  ts (%t)

The body of get_url's response is texted back to the sender.  Kannel sends it
as 7-bit unless the response carries the header `X-Kannel-Coding: 2`
(`accept-x-kannel-headers = true` is set), so a non-Latin reply ("Вы отписаны")
needs that header, or it arrives as "?? ?????????".  An empty body sends nothing
(`omit-empty = true`).

DLRs: `dlr-storage = internal`; pass `dlr-mask` and `dlr-url` to sendsms as usual.
The fake SMSC reports 8 (SMSC ack) and 1 (delivered) for every MT message.
"""

from __future__ import annotations

import contextlib
import ctypes
import ipaddress
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

BEARERBOX = "/usr/sbin/bearerbox"
SMSBOX = "/usr/sbin/smsbox"
FAKESMSC = "/usr/lib/kannel/test/fakesmsc"
HOST = "127.0.0.1"

DEFAULT_MO_QUERY = "from=%p&to=%P&text=%b&charset=%C&coding=%c&smsc=%i&id=%I&ts=%t"

# GSM 03.38 default alphabet and extension table: text made only of these is sent
# as 7-bit by sendsms(); anything else as UCS-2 (coding=2).
_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
    "^{}\\[~]|€\f"
)

_GOT_RE = re.compile(rb"Got message (\d+): <(.*)>\s*$")
_SENT_RE = re.compile(rb"fakesmsc: sent message (\d+)\s*$")
_TYPES = (b"text", b"data", b"ucs-2", b"ucs2", b"udh")


def kannel_missing() -> str | None:
    """Why the gateway cannot run here (for pytest.skip), or None when it can."""
    for exe, pkg in ((BEARERBOX, "kannel"), (SMSBOX, "kannel"), (FAKESMSC, "kannel-extras")):
        if not os.access(exe, os.X_OK):
            return f"{exe} not found (apt-get install {pkg}; see scripts/setup-debian.sh)"
    return None


def is_gsm7(text: str) -> bool:
    return all(ch in _GSM7 for ch in text)


@dataclass(frozen=True)
class PhoneMessage:
    """A message the fake phone received from the gateway (MT)."""

    sender: str
    receiver: str
    text: str
    coding: str  # "text", "data", "ucs-2" or "udh", as fakesmsc printed it
    udh: bytes | None = None
    raw: bytes = field(default=b"", repr=False)


class KannelError(RuntimeError):
    pass


def _free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((HOST, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _is_loopback_url(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _listening(port: int) -> bool:
    """Is something listening on 127.0.0.1:port?  Read from /proc/net/tcp, so that a
    probe does not connect (bearerbox would take a probe for a fakesmsc or box client)."""
    want = f"0100007F:{port:04X}"
    try:
        with open("/proc/net/tcp", encoding="ascii") as f:
            next(f)
            return any(
                (cols := line.split())[1] == want and cols[3] == "0A"  # 0A = LISTEN
                for line in f
            )
    except OSError:  # no /proc: fall back to connecting
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return True
        except OSError:
            return False


_libc: ctypes.CDLL | None = None


def _die_with_parent() -> None:  # runs in the child before exec
    # If the test process dies without tearing down, the boxes get SIGTERM.  (Linux
    # sends it when the *thread* that started them ends: start the gateway from the
    # test's main thread, as fixtures do.)
    if _libc is not None:
        _libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _decode_text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _decode_udh_data(data: bytes) -> str:
    # The fake SMSC does not say whether UDH data is UCS-2: guess, for alphabetic
    # scripts below U+2000 (Latin, Cyrillic, Greek, Arabic, Hebrew, ...).
    if len(data) % 2 == 0 and data and all(b < 0x20 for b in data[0::2]):
        try:
            return data.decode("utf-16-be")
        except UnicodeDecodeError:
            pass
    return _decode_text(data)


def parse_phone_line(line: bytes) -> PhoneMessage | None:
    """Parse one MT line as fakesmsc prints it; None when it is not a message line."""
    parts = line.split(b" ", 3)
    if len(parts) < 3 or parts[2] not in _TYPES:
        return None
    sender, receiver, kind = (p.decode("utf-8", "replace") for p in parts[:3])
    rest = parts[3] if len(parts) == 4 else b""
    if kind == "text":
        return PhoneMessage(sender, receiver, _decode_text(rest), "text", None, line)
    if kind == "data":
        data = urllib.parse.unquote_to_bytes(rest.replace(b"+", b" "))
        return PhoneMessage(sender, receiver, _decode_text(data), "data", None, line)
    if kind in ("ucs-2", "ucs2"):
        data = urllib.parse.unquote_to_bytes(rest.replace(b"+", b" "))
        return PhoneMessage(sender, receiver, data.decode("utf-16-be", "replace"), "ucs-2", None, line)
    # udh UDH data DATA
    bits = rest.split(b" ", 2)
    if len(bits) != 3 or bits[1] != b"data":
        return None
    udh = urllib.parse.unquote_to_bytes(bits[0].replace(b"+", b" "))
    data = urllib.parse.unquote_to_bytes(bits[2].replace(b"+", b" "))
    return PhoneMessage(sender, receiver, _decode_udh_data(data), "udh", udh, line)


class KannelGateway:
    """bearerbox + smsbox + fakesmsc on 127.0.0.1, in a temp dir; a context manager."""

    def __init__(
        self,
        get_url: str,
        *,
        username: str = "newsroom",
        password: str = "newsroom-test",
        startup_timeout: float = 15.0,
        log_level: int = 0,
    ) -> None:
        reason = kannel_missing()
        if reason:
            raise FileNotFoundError(reason)
        if not _is_loopback_url(get_url):
            raise ValueError(f"get_url must point to this machine (127.0.0.1): {get_url}")
        if "%" not in get_url:
            get_url += ("&" if "?" in get_url else "?") + DEFAULT_MO_QUERY
        self.get_url = get_url
        self.username = username
        self.password = password
        self.startup_timeout = startup_timeout
        self.log_level = log_level
        self.admin_password = "admin-" + os.urandom(6).hex()
        self.dir: Path | None = None
        self.admin_port = self.smsbox_port = self.smsc_port = self.sendsms_port = 0
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._files: list[IO[bytes]] = []
        self._lock = threading.Condition()
        self._phone_inbox: list[PhoneMessage] = []
        self._read_upto = 0
        self._mo_sent = 0
        self._mo_written = 0
        self._fakesmsc_log: list[bytes] = []
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # ----------------------------------------------------------------- public API
    @property
    def sendsms_url(self) -> str:
        """Kannel's sendsms CGI; add username, password, from, to, text (charset, coding)."""
        return f"http://{HOST}:{self.sendsms_port}/cgi-bin/sendsms"

    @property
    def _dir(self) -> Path:
        if self.dir is None:
            raise KannelError("the gateway is not started")
        return self.dir

    @property
    def admin_url(self) -> str:
        return f"http://{HOST}:{self.admin_port}"

    @property
    def phone_inbox(self) -> list[PhoneMessage]:
        """Every message the phone has received so far."""
        with self._lock:
            return list(self._phone_inbox)

    def received(self, timeout: float = 5.0, count: int = 1) -> list[PhoneMessage]:
        """Wait up to `timeout` s until `count` messages not returned before have reached
        the phone; return those that have (possibly fewer, possibly []), and mark them read."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._phone_inbox) - self._read_upto < count:
                left = deadline - time.monotonic()
                if left <= 0 or self._procs.get("fakesmsc") is None:
                    break
                self._lock.wait(min(left, 0.2))
            new = self._phone_inbox[self._read_upto :]
            self._read_upto = len(self._phone_inbox)
            return new

    def send_from_phone(
        self, sender: str, receiver: str, text: str, *, coding: str | None = None, timeout: float = 5.0
    ) -> None:
        """The phone `sender` texts `text` to `receiver` (an MO message).

        coding: "text" (7-bit, ASCII only, no newline), "ucs2" (what a phone uses for
        Cyrillic etc.) or "data" (8-bit); default: "text" when possible, else "ucs2".
        Returns once fakesmsc has passed the message to bearerbox.
        """
        if " " in sender or " " in receiver or not sender or not receiver:
            raise ValueError("sender and receiver must be non-empty and without spaces")
        if coding is None:
            coding = "text" if (text.isascii() and "\n" not in text and "\r" not in text) else "ucs2"
        if coding == "text":
            if not text.isascii() or "\n" in text or "\r" in text:
                raise ValueError("coding='text' needs ASCII text without newlines; use 'ucs2'")
            payload = text.encode("ascii")
        elif coding == "ucs2":
            payload = urllib.parse.quote_from_bytes(text.encode("utf-16-be"), safe="").encode("ascii")
        elif coding == "data":
            payload = urllib.parse.quote_from_bytes(text.encode("utf-8"), safe="").encode("ascii")
        else:
            raise ValueError(f"unknown coding {coding!r}")
        line = f"{sender} {receiver} {coding} ".encode() + payload + b"\n"
        if len(line) > 255:
            raise ValueError(
                f"MO line is {len(line)} bytes; fakesmsc reads at most 255 per line (shorten the text)"
            )
        proc = self._procs.get("fakesmsc")
        if proc is None or proc.poll() is not None or proc.stdin is None:
            raise KannelError("fakesmsc is not running" + self._diagnostics())
        with self._lock:
            self._mo_written += 1
            want = self._mo_written
            proc.stdin.write(line)
            proc.stdin.flush()
            # fakesmsc reads stdin with fgets() after select(): a second line already in
            # its stdio buffer would wait for more input, so wait until this one is sent.
            deadline = time.monotonic() + timeout
            while self._mo_sent < want:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise KannelError(
                        f"fakesmsc did not send the MO message within {timeout} s" + self._diagnostics()
                    )
                self._lock.wait(min(left, 0.2))

    def sendsms(self, to: str, text: str, *, sender: str = "NEWSROOM", **params: str) -> str:
        """Send an MT message through sendsms, as the app would; return Kannel's answer.

        Text outside the GSM 7-bit alphabet goes as UCS-2 (charset=UTF-8&coding=2).
        Extra params (dlr-mask, dlr-url, ...) are passed through.
        """
        q = {
            "username": self.username,
            "password": self.password,
            "from": sender,
            "to": to,
            "text": text,
            "charset": "UTF-8",
        }
        if not is_gsm7(text):
            q["coding"] = "2"
        q.update(params)
        url = self.sendsms_url + "?" + urllib.parse.urlencode(q, encoding="utf-8")
        try:
            with self._opener.open(url, timeout=10) as r:
                answer: bytes = r.read()
                return answer.decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            raise KannelError(f"sendsms answered {e.code}: {e.read().decode('utf-8', 'replace')}") from e

    def status(self) -> str:
        with self._opener.open(f"{self.admin_url}/status.txt?password={self.admin_password}", timeout=5) as r:
            text: bytes = r.read()
            return text.decode("utf-8", "replace")

    def logs(self, lines: int = 30) -> str:
        """The last lines of each log, for failure messages."""
        out = []
        if self.dir:
            for f in sorted(self.dir.glob("*.log")):
                tail = f.read_bytes().decode("utf-8", "replace").splitlines()[-lines:]
                out.append(f"--- {f.name}\n" + "\n".join(tail))
        with self._lock:
            tail = [ln.decode("utf-8", "replace") for ln in self._fakesmsc_log[-lines:]]
        out.append("--- fakesmsc\n" + "\n".join(tail))
        return "\n".join(out)

    # ----------------------------------------------------------------- lifecycle
    def __enter__(self) -> KannelGateway:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        global _libc
        if _libc is None:
            _libc = ctypes.CDLL(None, use_errno=True)
        self.dir = Path(tempfile.mkdtemp(prefix="newsroom-kannel-"))
        deadline = time.monotonic() + self.startup_timeout
        last_error: Exception | None = None
        try:
            for _attempt in range(3):  # a free port may be taken between probe and bind
                try:
                    self._start_once(deadline)
                    return
                except _PortRace as e:
                    last_error = e
                    self._stop_processes()
            raise KannelError(f"Kannel did not start: {last_error}")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        self._stop_processes()
        for f in self._files:
            with contextlib.suppress(OSError):
                f.close()
        self._files.clear()
        if self.dir is not None and not os.environ.get("NEWSROOM_KEEP_KANNEL_DIR"):
            shutil.rmtree(self.dir, ignore_errors=True)

    # ----------------------------------------------------------------- internals
    def _start_once(self, deadline: float) -> None:
        for old in self._dir.glob("*.log"):  # from an attempt that lost a port race
            old.unlink()
        self.admin_port, self.smsbox_port, self.smsc_port, self.sendsms_port = _free_ports(4)
        conf = self._dir / "kannel.conf"
        conf.write_text(self._config(), encoding="utf-8")

        self._spawn("bearerbox", [BEARERBOX, "-v", "2", str(conf)])
        self._wait(
            deadline,
            "bearerbox admin and fake SMSC ports",
            lambda: (
                _listening(self.admin_port) and _listening(self.smsc_port) and _listening(self.smsbox_port)
            ),
            "bearerbox",
        )
        self._spawn("smsbox", [SMSBOX, "-v", "2", str(conf)])
        self._spawn("fakesmsc", [FAKESMSC, "-H", HOST, "-r", str(self.smsc_port), "-i", "0"], phone=True)
        self._wait(
            deadline,
            "smsbox connected, sendsms port open and fakesmsc online",
            self._ready,
            "smsbox",
            "fakesmsc",
        )

    def _config(self) -> str:
        d = self._dir

        def q(v: object) -> str:
            s = str(v)
            if '"' in s or "\n" in s:
                raise ValueError(f"cannot put {s!r} in kannel.conf")
            return f'"{s}"'

        return f"""\
# Written by tests/support/kannel.py: everything on 127.0.0.1, in {d}
group = core
admin-port = {self.admin_port}
admin-interface = {HOST}
admin-password = {q(self.admin_password)}
status-password = {q(self.admin_password)}
admin-deny-ip = "*.*.*.*"
admin-allow-ip = "{HOST}"
smsbox-port = {self.smsbox_port}
smsbox-interface = {HOST}
box-deny-ip = "*.*.*.*"
box-allow-ip = "{HOST}"
log-file = {q(d / "bearerbox.log")}
log-level = {self.log_level}
access-log = {q(d / "bearerbox-access.log")}
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = fake
port = {self.smsc_port}
our-host = {HOST}
connect-allow-ip = "{HOST}"

group = smsbox
bearerbox-host = {HOST}
bearerbox-port = {self.smsbox_port}
sendsms-port = {self.sendsms_port}
sendsms-interface = {HOST}
mo-recode = true
log-file = {q(d / "smsbox.log")}
log-level = {self.log_level}
access-log = {q(d / "smsbox-access.log")}

group = sendsms-user
username = {q(self.username)}
password = {q(self.password)}
user-deny-ip = "*.*.*.*"
user-allow-ip = "{HOST}"
max-messages = 10
concatenation = true

group = sms-service
keyword = default
get-url = {q(self.get_url)}
accept-x-kannel-headers = true
omit-empty = true
max-messages = 10
concatenation = true
"""

    def _spawn(self, name: str, argv: list[str], phone: bool = False) -> None:
        if phone:
            proc = subprocess.Popen(
                argv,
                cwd=self._dir,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
            t = threading.Thread(target=self._read_phone, args=(proc,), name="fakesmsc-reader", daemon=True)
            self._procs[name] = proc
            self._phone_reader = t
            t.start()
            return
        out = open(self._dir / f"{name}.stderr.log", "wb")  # noqa: SIM115  (closed in stop())
        self._files.append(out)
        self._procs[name] = subprocess.Popen(
            argv,
            cwd=self._dir,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )

    def _read_phone(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        last: PhoneMessage | None = None
        for raw in proc.stdout:
            line = raw.rstrip(b"\n")
            with self._lock:
                self._fakesmsc_log.append(line)
                m = _GOT_RE.search(line)
                if m:
                    msg = parse_phone_line(m.group(2))
                    if (
                        msg is None
                        and last is not None
                        and last.coding == "text"
                        and self._phone_inbox
                        and self._phone_inbox[-1] is last
                    ):
                        # an MT text with a newline arrives as two lines
                        joined = PhoneMessage(
                            last.sender,
                            last.receiver,
                            last.text + "\n" + _decode_text(m.group(2)),
                            "text",
                            None,
                            last.raw + b"\n" + m.group(2),
                        )
                        self._phone_inbox[-1] = joined
                        last = joined
                    elif msg is not None:
                        self._phone_inbox.append(msg)
                        last = msg
                    self._lock.notify_all()
                    continue
                m = _SENT_RE.search(line)
                if m:
                    self._mo_sent = int(m.group(1))
                    self._lock.notify_all()
        with self._lock:
            self._lock.notify_all()

    def _ready(self) -> bool:
        if not _listening(self.sendsms_port):
            return False
        try:
            url = f"{self.admin_url}/status.xml?password={self.admin_password}"
            with self._opener.open(url, timeout=2) as r:
                xml = r.read().decode("utf-8", "replace")
        except OSError:
            return False
        smsbox_up = "<type>smsbox</type>" in xml and "on-line" in xml
        smsc_online = re.search(r"<smsc>.*?<status>online", xml, re.S) is not None
        return smsbox_up and smsc_online

    def _wait(self, deadline: float, what: str, cond: Callable[[], bool], *names: str) -> None:
        while True:
            for name in ("bearerbox", *names):
                # bearerbox keeps running when it cannot bind its admin port: read its log.
                if name != "fakesmsc" and self._bind_failed(name):
                    raise _PortRace(f"{name} could not bind a port{self._diagnostics()}")
                proc = self._procs.get(name)
                if proc is not None and proc.poll() is not None:
                    diag = self._diagnostics()
                    raise KannelError(f"{name} exited with {proc.returncode} while waiting for {what}{diag}")
            if cond():
                return
            if time.monotonic() > deadline:
                raise KannelError(
                    f"timed out after {self.startup_timeout} s waiting for {what}" + self._diagnostics()
                )
            time.sleep(0.05)

    def _bind_failed(self, name: str) -> bool:
        for log in (self._dir / f"{name}.stderr.log", self._dir / f"{name}.log"):
            try:
                text = log.read_bytes()
            except OSError:
                continue
            if b"bind failed" in text or b"Address already in use" in text:
                return True
        return False

    def _diagnostics(self) -> str:
        try:
            return "\n" + self.logs(15)
        except OSError as e:  # pragma: no cover
            return f"\n(no logs: {e})"

    def _stop_processes(self) -> None:
        # The phone first (closing its stdin ends it), then smsbox, then bearerbox.
        for name in ("fakesmsc", "smsbox", "bearerbox"):
            proc = self._procs.get(name)
            if proc is None:
                continue
            if proc.poll() is None:
                try:
                    if name == "fakesmsc" and proc.stdin:
                        proc.stdin.close()
                    proc.send_signal(signal.SIGINT if name == "fakesmsc" else signal.SIGTERM)
                except (OSError, ValueError):
                    pass
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
            reader = getattr(self, "_phone_reader", None)
            if name == "fakesmsc" and reader is not None:
                reader.join(timeout=5)  # it ends at EOF; closing stdout under it would crash the thread
            for stream in (proc.stdin, proc.stdout):
                try:
                    if stream:
                        stream.close()
                except (OSError, ValueError):
                    pass
        with self._lock:
            self._procs.clear()
            self._lock.notify_all()


class _PortRace(KannelError):
    pass
