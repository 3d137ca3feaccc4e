"""Fits the polynomial coefficients that osprey4j.core.kernels.VectorMath uses for erf(x) in float.

Two pieces (x >= 0; erf is odd):
  * 0 <= x < 1:  erf(x) = x * P(x^2)                    (P fitted for relative error of erf)
  * 1 <= x < 4:  erf(x) = 1 - exp(-x^2) * Q(x - 2.5)    (Q fitted so that erf has small absolute error)
  * x >= 4:      erf(x) = 1 in float (erfc(4) = 1.5e-8 is below half an ulp of 1).
The fit is a weighted least-squares fit on dense Chebyshev nodes in double precision (numpy), then the
coefficients are rounded to float and the float-rounded polynomial is re-checked here in double.
Run with Debian's /usr/bin/python3 (numpy 1.24); prints Java constants.
"""
import math
import numpy as np

erf = np.vectorize(math.erf)
erfc = np.vectorize(math.erfc)


def cheb_nodes(a, b, n):
    k = np.arange(n)
    return (a + b) / 2 + (b - a) / 2 * np.cos(np.pi * (k + 0.5) / n)


def fit(x, y, w, deg):
    # weighted least squares on a Vandermonde matrix, highest power first
    v = np.vander(x, deg + 1)
    c, *_ = np.linalg.lstsq(v * w[:, None], y * w, rcond=None)
    return c


def horner(c, x):
    r = np.zeros_like(x)
    for ci in c:
        r = r * x + ci
    return r


# piece 1: erf(x)/x as a polynomial in s = x^2 on [0, 1]
x = cheb_nodes(0.0, 1.0, 4000)
x = x[x > 1e-4]
s = x * x
target = erf(x) / x
p = fit(s, target, 1 / target, 6)
pf = np.float32(p).astype(np.float64)
err1 = np.max(np.abs(x * horner(pf, s) - erf(x)) / erf(x))
print("P (x^2), highest first:", ", ".join(str(np.float32(c)) + "f" for c in p), "max rel err of erf", err1)

# piece 2: erfc(x) * exp(x^2) as a polynomial in u = x - 2.5 on [1, 4]
x = cheb_nodes(1.0, 4.0, 6000)
u = x - 2.5
target = erfc(x) * np.exp(x * x)
weight = np.exp(-x * x)  # absolute error of erf = exp(-x^2) * error of Q
q = fit(u, target, weight, 8)
qf = np.float32(q).astype(np.float64)
err2 = np.max(np.abs(1 - np.exp(-x * x) * horner(qf, u) - erf(x)))
print("Q (x-2.5), highest first:", ", ".join(str(np.float32(c)) + "f" for c in q), "max abs err of erf", err2)
