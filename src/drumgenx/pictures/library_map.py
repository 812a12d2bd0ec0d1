"""The sample library as a 2-D map coloured by role, as sample organizers show a library.

Each one-shot's DSP features (``per_sample_N.json``) are put on a perceptual scale (times
and frequencies logarithmic, as they are heard), standardized, and projected onto their two
principal components, so similar sounds land near each other. The samples the pattern uses
are ringed in black.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np

from drumgenx.core.errors import DrumgenxError
from drumgenx.core.roles import ROLES
from drumgenx.pictures.palette import ROLE_COLOURS, check_dpi

DEFAULT_DPI = 100
_SIZE_IN = (8.5, 6.8)
_LABEL_ALL_UP_TO = 15  # with a handful of samples every point gets its name
_LABEL_CHOSEN_UP_TO = 24  # beyond that, names would bury the map


def _perceptual(name: str, values: np.ndarray) -> np.ndarray:
    """Log-scale times and frequencies: an octave or a doubling of decay counts the same."""
    finite = values[np.isfinite(values)]
    if finite.size and finite.min() >= 0:
        if name.endswith(("_hz", "_ms")):
            return np.log1p(values)
        if name.endswith("_s"):
            return np.log1p(values * 1000.0)
    return values


def feature_matrix(samples: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, list[str]]:
    """The samples' features as an ``(n, d)`` matrix, columns on a perceptual scale.

    Columns are the union of all feature names, sorted; a feature a sample lacks is NaN
    (filled in by `project_2d`).

    Returns
    -------
    (matrix, names)
    """
    names = sorted({name for s in samples for name in s.get("features", {})})
    matrix = np.full((len(samples), len(names)), np.nan)
    for i, sample in enumerate(samples):
        for j, name in enumerate(names):
            value = sample.get("features", {}).get(name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                matrix[i, j] = float(value)
    with np.errstate(invalid="ignore"):
        for j, name in enumerate(names):
            matrix[:, j] = _perceptual(name, matrix[:, j])
    return matrix, names


def _pca(features: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(xy, explained, components)`` of the first two principal components.

    ``components`` is ``(2, d)``: each component's loadings, signed so its largest
    absolute loading is positive (SVD leaves the sign free; this makes it reproducible).
    """
    x = np.array(features, dtype=float, copy=True)
    if x.ndim != 2:
        raise DrumgenxError(f"features must be a 2-D matrix (samples x features), got {x.ndim}-D")
    n, d = x.shape
    xy = np.zeros((n, 2))
    explained = np.zeros(2)
    components = np.zeros((2, d))
    if n < 2 or d == 0:
        return xy, explained, components  # one point (or no features): the origin
    x[~np.isfinite(x)] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN column: mean NaN, 0 below
        mean = np.nanmean(x, axis=0)
    mean = np.where(np.isfinite(mean), mean, 0.0)
    x = np.where(np.isnan(x), mean, x)  # a missing feature counts as average
    x -= mean
    std = x.std(axis=0)
    # A feature that never varies carries nothing; dividing by 1 keeps it at 0.
    x /= np.where(std > 1e-12 * (1 + np.abs(mean)), std, 1.0)
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    k = min(2, s.size)
    for c in range(k):
        if vt[c, np.argmax(np.abs(vt[c]))] < 0:
            u[:, c], vt[c] = -u[:, c], -vt[c]
    xy[:, :k] = u[:, :k] * s[:k]
    total = float(np.sum(s**2))
    if total > 0:
        share = s[:k] ** 2 / total
        real = share > 1e-9  # a rounding-noise axis (two samples: the second) holds nothing
        explained[:k] = np.where(real, share, 0.0)
        components[:k] = vt[:k] * real[:, None]
        xy[:, :k] *= real
    else:
        xy[:] = 0.0  # every sample alike: all on the origin
    return xy, explained, components


def project_2d(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project feature vectors onto their first two principal components.

    Parameters
    ----------
    features
        ``(n, d)``: a row per sample. NaN or infinite entries count as the column's mean;
        columns with zero variance are ignored.

    Returns
    -------
    xy
        ``(n, 2)`` coordinates (z-score units). With one sample it is the origin; with two
        (one direction of difference) both lie on the x axis.
    explained
        ``(2,)`` share of the total variance each axis holds (0 where nothing varies).

    Notes
    -----
    Columns are z-scored, then projected via SVD; each component's sign is fixed so its
    largest-magnitude loading is positive, so the same library always gives the same map.
    """
    xy, explained, _ = _pca(features)
    return xy, explained


def _pretty(name: str) -> str:
    return re.sub(r"_(hz|ms|s|db)$", "", name).replace("_", " ")


def _axis_label(axis: int, explained: float, loadings: np.ndarray, names: Sequence[str]) -> str:
    """``PC1 · 41% of variance`` and which features move a sample along the axis."""
    label = f"PC{axis + 1} · {explained:.0%} of variance"
    if explained <= 0 or not names:
        return label
    order = np.argsort(-np.abs(loadings), kind="stable")[:2]
    parts = [f"{'higher' if loadings[j] > 0 else 'lower'} {_pretty(names[j])}" for j in order]
    return f"{label}\n{'right' if axis == 0 else 'up'} = {', '.join(parts)}"


def _short(sample_id: str, limit: int = 14) -> str:
    return sample_id if len(sample_id) <= limit else sample_id[: limit - 1] + "…"


def library_map_png(
    samples: Sequence[Mapping[str, Any]],
    *,
    chosen: Collection[str] = (),
    title: str | None = None,
    dpi: int = DEFAULT_DPI,
) -> bytes:
    """Draw the sample library as a 2-D feature map coloured by role; return the PNG.

    Parameters
    ----------
    samples
        The ``samples`` records of ``per_sample_N.json``: each with ``sample_id``,
        ``role`` and a ``features`` dict of numbers.
    chosen
        Sample ids the pattern uses: drawn larger with a black ring (and named when few).
        Ids not in ``samples`` are counted in a note under the title.
    title
        Heading; a plain one if omitted.
    dpi
        Pixels per inch (20..600); the picture is 8.5 x 6.8 inches.

    Returns
    -------
    bytes
        A PNG; the same input gives the same bytes.

    Raises
    ------
    DrumgenxError
        No samples, a record without ``sample_id`` or with an unknown role, or a bad dpi.
    """
    check_dpi(dpi)
    if not samples:
        raise DrumgenxError("no samples to map")
    _check_samples(samples)
    matrix, names = feature_matrix(samples)
    xy, explained, components = _pca(matrix)
    ids = [s["sample_id"] for s in samples]
    roles = np.array([s["role"] for s in samples])
    chosen_set = set(chosen)
    is_chosen = np.array([i in chosen_set for i in ids])
    missing = len(chosen_set - set(ids))

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = len(samples)
    # Thousands of points: small and translucent, so dense regions read as density.
    size, alpha = (70, 0.9) if n <= 60 else (28, 0.75) if n <= 600 else (9, 0.45)
    fig = Figure(figsize=_SIZE_IN, dpi=dpi, facecolor="white")
    FigureCanvasAgg(fig)
    try:
        ax = fig.add_axes((0.09, 0.13, 0.66, 0.74))
        _draw_roles(ax, xy, roles, is_chosen, chosen=bool(chosen_set), size=size, alpha=alpha)
        _set_limits(ax, xy)  # first: label placement needs the final data-to-pixel mapping
        _label_points(ax, xy, ids, is_chosen)
        _style_axes(ax, explained, components, names)
        _write_headings(fig, title, n, missing)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
        return buffer.getvalue()
    finally:
        fig.clear()


def _check_samples(samples: Sequence[Mapping[str, Any]]) -> None:
    """Raise `DrumgenxError` for a record without ``sample_id`` or with an unknown role."""
    for i, sample in enumerate(samples):
        if not isinstance(sample.get("sample_id"), str):
            raise DrumgenxError(f"sample {i}: no sample_id")
        if sample.get("role") not in ROLE_COLOURS:
            raise DrumgenxError(
                f"sample {sample['sample_id']!r}: unknown role {sample.get('role')!r} "
                f"(expected one of {', '.join(ROLES)})"
            )


def _draw_roles(
    ax: Any,
    xy: np.ndarray,
    roles: np.ndarray,
    is_chosen: np.ndarray,
    *,
    chosen: bool,
    size: float,
    alpha: float,
) -> None:
    """Scatter each role's points (the chosen ones larger, ringed) and draw the legend."""
    from matplotlib.lines import Line2D

    handles = []
    for role in ROLES:
        mask = roles == role
        count = int(mask.sum())
        if count:
            ax.scatter(
                xy[mask & ~is_chosen, 0],
                xy[mask & ~is_chosen, 1],
                s=size,
                c=ROLE_COLOURS[role],
                alpha=alpha,
                linewidths=0,
                zorder=2,
            )
            ax.scatter(
                xy[mask & is_chosen, 0],
                xy[mask & is_chosen, 1],
                s=max(110, size * 2.2),
                c=ROLE_COLOURS[role],
                edgecolors="black",
                linewidths=1.6,
                zorder=4,
            )
        handles.append(
            Line2D(
                [],
                [],
                linestyle="",
                marker="o",
                markersize=8,
                markerfacecolor=ROLE_COLOURS[role] if count else "white",
                markeredgecolor=ROLE_COLOURS[role],
                label=f"{role} ({count})",
            )
        )
    if chosen:
        used = int(is_chosen.sum())
        handles.append(
            Line2D(
                [],
                [],
                linestyle="",
                marker="o",
                markersize=11,
                markerfacecolor="white",
                markeredgecolor="black",
                markeredgewidth=1.6,
                label=f"used in pattern ({used})",
            )
        )
    ax.legend(
        handles=handles,
        title="role (samples)",
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        frameon=False,
        fontsize=9.5,
        title_fontsize=10,
        alignment="left",
    )


def _style_axes(
    ax: Any, explained: np.ndarray, components: np.ndarray, names: Sequence[str]
) -> None:
    """Label the axes by their principal components; light grid and spines, no ticks."""
    ax.set_xlabel(_axis_label(0, explained[0], components[0], names), fontsize=9.5)
    ax.set_ylabel(_axis_label(1, explained[1], components[1], names), fontsize=9.5)
    ax.tick_params(labelbottom=False, labelleft=False, length=0)
    ax.grid(color="#eeeeee", linewidth=0.8, zorder=0)
    ax.set_axisbelow(True)
    for spine in ax.spines.values():
        spine.set_color("#bbbbbb")


def _write_headings(fig: Any, title: str | None, n: int, missing: int) -> None:
    """The heading and the note under it (what the map shows, ids missing from it)."""
    heading = title or f"sample library · {n} one-shot{'s' if n != 1 else ''}"
    fig.text(0.09, 0.955, heading, ha="left", va="top", fontsize=13, fontweight="bold")
    note = "similar sounds lie close together (PCA of the DSP features)"
    if n < 3:
        note = "too few samples for a map: placed on a line by their difference"
    if missing:
        note += f"; the pattern uses {missing} sample{'s' if missing > 1 else ''} not in it"
    fig.text(0.09, 0.905, note, ha="left", va="top", fontsize=9, color="#555555")


def _label_points(ax: Any, xy: np.ndarray, ids: Sequence[str], is_chosen: np.ndarray) -> None:
    """Name every point in a small library, else only the chosen ones while they are few.

    Each name takes the first free spot around its point (right, then left, above, below);
    one with no free spot is left out rather than printed over another.
    """
    if len(ids) <= _LABEL_ALL_UP_TO:
        which = list(range(len(ids)))
    elif int(is_chosen.sum()) <= _LABEL_CHOSEN_UP_TO:
        which = [i for i in range(len(ids)) if is_chosen[i]]
    else:
        return
    which.sort(key=lambda i: (not is_chosen[i], i))  # the pattern's samples get first pick
    renderer = ax.figure.canvas.get_renderer()
    placed: list[Any] = []
    spots = ((7, 4, "left", "bottom"), (-7, 4, "right", "bottom"), (7, -4, "left", "top"))
    spots += ((-7, -4, "right", "top"),)
    for i in which:
        for dx, dy, ha, va in spots:
            text = ax.annotate(
                _short(ids[i]),
                (xy[i, 0], xy[i, 1]),
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                va=va,
                fontsize=8.5,
                fontweight="bold" if is_chosen[i] else "normal",
                color="#111111" if is_chosen[i] else "#555555",
                zorder=5,
            )
            box = text.get_window_extent(renderer)
            if not any(box.overlaps(other) for other in placed):
                placed.append(box)
                break
            text.remove()


def _set_limits(ax: Any, xy: np.ndarray) -> None:
    """Limits with room for labels; a flat axis (one or two samples) gets a unit span."""
    for axis, setter in ((0, ax.set_xlim), (1, ax.set_ylim)):
        lo, hi = float(xy[:, axis].min()), float(xy[:, axis].max())
        span = hi - lo
        if not math.isfinite(span) or span < 1e-9:
            lo, hi, span = lo - 1.0, hi + 1.0, 2.0
        pad = span * (0.12 if axis == 0 else 0.08)
        setter(lo - pad, hi + pad * (1.6 if axis == 0 else 1.0))
