"""Small robust statistics for consolidation, in plain Python (no numpy in the CC).

Definitions match those the consolidation literature's reference simulator uses:
IQR from rounded quartile positions, MAD as the median of absolute deviations from
the median, ordinary least squares for trends and for multiple-regression R².
"""

from __future__ import annotations

import math
import operator
import sys
from collections.abc import Sequence


def median(values: Sequence[float]) -> float:
    """The median (mean of the middle two for an even count)."""
    s = sorted(values)
    n = len(s)
    mid = n // 2
    return s[mid] if n % 2 else (s[mid - 1] + s[mid]) / 2.0


def iqr(values: Sequence[float]) -> float:
    """Interquartile range with quartiles at positions round(0.25 (n+1)) and round(0.75 (n+1))."""
    s = sorted(values)
    n = len(s)
    q1 = _round_half_up(0.25 * (n + 1)) - 1
    q3 = _round_half_up(0.75 * (n + 1)) - 1
    return s[q3] - s[q1]


def _round_half_up(x: float) -> int:
    # Java's Math.round: halves go up (Python's round() goes to even).
    return int(x + 0.5) if x >= 0 else -int(-x + 0.5)


def mad(values: Sequence[float]) -> float:
    """Median absolute deviation from the median."""
    if not values:
        return 0.0
    m = median(values)
    return median([abs(v - m) for v in values])


def line_fit(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """Ordinary least-squares line ``(intercept, slope)``; NaNs when x does not vary."""
    n = len(xs)
    mean_x = sum(xs) / n
    mean_y = sum(ys) / n
    sxx = sxy = 0.0
    for x, y in zip(xs, ys, strict=True):
        dx = x - mean_x
        sxx += dx * dx
        sxy += dx * (y - mean_y)
    if sxx == 0.0 or math.isnan(sxx) or math.isinf(sxx):
        return math.nan, math.nan
    slope = sxy / sxx
    return mean_y - slope * mean_x, slope


def tricube_weights(n: int) -> list[float]:
    """Inverse tricube weights of a window of ``n`` points, the first two copying the third."""
    weights = [0.0] * n
    top = float(n - 1)
    for i in range(2, n):
        k = (1.0 - ((top - i) / top) ** 3) ** 3
        weights[i] = 1.0 / k if k > 0.0 else _HUGE
    weights[0] = weights[1] = weights[2]
    return weights


_HUGE = sys.float_info.max


def weighted_line(xs: Sequence[float], ys: Sequence[float], weights: Sequence[float]
                  ) -> tuple[float, float]:
    """Weighted line fit as the reference simulator does it.

    The points are scaled by the square roots of the weights only when at least 40 %
    of the weights are zero; otherwise the plain least-squares line is returned (so a
    window of positive weights gives ordinary regression).
    """
    zeros = sum(1 for w in weights if w <= 0.0)
    if zeros >= 0.4 * len(weights):
        roots = [math.sqrt(w) for w in weights]
        xs = [r * x for r, x in zip(roots, xs, strict=True)]
        ys = [r * y for r, y in zip(roots, ys, strict=True)]
    return line_fit(xs, ys)


def robust_regression(ys: Sequence[float]) -> tuple[float, float]:
    """Trend of ``ys`` at x = 1, 2, ...: tricube fit, then refit with bisquare weights."""
    n = len(ys)
    xs = [float(i + 1) for i in range(n)]
    cube = tricube_weights(n)
    a, b = weighted_line(xs, ys, cube)
    residuals = [y - (a + b * x) for x, y in zip(xs, ys, strict=True)]
    s6 = median([abs(r) for r in residuals]) * 6.0
    weights = [0.0] * n
    for i in range(2, n):
        if s6 == 0.0:  # IEEE division as the reference does: r/0 is inf (weight 0) or NaN
            ratio = math.nan if residuals[i] == 0.0 else math.inf
        else:
            ratio = residuals[i] / s6
        k = (1.0 - ratio * ratio) * (1.0 - ratio * ratio)
        weights[i] = (1.0 / k) * cube[i] if k > 0.0 else _HUGE
    weights[0] = weights[1] = weights[2]
    return weighted_line(xs, ys, weights)


def simple_regression(ys: Sequence[float]) -> tuple[float, float] | None:
    """Least-squares line through ``(1, y0), (2, y1), ...``: ``(intercept, slope)``."""
    n = len(ys)
    if n < 2:
        return None
    mean_x = (n + 1) / 2.0
    mean_y = sum(ys) / n
    sxx = sxy = 0.0
    for i, y in enumerate(ys):
        dx = i + 1 - mean_x
        sxx += dx * dx
        sxy += dx * (y - mean_y)
    slope = sxy / sxx
    return mean_y - slope * mean_x, slope


def least_squares_r2(xs: Sequence[Sequence[float]], y: Sequence[float]) -> float | None:
    """R² of regressing ``y`` on the series ``xs`` (with intercept); None if singular.

    Solved through the normal equations with partial pivoting: the systems here are
    tiny (a host's instances, at most a few dozen samples).
    """
    m = len(y)
    k = len(xs) + 1
    cols = [[1.0] * m, *[list(x) for x in xs]]
    a = [[sum(ci[t] * cj[t] for t in range(m)) for cj in cols] for ci in cols]
    b = [sum(ci[t] * y[t] for t in range(m)) for ci in cols]
    for c in range(k):
        p = max(range(c, k), key=lambda r: abs(a[r][c]))
        if abs(a[p][c]) < 1e-12:
            return None
        if p != c:
            a[c], a[p] = a[p], a[c]
            b[c], b[p] = b[p], b[c]
        for r in range(c + 1, k):
            f = a[r][c] / a[c][c]
            if f:
                row_r, row_c = a[r], a[c]
                for j in range(c, k):
                    row_r[j] -= f * row_c[j]
                b[r] -= f * b[c]
    beta = [0.0] * k
    for c in range(k - 1, -1, -1):
        beta[c] = (b[c] - sum(a[c][j] * beta[j] for j in range(c + 1, k))) / a[c][c]
    mean_y = sum(y) / m
    ss_tot = sum((v - mean_y) ** 2 for v in y)
    if ss_tot == 0.0:
        return float("nan")  # undefined: never the maximum, but not a failure either
    ss_res = 0.0
    for t in range(m):
        pred = sum(beta[j] * cols[j][t] for j in range(k))
        ss_res += (y[t] - pred) ** 2
    return 1.0 - ss_res / ss_tot


def covariance_inverse(rows: Sequence[Sequence[float]]) -> tuple[list[list[float]], list[float]] | None:
    """Inverse of the series' centred cross-product matrix, and its diagonal; None if singular.

    For series i, the R² of regressing it (with intercept) on all the others is
    ``1 - 1 / (S[i][i] * inv[i][i])``: one inversion instead of one regression each.
    S is symmetric positive semi-definite, so in-place Gauss-Jordan needs no pivoting; a
    vanishing pivot means a series is a combination of the others (singular).
    """
    n = len(rows)
    m = len(rows[0])
    centred = []
    for series in rows:
        mean = sum(series) / m
        centred.append([v - mean for v in series])
    s = [[0.0] * n for _ in range(n)]
    for i in range(n):
        ci = centred[i]
        row = s[i]
        for j in range(i, n):
            row[j] = s[j][i] = sum(map(operator.mul, ci, centred[j]))
    diag = [s[i][i] for i in range(n)]
    scale = max(diag) if diag else 0.0
    if scale <= 0.0:
        return None
    a = [row[:] for row in s]
    for k in range(n):
        pivot = a[k][k]
        if pivot <= 1e-12 * scale:
            return None
        inv_p = 1.0 / pivot
        a[k][k] = 1.0
        row_k = a[k] = [v * inv_p for v in a[k]]
        for i in range(n):
            if i != k:
                row_i = a[i]
                f = row_i[k]
                if f:
                    row_i[k] = 0.0
                    a[i] = [x - f * y for x, y in zip(row_i, row_k, strict=True)]
    return a, diag


def drop_variable(inv: list[list[float]], diag: list[float], j: int
                  ) -> tuple[list[list[float]], list[float]] | None:
    """The inverse without variable ``j`` (a Schur-complement downdate, O(n²))."""
    d = inv[j][j]
    if d <= 0.0:
        return None
    col = [row[j] for row in inv]
    out = []
    for i, row in enumerate(inv):
        if i == j:
            continue
        f = col[i] / d
        out.append([v - f * col[k] for k, v in enumerate(row) if k != j])
    return out, [v for k, v in enumerate(diag) if k != j]
