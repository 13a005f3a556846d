"""Image captchas: rendered with Pillow, single use, one minute, checked server-side.

Answers are 5-6 characters from an alphabet without look-alikes (no 0/O, 1/l/I, 2/Z, 5/S, 8/B)
and are compared case-insensitively in constant time. Captchas live in memory: a restart
forgets them, which only costs a client one more ``POST /captcha``.
"""

from __future__ import annotations

import base64
import hmac
import io
import os
import random
import secrets
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from vms_tray.refserver.clock import ServerClock

ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CAPTCHA_TTL = 60.0
# How long a spent or expired captcha is remembered, so its id still reports "expired".
REMEMBER = 600.0
MAX_OUTSTANDING = 10_000
# Outstanding captchas of one client address; a new one retires the oldest beyond this.
MAX_PER_OWNER = 10
MAX_REMEMBERED = 50_000
WIDTH, HEIGHT = 200, 70


class CaptchaCheck(Enum):
    OK = "ok"
    INVALID = "invalid"
    EXPIRED = "expired"


@dataclass
class _Entry:
    answer: str
    expires_at: float
    owner: str = ""


@dataclass(frozen=True)
class IssuedCaptcha:
    captcha_id: str
    image_png: bytes
    expires_in: int

    def as_json(self) -> dict[str, object]:
        return {
            "captcha_id": self.captcha_id,
            "image_png": base64.b64encode(self.image_png).decode("ascii"),
            "expires_in": self.expires_in,
        }


def new_answer() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(5 + secrets.randbelow(2)))


@lru_cache(maxsize=1)
def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for name in ("DejaVuSans-Bold.ttf", "DejaVuSans.ttf", "LiberationSans-Bold.ttf"):
        try:
            return ImageFont.truetype(name, 34)
        except OSError:
            continue
    # Pillow >= 10.1 ships a scalable default font.
    return ImageFont.load_default(size=34)


def render(answer: str, rng: random.Random | None = None) -> bytes:
    """A PNG of ``answer``: each glyph rotated and shifted, over and under noise lines and dots."""
    rng = rng or random.Random(secrets.randbits(64))
    image = Image.new("RGB", (WIDTH, HEIGHT), (rng.randint(225, 255),) * 3)
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        draw.line(
            [(rng.randint(0, WIDTH), rng.randint(0, HEIGHT)) for _ in range(2)],
            fill=tuple(rng.randint(120, 200) for _ in range(3)),
            width=2,
        )
    font = _font()
    step = (WIDTH - 20) // len(answer)
    for i, ch in enumerate(answer):
        glyph = Image.new("RGBA", (50, 60), (0, 0, 0, 0))
        gd = ImageDraw.Draw(glyph)
        colour = (rng.randint(0, 90), rng.randint(0, 90), rng.randint(0, 120), 255)
        gd.text((8, 6), ch, font=font, fill=colour)
        glyph = glyph.rotate(rng.uniform(-30, 30), resample=Image.Resampling.BICUBIC)
        x = 10 + i * step + rng.randint(-3, 3)
        y = rng.randint(0, HEIGHT - 60)
        image.paste(glyph, (x, y), glyph)
    for _ in range(4):
        draw.arc(
            [
                rng.randint(-40, WIDTH // 2),
                rng.randint(-20, HEIGHT // 2),
                rng.randint(WIDTH // 2, WIDTH + 40),
                rng.randint(HEIGHT // 2, HEIGHT + 20),
            ],
            start=rng.randint(0, 180),
            end=rng.randint(180, 360),
            fill=tuple(rng.randint(40, 140) for _ in range(3)),
            width=2,
        )
    for _ in range(300):
        draw.point(
            (rng.randint(0, WIDTH - 1), rng.randint(0, HEIGHT - 1)),
            fill=tuple(rng.randint(0, 255) for _ in range(3)),
        )
    image = image.filter(ImageFilter.SMOOTH)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


class CaptchaStore:
    """Outstanding captchas, bounded per client address and in all.

    A client address holds at most ``MAX_PER_OWNER`` outstanding captchas: a new one retires its
    oldest. When ``MAX_OUTSTANDING`` are outstanding in all, a new one retires the oldest of the
    address holding the most, so a flood from some addresses never denies a captcha to another.
    A retired or expired captcha reports ``EXPIRED`` (a spent one ``INVALID``) for ``REMEMBER``
    seconds; at most ``MAX_REMEMBERED`` such ids are kept (no answers among them).
    """

    def __init__(
        self, clock: ServerClock, ttl: float = CAPTCHA_TTL, answer_log: Path | None = None
    ) -> None:
        self._clock = clock
        self._ttl = ttl
        # Test hook (hidden CLI option): appends "ID ANSWER" lines so a test in another process
        # can answer. Never set on a real server.
        self._answer_log = answer_log
        self._entries: dict[str, _Entry] = {}  # outstanding, oldest first
        self._by_owner: dict[str, deque[str]] = {}
        self._gone: OrderedDict[str, tuple[CaptchaCheck, float]] = OrderedDict()
        self._lock = threading.Lock()

    def issue(self, replaces: str | None = None, owner: str = "") -> IssuedCaptcha:
        answer = new_answer()
        png = render(answer)
        captcha_id = secrets.token_urlsafe(16)
        now = self._clock.now()
        with self._lock:
            self._purge(now)
            if replaces is not None and replaces in self._entries:
                self._retire(replaces, CaptchaCheck.INVALID, now)
            mine = self._by_owner.setdefault(owner, deque())
            while len(mine) >= MAX_PER_OWNER:
                self._retire(mine[0], CaptchaCheck.EXPIRED, now)
            while len(self._entries) >= MAX_OUTSTANDING:
                busiest = max(self._by_owner.values(), key=len)
                self._retire(busiest[0], CaptchaCheck.EXPIRED, now)
            self._entries[captcha_id] = _Entry(answer, now + self._ttl, owner)
            self._by_owner.setdefault(owner, deque()).append(captcha_id)
            if self._answer_log is not None:
                fd = os.open(self._answer_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                with os.fdopen(fd, "a", encoding="utf-8") as f:
                    f.write(f"{captcha_id} {answer}\n")
        return IssuedCaptcha(captcha_id, png, int(self._ttl))

    def outstanding(self, owner: str | None = None) -> int:
        with self._lock:
            if owner is None:
                return len(self._entries)
            return len(self._by_owner.get(owner, ()))

    def check(self, captcha_id: str, answer: str) -> CaptchaCheck:
        """Spends the captcha whatever the answer: one captcha, one guess."""
        now = self._clock.now()
        with self._lock:
            entry = self._entries.get(captcha_id)
            if entry is None:
                gone = self._gone.get(captcha_id)
                return gone[0] if gone is not None else CaptchaCheck.INVALID
            self._retire(captcha_id, CaptchaCheck.INVALID, now)
            if now > entry.expires_at:
                return CaptchaCheck.EXPIRED
        given = answer.strip().upper().encode("utf-8")
        if hmac.compare_digest(given, entry.answer.encode("utf-8")):
            return CaptchaCheck.OK
        return CaptchaCheck.INVALID

    def _retire(self, captcha_id: str, result: CaptchaCheck, now: float) -> None:
        entry = self._entries.pop(captcha_id)
        mine = self._by_owner.get(entry.owner)
        if mine is not None:
            mine.remove(captcha_id)
            if not mine:
                del self._by_owner[entry.owner]
        self._gone[captcha_id] = (result, now + REMEMBER)
        while len(self._gone) > MAX_REMEMBERED:
            self._gone.popitem(last=False)

    def _purge(self, now: float) -> None:
        for k in [k for k, e in self._entries.items() if now > e.expires_at]:
            self._retire(k, CaptchaCheck.EXPIRED, now)
        while self._gone and next(iter(self._gone.values()))[1] < now:
            self._gone.popitem(last=False)
