"""Draw vms-tray's icons with Pillow: the source of every PNG/ICO in icons/ (the build ships them).

Run ``.venv/bin/python icons/make_icons.py`` after changing a shape or colour; it rewrites

- ``icons/<state>.png`` (64 px, the tray downsamples) and ``<state>-<size>.png``
  for 16/24/32/48 px, drawn at each size from a 4x supersample so edges stay crisp;
- ``icons/vms-tray.png`` (256 px app icon) and ``vms-tray.ico`` (16-256 px, Windows);
- ``icons/vms-tray-template.png`` / ``@2x`` (macOS template: black + alpha only);
- ``icons/preview.png`` and ``docs/screenshots/icon-states.png`` (the README's strip): every state
  at 16/24/32 px on a light and a dark panel, labelled with what it means.

Design: a disc in the state's colour with a white camera glyph, a thin contrasting rim so the disc
reads on light and dark panels, and a corner badge for the states that need attention. A grey disc
means "no seat of yours": signed out, offline, and blocked at the limit (a red no-entry badge),
which must never look like "signed in, all seats in use" (an orange disc with four taken seats).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "icons"
PREVIEW = ROOT / "icons" / "preview.png"
STRIP = ROOT / "docs" / "screenshots" / "icon-states.png"

# state -> (disc colour, badge); the names are vms_tray.tray.view.IconName's values.
STATES: dict[str, tuple[str, str | None]] = {
    "signed-out": ("#7d8590", None),
    "connecting": ("#2f80ed", "dots"),
    "signed-in": ("#1f9d55", None),
    "near-limit": ("#e0a100", "bang"),
    "signed-in-full": ("#e8590c", "full"),
    "limit-reached": ("#7d8590", "blocked"),
    "offline": ("#7d8590", "slash"),
    "error": ("#d62828", "cross"),
}
# What each icon means, for the labelled strip (README).
LABELS: dict[str, str] = {
    "signed-out": "signed out",
    "connecting": "signing in,\ncaptcha",
    "signed-in": "signed in",
    "near-limit": "signed in,\nnear the limit",
    "signed-in-full": "signed in,\nall seats in use",
    "limit-reached": "not signed in:\nlimit reached",
    "offline": "offline,\nretrying",
    "error": "error",
}
SIZES = (16, 24, 32, 48)
SS = 4  # supersampling factor


def _camera(d: ImageDraw.ImageDraw, s: float, color: str) -> None:
    """A camera glyph centred in an s-by-s canvas."""
    body = (0.22 * s, 0.36 * s, 0.64 * s, 0.66 * s)
    d.rounded_rectangle(body, radius=0.05 * s, fill=color)
    # The lens housing on the right: a trapezoid.
    d.polygon(
        [(0.62 * s, 0.46 * s), (0.80 * s, 0.37 * s), (0.80 * s, 0.65 * s), (0.62 * s, 0.56 * s)],
        fill=color,
    )


def _badge(img: Image.Image, kind: str, s: float) -> None:
    d = ImageDraw.Draw(img)
    cx, cy, r = 0.74 * s, 0.74 * s, 0.25 * s
    box = (cx - r, cy - r, cx + r, cy + r)
    w = max(1.0, 0.06 * s)
    if kind == "slash":
        # A bold diagonal bar across the whole disc: "no connection".
        d.line([(0.18 * s, 0.82 * s), (0.82 * s, 0.18 * s)], fill="#ffffff", width=int(0.16 * s))
        d.line([(0.18 * s, 0.82 * s), (0.82 * s, 0.18 * s)], fill="#202020", width=int(0.08 * s))
        return
    if kind == "blocked":
        # A no-entry sign, larger than the other badges: "the limit keeps you out".
        r = 0.3 * s
        cx, cy = 0.7 * s, 0.7 * s
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill="#d62828", outline="#ffffff", width=int(w))
        h = 0.06 * s
        d.rectangle((cx - 0.19 * s, cy - h, cx + 0.19 * s, cy + h), fill="#ffffff")
        return
    fills = {"dots": "#ffffff", "bang": "#202020", "full": "#ffffff", "cross": "#ffffff"}
    rims = {"dots": "#2f80ed", "bang": "#ffd43b", "full": "#e8590c", "cross": "#d62828"}
    d.ellipse(box, fill=fills[kind], outline=rims[kind], width=int(w))
    if kind == "dots":
        for dx in (-0.11, 0.0, 0.11):
            rr = 0.04 * s
            x = cx + dx * s
            d.ellipse((x - rr, cy - rr, x + rr, cy + rr), fill="#2f80ed")
    elif kind == "bang":
        d.ellipse(box, fill="#ffd43b", outline="#202020", width=int(w))
        d.rectangle((cx - 0.035 * s, cy - 0.15 * s, cx + 0.035 * s, cy + 0.04 * s), fill="#202020")
        d.ellipse((cx - 0.04 * s, cy + 0.08 * s, cx + 0.04 * s, cy + 0.16 * s), fill="#202020")
    elif kind == "full":
        # Four seats, all taken.
        for i in range(4):
            x0 = cx - 0.15 * s + i * 0.08 * s
            d.rectangle((x0, cy - 0.1 * s, x0 + 0.05 * s, cy + 0.1 * s), fill="#e8590c")
    elif kind == "cross":
        k = 0.11 * s
        d.line([(cx - k, cy - k), (cx + k, cy + k)], fill="#d62828", width=int(1.8 * w))
        d.line([(cx - k, cy + k), (cx + k, cy - k)], fill="#d62828", width=int(1.8 * w))


def draw_state(state: str, size: int) -> Image.Image:
    color, badge = STATES[state]
    s = size * SS
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    rim = max(SS, int(0.05 * s))
    # Dark rim outside, light rim inside: the disc stays visible on white and on black panels.
    d.ellipse((0, 0, s - 1, s - 1), fill="#1b1f24")
    d.ellipse((rim, rim, s - 1 - rim, s - 1 - rim), fill="#ffffff")
    d.ellipse((2 * rim, 2 * rim, s - 1 - 2 * rim, s - 1 - 2 * rim), fill=color)
    _camera(d, s, "#ffffff")
    if badge:
        _badge(img, badge, s)
    return img.resize((size, size), Image.Resampling.LANCZOS)


def draw_app_icon(size: int = 256) -> Image.Image:
    s = size * SS
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((0, 0, s - 1, s - 1), radius=int(0.22 * s), fill="#1b2a3a")
    d.ellipse((0.12 * s, 0.12 * s, 0.88 * s, 0.88 * s), fill="#1f9d55")
    _camera(d, s, "#ffffff")
    return img.resize((size, size), Image.Resampling.LANCZOS)


def draw_template(size: int) -> Image.Image:
    """macOS menu-bar template: pure black with alpha; the system tints it."""
    s = size * SS
    mask = Image.new("L", (s, s), 0)
    d = ImageDraw.Draw(mask)
    d.ellipse((0, 0, s - 1, s - 1), fill=255)
    _camera(d, s, "#000000")  # draws 0: the camera is cut out of the disc
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    img.putalpha(mask)
    return img.resize((size, size), Image.Resampling.LANCZOS)


def preview(images: dict[str, dict[int, Image.Image]], labels: bool = False) -> Image.Image:
    """Every state at 16/24/32 px on a light and a dark panel; ``labels``: what each means above."""
    pad = 8
    icons_w = 16 + 24 + 32 + 2 * pad
    col = icons_w + 3 * pad if labels else 3 * (32 + pad)
    font = ImageFont.load_default(size=12)
    top = 2 * 15 + pad if labels else 0
    panel = 32 + 2 * pad
    width = pad + len(STATES) * col
    height = top + 2 * panel
    sheet = Image.new("RGBA", (width, height), "#f3f3f3")
    d = ImageDraw.Draw(sheet)
    if labels:
        d.rectangle((0, 0, width, top), fill="#ffffff")
    d.rectangle((0, top + panel, width, height), fill="#2b2b2b")
    for i, state in enumerate(STATES):
        x0 = pad + i * col
        if labels:
            d.multiline_text(
                (x0 + icons_w / 2, pad // 2),
                LABELS[state],
                fill="#1b1f24",
                font=font,
                anchor="ma",
                align="center",
                spacing=2,
            )
        for row in range(2):
            y0 = top + row * panel + pad
            x = x0
            for size in (16, 24, 32):
                sheet.alpha_composite(images[state][size], (x, y0 + (32 - size) // 2))
                x += size + pad
    return sheet


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    images: dict[str, dict[int, Image.Image]] = {}
    for state in STATES:
        images[state] = {size: draw_state(state, size) for size in SIZES}
        for size, im in images[state].items():
            im.save(OUT / f"{state}-{size}.png", optimize=True)
        draw_state(state, 64).save(OUT / f"{state}.png", optimize=True)
    app = draw_app_icon(256)
    app.save(OUT / "vms-tray.png", optimize=True)
    ico_sizes = [(n, n) for n in (16, 24, 32, 48, 64, 256)]
    app.save(OUT / "vms-tray.ico", sizes=ico_sizes)
    draw_template(22).save(OUT / "vms-tray-template.png", optimize=True)
    draw_template(44).save(OUT / "vms-tray-template@2x.png", optimize=True)
    preview(images).save(PREVIEW, optimize=True)
    preview(images, labels=True).save(STRIP, optimize=True)
    print(f"wrote icons to {OUT}, {PREVIEW} and {STRIP}")


if __name__ == "__main__":
    main()
