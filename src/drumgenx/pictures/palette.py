"""The one role palette every picture uses (Okabe-Ito: distinct under colour-blindness)."""

from __future__ import annotations

from drumgenx.core.errors import DrumgenxError
from drumgenx.core.roles import ROLES


def check_dpi(dpi: int) -> None:
    """Both pictures take 20..600 pixels per inch: below, labels are unreadable; above, a
    16-bar grid is a file of many megabytes."""
    if not isinstance(dpi, int) or not 20 <= dpi <= 600:
        raise DrumgenxError(f"dpi must be a whole number from 20 to 600, got {dpi!r}")


# Okabe & Ito (2008), "Color Universal Design": the eight colours stay apart for the common
# colour-vision deficiencies; these five are the darker ones, so light velocity shades of
# them still read against a white page.
ROLE_COLOURS: dict[str, str] = {
    "CORE": "#0072B2",  # blue
    "ACCENT": "#D55E00",  # vermillion
    "MOTION": "#009E73",  # bluish green
    "FILL": "#CC79A7",  # reddish purple
    "TEXTURE": "#E69F00",  # orange
}

RGB = tuple[float, float, float]


def role_rgb(role: str) -> RGB:
    """The role's colour as an ``(r, g, b)`` triple of floats in 0..1.

    Raises
    ------
    DrumgenxError
        ``role`` is not one of `drumgenx.core.roles.ROLES`.
    """
    try:
        code = ROLE_COLOURS[role]
    except KeyError:
        raise DrumgenxError(f"unknown role {role!r} (expected one of {', '.join(ROLES)})") from None
    return tuple(int(code[i : i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]


def velocity_rgb(role: str, vel: float) -> RGB:
    """The role's colour blended towards white for a soft hit.

    Parameters
    ----------
    role
        One of the five roles.
    vel
        Velocity 0..1 (clipped); 1 gives the full role colour, 0 a pale tint that still
        shows a hit is there.

    Returns
    -------
    tuple of float
        ``(r, g, b)`` in 0..1; every channel falls (the colour darkens) as ``vel`` rises.
    """
    vel = min(max(float(vel), 0.0), 1.0) if vel == vel else 0.0  # NaN -> softest
    strength = 0.18 + 0.82 * vel
    return tuple(1.0 - strength * (1.0 - c) for c in role_rgb(role))  # type: ignore[return-value]
