"""Pictures drawn by voiceguide: where the hands go in a step, and each routine's cover.

A step picture is a calm line drawing of a face, neck and collarbones from the front, with the
step's zone highlighted (a soft translucent fill) and its stroke drawn over it: arrows in the
stroke's direction with a fingertip mark where the fingers start, circling arrows, taps (rings of
small dots), or a press mark. The drawing is seen as in a mirror, the way a person follows it: the
left side is on the picture's left. A step for one side highlights that side only; without a side,
both. Left and right are mirror images of each other, pixel for pixel.

Everything is drawn in design units on a 1000 x 1000 square (``x`` right, ``y`` down, the face's
centre line at ``x = 500``), and only for the left half: the right half is its mirror image. Pillow
draws it at three times the size and averages it down, so the lines are smooth; nothing depends on
the machine or the clock, so the same arguments give the same bytes.

The vocabulary (``ZONES``, ``STROKES``, ``SIDES``, ``PRACTICES``) is what a routine's ``zone:`` and
``stroke:`` may name.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import lru_cache

from voiceguide.core.errors import UsageError
from voiceguide.script.model import DEFAULT_STROKE, STROKES, ZONES  # noqa: F401 - the format's vocabulary, drawn here

SIDES = ("left", "right")
"""A step for one side; ``None`` is both sides at once."""
@dataclass(frozen=True)
class Practice:
    """A kind of practice as the pictures show it."""

    colour: tuple[int, int, int]
    """The accent: highlights and arrows in step pictures, the background of covers."""
    zone: str
    """The zone its cover shows."""
    stroke: str
    """The stroke its cover shows."""
    words: tuple[str, ...]
    """Words in a routine's title that name it (``practice_of``)."""


PRACTICES = {
    "morning": Practice((142, 186, 64), "under_eyes", "outward", ("morning", "wake", "sunrise")),
    "evening": Practice((52, 56, 122), "forehead", "outward",
                        ("evening", "night", "sleep", "bedtime", "wind-down")),
    "lymphatic": Practice((38, 132, 156), "neck_sides", "down", ("lymph", "drainage", "puff")),
    "circulation": Practice((214, 96, 96), "cheeks", "circles", ("circulation", "glow", "tapping")),
    "tension": Practice((134, 110, 192), "jaw_muscle", "circles",
                        ("tension", "jaw", "temple", "release", "relax")),
}
"""The practices, each with its colour: lymphatic a cool blue-teal, circulation a warm coral,
tension a lavender, a morning routine a fresh yellow-green, an evening one a deep indigo. In the
order ``practice_of`` tries them: the time of day first (a morning de-puff is a morning routine)."""
DEFAULT_COLOUR = (31, 110, 122)
"""The accent of a routine that names no practice: a deep teal."""
STEP_SIZE = 600
"""Pixels a side of a step picture: sharp on a phone's lock screen, small in every chapter frame."""
COVER_SIZE = 1400
"""Pixels a side of a cover: Apple Podcasts' least."""

_SCALE = 3  # drawn at three times the size, then averaged down
_CENTRE = 500
_LINE = 6.0  # the drawing's one line weight, in design units
_MARK = 9.0  # arrows and marks
_INK = (84, 96, 108)  # the drawing's lines: a soft slate
_SKIN = (253, 249, 244)
_WHITE = (255, 255, 255)


def practice_of(title: str) -> str | None:
    """The practice a routine's title names (``"Quick morning de-puff"``: ``"morning"``), or ``None``."""
    lowered = title.lower()
    return next((name for name, p in PRACTICES.items() if any(w in lowered for w in p.words)), None)


def accent(practice: str | tuple[int, int, int] | None) -> tuple[int, int, int]:
    """The colour of a practice (a name in ``PRACTICES``), or the colour given, or the default."""
    if practice is None:
        return DEFAULT_COLOUR
    if isinstance(practice, str):
        if practice not in PRACTICES:
            raise UsageError(f"unknown practice {practice!r}; one of: {', '.join(PRACTICES)}")
        return PRACTICES[practice].colour
    return tuple(int(c) for c in practice)  # type: ignore[return-value]


@lru_cache(maxsize=64)  # bytes: one drawing per zone, stroke, side and colour in a process
def step_picture(zone: str, stroke: str, side: str | None = None, size: int = STEP_SIZE, *,
                 practice: str | tuple[int, int, int] | None = None) -> bytes:
    """A step's picture as PNG bytes (a palette PNG, 10 to 15 KB at 600 px): the face with ``zone``
    highlighted and ``stroke`` drawn on it, on one ``side`` or both, in the colour of ``practice``.

    Raises ``UsageError`` for a zone, stroke or side outside ``ZONES``, ``STROKES`` and ``SIDES``
    (and a practice outside ``PRACTICES``).
    """
    from PIL import Image

    image = _picture(zone, stroke, side, size, accent(practice))
    out = io.BytesIO()
    image.quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        out, format="PNG", optimize=True)
    return out.getvalue()


def _check(zone: str, stroke: str, side: str | None) -> None:
    for value, allowed, what in ((zone, ZONES, "zone"), (stroke, STROKES, "stroke")):
        if value not in allowed:
            raise UsageError(f"unknown {what} {value!r}; one of: {', '.join(allowed)}")
    if side is not None and side not in SIDES:
        raise UsageError(f"unknown side {side!r}; one of: left, right (or none for both)")


def _picture(zone: str, stroke: str, side: str | None, size: int, colour, scale: int = _SCALE):
    """The step picture as an RGB ``PIL.Image`` of ``size`` pixels a side, drawn at ``scale``
    times that and averaged down."""
    from PIL import Image, ImageOps

    _check(zone, stroke, side)
    big = size * scale
    k = big / 1000
    background = _mix(colour, _WHITE, 0.86)
    figure = _figure_layers(big, k)
    mask, marks = _zone_layers(zone, stroke, big, k, colour)
    if side is None:
        marks = Image.alpha_composite(marks, ImageOps.mirror(marks))
    else:
        from PIL import ImageChops

        mask = ImageChops.multiply(mask, _left_ramp(big))  # the left side, fading out at the centre
        if side == "right":
            mask, marks = ImageOps.mirror(mask), ImageOps.mirror(marks)
    image = Image.new("RGB", (big, big), background)
    image.paste(_SKIN, None, figure["fill"])
    image.paste(_mix(colour, _SKIN, 0.55), None, mask)
    image.paste(_INK, None, figure["lines"])
    image = Image.alpha_composite(image.convert("RGBA"), marks).convert("RGB")
    return image.reduce(scale)


# --- the figure ------------------------------------------------------------------------------------


def _head(t: float) -> tuple[float, float]:
    """The head's outline at ``t`` (0 the crown, pi the chin), left half: an egg, narrower toward
    the chin, with a soft jaw."""
    y = 385 - 295 * math.cos(t)
    narrowing = 1 - 0.30 * max(0.0, -math.cos(t)) ** 1.6
    width = math.sin(t) ** 0.7 if t < math.pi / 2 else math.sin(t)  # a broad, round crown
    return _CENTRE - 205 * width * narrowing, y


HEAD = [_head(math.pi * i / 90) for i in range(91)]
"""The head's left outline, crown to chin, in design units."""


def _bezier(*points, n: int = 40) -> list[tuple[float, float]]:
    """The cubic Bezier curve through four points, as ``n + 1`` points."""
    out = []
    for i in range(n + 1):
        t = i / n
        weights = ((1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t * t, t ** 3)
        out.append(tuple(sum(w * p[j] for w, p in zip(weights, points)) for j in (0, 1)))
    return out


NECK = _bezier((414, 600), (418, 690), (420, 750), (404, 800))
"""The left side of the neck, from under the jaw to where it meets the shoulder."""
SHOULDER = _bezier((404, 800), (350, 834), (200, 836), (0, 900))
COLLARBONE = _bezier((478, 884), (430, 894), (370, 864), (236, 878))
EAR = _bezier((302, 352), (256, 330), (246, 470), (312, 486))
EAR_INNER = _bezier((296, 380), (272, 380), (276, 440), (304, 452))
BROW = _bezier((464, 330), (446, 306), (390, 298), (356, 318))
EYE = _bezier((455, 392), (435, 410), (395, 410), (375, 390))
LASHES = [((440 - 20 * i, 404 + (i % 2)), (446 - 26 * i, 420 - 2 * abs(i - 1))) for i in range(3)]
NOSE = _bezier((500, 490), (490, 494), (480, 492), (474, 486))
NOSTRIL = _bezier((474, 486), (462, 484), (460, 470), (470, 462))
BRIDGE = _bezier((476, 400), (480, 420), (480, 440), (476, 456))
MOUTH = _bezier((500, 560), (484, 562), (462, 556), (448, 546))
LIP = _bezier((500, 586), (486, 588), (474, 584), (468, 580))
NOTCH = _bezier((500, 880), (490, 880), (484, 872), (482, 864))


@lru_cache(maxsize=4)
def _figure_layers(big: int, k: float) -> dict:
    """The figure's fill (head, neck, shoulders) and its lines, as masks, symmetric by construction
    (kept for the next picture of the same size: callers only read them)."""
    from PIL import Image, ImageDraw, ImageOps

    fill, lines = Image.new("L", (big, big), 0), Image.new("L", (big, big), 0)
    fd, ld = ImageDraw.Draw(fill), ImageDraw.Draw(lines)
    body = NECK + SHOULDER + [(0, 1000), (_CENTRE, 1000), (_CENTRE, NECK[0][1])]
    fd.polygon(_px(body, k), fill=255)
    fd.polygon(_px(HEAD + [(_CENTRE, HEAD[0][1])], k), fill=255)
    fd.polygon(_px(EAR, k), fill=255)
    width = _LINE * k
    for path in (HEAD, NECK, SHOULDER, COLLARBONE, EAR, EAR_INNER, BROW, EYE, NOSE, NOSTRIL, MOUTH, LIP,
                 NOTCH, *LASHES):
        _stroke(ld, _px(path, k), width, 255)
    _stroke(ld, _px(BRIDGE, k), width * 0.8, 150)  # the bridge of the nose, fainter
    half = (0, 0, big // 2, big)
    for layer in (fill, lines):  # the right half is the left half's mirror image
        left = layer.crop(half)
        layer.paste(ImageOps.mirror(left), (big - big // 2, 0))
    return {"fill": fill, "lines": lines}


@lru_cache(maxsize=4)
def _left_ramp(big: int):
    """A mask that keeps the left side and fades out over the centre line's neighbourhood."""
    from PIL import Image

    k = big / 1000
    ramp = Image.linear_gradient("L").rotate(90, expand=True).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    ramp = ramp.resize((max(1, int(40 * k)), big))  # 255 to 0, left to right, over 40 units
    mask = Image.new("L", (big, big), 0)
    mask.paste(255, (0, 0, int(480 * k), big))
    mask.paste(ramp, (int(480 * k), 0))
    return mask


@lru_cache(maxsize=4)
def _face_mask(big: int, k: float):
    """The inside of the face (the head's outline, both halves), for clipping face zones."""
    from PIL import Image, ImageDraw

    mask = Image.new("L", (big, big), 0)
    right = [(2 * _CENTRE - x, y) for x, y in reversed(HEAD)]
    ImageDraw.Draw(mask).polygon(_px(HEAD + right, k), fill=255)
    return mask


# --- zones and strokes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Zone:
    """A zone's left half in design units."""

    area: tuple
    """Shapes to highlight: ``("ellipse", x, y, rx, ry)`` or ``("poly", points)``."""
    across: tuple
    """Paths for ``outward`` and ``inward`` strokes (each drawn outward, turned for ``inward``)."""
    along: tuple
    """Paths for ``up`` and ``down`` strokes (each drawn downward, turned for ``up``)."""
    spots: tuple
    """Points for circles, taps and presses."""
    face: bool = True
    """Clip the highlight to the face's outline."""
    strength: int = 170
    """How strong the highlight is, 0 to 255 (a large zone is lighter)."""


_ZONES = {
    "collarbones": _Zone(
        area=(("poly", _bezier((484, 830), (420, 840), (360, 808), (250, 816)) +
               _bezier((250, 872), (380, 872), (430, 902), (484, 890))),),
        across=(_bezier((462, 852), (420, 856), (370, 836), (300, 838)),),
        along=(((338, 800), (342, 840)), ((408, 812), (412, 852))),
        spots=((410, 846),), face=False),
    "neck_sides": _Zone(
        area=(("poly", _bezier((404, 596), (420, 680), (420, 760), (396, 820)) +
               _bezier((460, 850), (462, 760), (462, 680), (452, 620))),),
        across=(((458, 690), (426, 694)), ((460, 760), (428, 766))),
        along=(_bezier((430, 614), (436, 690), (440, 760), (446, 830)),),
        spots=((440, 700),), face=False),
    "neck_front": _Zone(
        area=(("poly", [(440, 640), (500, 650), (500, 850), (452, 846), (446, 740)]),),
        across=(((496, 700), (452, 706)), ((496, 770), (456, 776))),
        along=(((474, 660), (474, 820)),),
        spots=((474, 740),), face=False),
    "under_chin": _Zone(
        area=(("poly", [(500, 632), (450, 622), (380, 584), (318, 520), (310, 548), (352, 604),
                        (420, 650), (500, 682)]),),
        across=(_bezier((488, 654), (440, 646), (390, 620), (330, 560)),),
        along=(((462, 604), (462, 664)),),
        spots=((440, 640),), face=False),
    "jawline": _Zone(
        area=(("poly", [(500, 690), (440, 672), (350, 610), (300, 520), (290, 460), (336, 464),
                        (356, 530), (404, 590), (456, 622), (500, 630)]),),
        across=(_bezier((482, 650), (430, 636), (366, 586), (330, 500)),),
        along=(((360, 524), (372, 592)), ((420, 580), (428, 632))),
        spots=((350, 570), (420, 628))),
    "jaw_muscle": _Zone(
        area=(("ellipse", 380, 512, 42, 64),),
        across=(((412, 512), (352, 508)),),
        along=(((378, 462), (384, 566)),),
        spots=((380, 510),)),
    "cheeks": _Zone(
        area=(("ellipse", 392, 466, 84, 58),),
        across=(_bezier((452, 452), (410, 446), (360, 436), (322, 432)),
                _bezier((446, 506), (410, 500), (362, 484), (326, 472))),
        along=(((400, 420), (404, 516)),),
        spots=((392, 466),)),
    "under_eyes": _Zone(
        area=(("ellipse", 406, 430, 62, 26),),
        across=(_bezier((454, 424), (420, 432), (370, 426), (322, 400)),),
        along=(((410, 412), (412, 450)),),
        spots=((416, 448),)),
    "brows": _Zone(
        area=(("poly", _bezier((478, 326), (440, 280), (380, 272), (326, 304)) +
               _bezier((334, 340), (390, 322), (440, 330), (480, 354))),),
        across=(_bezier((462, 318), (430, 304), (384, 300), (340, 312)),),
        along=(((410, 276), (410, 316)),),
        spots=((440, 316), (372, 310))),
    "forehead": _Zone(
        area=(("poly", [(500, 140), (420, 146), (340, 200), (318, 270), (340, 290), (500, 290)]),),
        across=(_bezier((486, 200), (440, 196), (380, 204), (332, 236)),
                _bezier((486, 256), (440, 252), (380, 256), (330, 282))),
        along=(((460, 180), (460, 272)), ((380, 196), (380, 276))),
        spots=((450, 220), (380, 236))),
    "temples": _Zone(
        area=(("ellipse", 334, 330, 36, 46),),
        across=(((364, 318), (322, 314)),),
        along=(_bezier((334, 300), (324, 360), (320, 410), (326, 456)),),
        spots=((344, 332),)),
    "whole_face": _Zone(
        area=(("poly", HEAD[8:] + [(_CENTRE, HEAD[-1][1]), (_CENTRE, HEAD[8][1])]),),
        across=(_bezier((486, 220), (440, 214), (380, 222), (332, 254)),
                _bezier((452, 460), (410, 454), (360, 442), (320, 436)),
                _bezier((482, 650), (430, 636), (370, 596), (334, 520))),
        along=(((440, 300), (440, 180)), ((394, 430), (398, 520))),
        spots=((430, 220), (390, 470), (420, 590)), strength=110),
}


def _zone_layers(zone: str, stroke: str, big: int, k: float, colour):
    """The zone on both sides as a soft mask, and the stroke's marks on the left side as an RGBA layer."""
    from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps

    spec = _ZONES[zone]
    mask = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(mask)
    for shape in spec.area:
        if shape[0] == "ellipse":
            _, x, y, rx, ry = shape
            draw.ellipse(_px([(x - rx, y - ry), (x + rx, y + ry)], k), fill=spec.strength)
        else:
            draw.polygon(_px(shape[1], k), fill=spec.strength)
    mask = ImageChops.lighter(mask, ImageOps.mirror(mask)).reduce(_SCALE)  # blurred at the final size
    mask = mask.filter(ImageFilter.GaussianBlur(8 * k / _SCALE)).resize((big, big), Image.Resampling.BILINEAR)
    if spec.face:
        mask = ImageChops.multiply(mask, _face_mask(big, k))
    marks = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    ink = _mix(colour, (20, 24, 32), 0.25) + (255,)
    _draw_stroke(ImageDraw.Draw(marks), spec, stroke, k, ink)
    return mask, marks


def _draw_stroke(draw, spec: _Zone, stroke: str, k: float, ink) -> None:
    width = _MARK * k
    if stroke in ("outward", "inward", "up", "down"):
        paths = spec.across if stroke in ("outward", "inward") else spec.along
        for path in paths:
            path = list(path)
            if stroke in ("inward", "up"):
                path.reverse()
            _fingertip(draw, path[0], path[1], k, ink)
            _arrow(draw, path, k, ink)
    elif stroke == "circles":
        for x, y in spec.spots:
            arc = [(x + 34 * math.cos(a), y + 34 * math.sin(a))
                   for a in (math.radians(-60 + 5 * i) for i in range(61))]  # clockwise, 300 degrees
            _fingertip(draw, arc[0], arc[1], k, ink, small=True)
            _arrow(draw, arc, k, ink, head=0.9)
    elif stroke == "tap":
        for x, y in spec.spots:
            _dot(draw, (x, y), 7, k, ink)
            for i in range(6):
                a = math.radians(60 * i)
                _dot(draw, (x + 26 * math.cos(a), y + 26 * math.sin(a)), 6, k, ink)
    else:  # press, hold: a fingertip on the spot, and rings for the pressure (more for a hold)
        for x, y in spec.spots:
            _dot(draw, (x, y), 12, k, ink)
            for r in ((22,) if stroke == "press" else (22, 34)):
                _ring(draw, (x, y), r, k, ink, width * 0.55)


def _arrow(draw, path, k: float, ink, head: float = 1.0) -> None:
    """A line along ``path`` ending in a filled arrowhead."""
    size = 26 * head
    (x0, y0), (x1, y1) = path[-2], path[-1]
    angle = math.atan2(y1 - y0, x1 - x0)
    tip = (x1 + math.cos(angle) * size * 0.4, y1 + math.sin(angle) * size * 0.4)
    base = [(tip[0] - size * math.cos(angle + s * 0.45), tip[1] - size * math.sin(angle + s * 0.45))
            for s in (-1, 1)]
    _stroke(draw, _px(path, k), _MARK * k, ink)
    draw.polygon(_px([tip, base[0], base[1]], k), fill=ink)


def _fingertip(draw, at, toward, k: float, ink, small: bool = False) -> None:
    """Where the fingers start: a fingertip's pad, an oval along the stroke, pale with an outline."""
    x, y = at
    angle = math.atan2(toward[1] - y, toward[0] - x)
    a, b = (13, 10) if small else (17, 12)
    oval = [(x + a * math.cos(t) * math.cos(angle) - b * math.sin(t) * math.sin(angle),
             y + a * math.cos(t) * math.sin(angle) + b * math.sin(t) * math.cos(angle))
            for t in (2 * math.pi * i / 36 for i in range(36))]
    draw.polygon(_px(oval, k), fill=(255, 255, 255, 255), outline=ink, width=max(1, int(4 * k)))


def _dot(draw, at, r: float, k: float, ink) -> None:
    x, y = at
    draw.ellipse(_px([(x - r, y - r), (x + r, y + r)], k), fill=ink)


def _ring(draw, at, r: float, k: float, ink, width: float) -> None:
    x, y = at
    draw.ellipse(_px([(x - r, y - r), (x + r, y + r)], k), outline=ink, width=max(1, int(width)))


def _stroke(draw, points, width: float, fill) -> None:
    """A smooth line with round ends."""
    draw.line(points, fill=fill, width=max(1, int(round(width))), joint="curve")
    r = width / 2
    for x, y in (points[0], points[-1]):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)


def _px(points, k: float) -> list[tuple[float, float]]:
    return [(x * k, y * k) for x, y in points]


def _mix(a, b, t: float) -> tuple[int, int, int]:
    """``a`` moved ``t`` of the way toward ``b``."""
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b))  # type: ignore[return-value]


# --- covers ----------------------------------------------------------------------------------------


def routine_cover(title: str, practice: str | tuple[int, int, int] | None = None, zone: str | None = None,
                  subtitle: str | None = None, *, stroke: str | None = None) -> bytes:
    """A routine's cover as PNG bytes, ``COVER_SIZE`` pixels square: the practice's colour, the
    drawing of its main ``zone`` (default: the practice's, see ``PRACTICES``) with ``stroke`` (default:
    the practice's, else the zone's usual one) in a round window, and the title below it, large enough
    to read at thumbnail size, with ``subtitle`` small under it."""
    from PIL import Image, ImageDraw, ImageFont

    known = PRACTICES.get(practice) if isinstance(practice, str) else None
    zone = zone or (known.zone if known else "whole_face")
    stroke = stroke or (known.stroke if known and known.zone == zone else DEFAULT_STROKE.get(zone, "tap"))
    colour = accent(practice)
    size = COVER_SIZE
    light = _luminance(colour) > 0.55  # dark words on a light colour, else white
    text = (28, 36, 40) if light else (255, 255, 255)
    image = Image.new("RGB", (size, size), colour)
    draw = ImageDraw.Draw(image)
    window, top = int(size * 0.56), int(size * 0.07)
    left = (size - window) // 2
    halo = int(size * 0.018)
    draw.ellipse((left - halo, top - halo, left + window + halo, top + window + halo),
                 fill=_mix(colour, _WHITE, 0.25))
    zoom = int(window / 0.78)  # the head and neck, without the shoulders' edges
    margin = int(zoom * 0.11)
    # Drawn at half the window's size and enlarged, and the big layers not kept: drawn at full size
    # (three times that, averaged down) a cover cost a render more memory than its whole mix.
    picture = _picture(zone, stroke, None, zoom // 2, colour).resize((zoom, zoom), Image.Resampling.LANCZOS).crop(
        (margin, int(zoom * 0.08), margin + window, int(zoom * 0.08) + window))
    round_mask = Image.new("L", (window * 2, window * 2), 0)
    ImageDraw.Draw(round_mask).ellipse((0, 0, window * 2 - 1, window * 2 - 1), fill=255)
    image.paste(picture, (left, top), round_mask.resize((window, window), Image.Resampling.LANCZOS))
    box_top = top + window + int(size * 0.05)
    height = int(size * (0.22 if subtitle else 0.25))  # room for the subtitle under three lines
    lines, font, pitch = _fit(draw, title, ImageFont, int(size * 0.86), height)
    for i, line in enumerate(lines):
        draw.text((size / 2, box_top + i * pitch), line, font=font, fill=text, anchor="ma",
                  stroke_width=max(1, font.size // 40), stroke_fill=text)
    if subtitle:
        small = ImageFont.load_default(size=size // 30)
        draw.text((size / 2, size * 0.955), subtitle, font=small, fill=_mix(text, colour, 0.25), anchor="md")
    for layers in (_figure_layers, _left_ramp, _face_mask):
        layers.cache_clear()
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=6)  # optimize=True: 4x the time for 1 % fewer bytes
    return out.getvalue()


def _fit(draw, title: str, font_module, width: int, height: int):
    """The title wrapped in the largest font size (at most three lines) that fits ``width`` by
    ``height`` pixels: the lines, the font and the line pitch."""
    words = title.split() or [" "]
    for points in range(COVER_SIZE // 10, COVER_SIZE // 60, -4):
        font = font_module.load_default(size=points)
        ascent, descent = font.getmetrics()
        pitch = int((ascent + descent) * 1.05)
        lines = _wrap(words, lambda s: draw.textlength(s, font=font), width)
        if lines is not None and len(lines) <= 3 and len(lines) * pitch <= height:
            return lines, font, pitch
    return [" ".join(words)], font, pitch


def _wrap(words: list[str], width, max_width: int) -> list[str] | None:
    """Greedy word wrap; ``None`` when a single word is wider than ``max_width``."""
    lines: list[str] = []
    for word in words:
        if width(word) > max_width:
            return None
        if lines and width(f"{lines[-1]} {word}") <= max_width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _luminance(colour) -> float:
    r, g, b = (c / 255 for c in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b
