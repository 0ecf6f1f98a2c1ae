"""The C source of a compiled material library: traced programs, kinematics, batched API, UMAT.

Everything here is plain C99 with ``<math.h>``, ``<stdint.h>``, ``<stdio.h>`` and
``<string.h>``: no globals (thread-safe, reentrant), no intrinsics. The derivatives come from
the traced programs (:mod:`.codegen`); the hand-written parts are kinematics only:

* ``E = (F^T F - I) / 2`` in Mandel form, Mandel -> tensor components;
* Abaqus convention: ``sigma = F S F^T / J``, ``c = J^-1 F F F F : CC`` and the Jaumann-rate
  tangent ``C^MJ = c + (d_ik s_jl + s_ik d_jl + d_il s_jk + s_il d_jk) / 2`` (Abaqus User
  Subroutines Reference Guide, "UMAT"; :mod:`constitutive.interfaces.abaqus_umat`);
* CalculiX convention (``@ABAQUSNL`` interface, ``umat_abaqusnl.f`` of CalculiX 2.20): the
  corotational Cauchy stress ``s = R^T sigma R = U S U / J`` (``F = R U``; CalculiX turns it
  back into ``S = J U^-1 s U^-1``, lines 560-600) and ``DDSDDE = U U U U : CC`` (CalculiX
  multiplies by four ``U^-1`` to get ``dS/dE``, no ``J``, lines 602-668). ``U = sqrt(C)`` by
  Jacobi rotations on ``C``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .codegen import point_function

#: status codes of the batched API (also in NAME.h and NAME.json)
STATUS = {
    0: "ok",
    1: "non-finite input",
    2: "inadmissible deformation (det F <= 0, or C = I + 2E not positive definite)",
    3: "non-finite result (overflow)",
    4: "invalid parameter (non-finite or outside its declared bounds)",
}
#: status 100 + c: the point violates domain condition c of the energy (``conditions`` in NAME.json)
DOMAIN_STATUS = 100
#: PNEWDT written by the UMAT to request a smaller increment (Abaqus: < 1; CalculiX: any value > 0)
CUTBACK = 0.25


@dataclass(frozen=True)
class ParamEntry:
    """One declared parameter in the flattened parameter array ``p``."""

    name: str
    offset: int
    length: int
    bounds: tuple[float | None, float | None]
    open_bounds: bool


def _bound_checks(params: list[ParamEntry]) -> list[str]:
    lines = []
    for pe in params:
        for j in range(pe.length):
            k = pe.offset + j
            conds = [f"isfinite(p[{k}])"]
            lo, hi = pe.bounds
            if lo is not None:
                conds.append(f"p[{k}] {'>' if pe.open_bounds else '>='} {float(lo)!r}")
            if hi is not None:
                conds.append(f"p[{k}] {'<' if pe.open_bounds else '<='} {float(hi)!r}")
            lines.append(f"    if (!({' && '.join(conds)})) {{ *bad = {k}; return 4; }}")
    return lines


_KINEMATICS = r"""
#define SQRT2 1.41421356237309504880
static const int AI[6] = {0, 1, 2, 0, 0, 1};  /* Abaqus order 11, 22, 33, 12, 13, 23 */
static const int AJ[6] = {0, 1, 2, 1, 2, 2};
static const int MI[6] = {0, 1, 2, 1, 0, 0};  /* Mandel order 11, 22, 33, 23, 13, 12 */
static const int MJ[6] = {0, 1, 2, 2, 2, 1};

static int all_finite(const double *a, int n)
{
    for (int i = 0; i < n; ++i) if (!isfinite(a[i])) return 0;
    return 1;
}

static int first_false(const double *ok, int n)
{
    for (int c = 0; c < n; ++c) if (!(ok[c] != 0.0)) return c;
    return -1;
}

static double det3(const double *a)  /* row-major 3x3 */
{
    return a[0] * (a[4] * a[8] - a[5] * a[7]) - a[1] * (a[3] * a[8] - a[5] * a[6])
         + a[2] * (a[3] * a[7] - a[4] * a[6]);
}

/* Mandel Green-Lagrange strain of F (row-major): E = (F^T F - I) / 2 */
static void strain_mandel(const double *F, double *e)
{
    double C[3][3];
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
            C[i][j] = F[i] * F[j] + F[3 + i] * F[3 + j] + F[6 + i] * F[6 + j];
    for (int a = 0; a < 6; ++a) {
        const int i = MI[a], j = MJ[a];
        e[a] = (a < 3 ? 0.5 * (C[i][j] - 1.0) : SQRT2 * 0.5 * C[i][j]);
    }
}

/* C = I + 2E positive definite (leading principal minors), e Mandel */
static int strain_admissible(const double *e)
{
    const double c00 = 1 + 2 * e[0], c11 = 1 + 2 * e[1], c22 = 1 + 2 * e[2];
    const double c12 = SQRT2 * e[3], c02 = SQRT2 * e[4], c01 = SQRT2 * e[5];
    const double m2 = c00 * c11 - c01 * c01;
    const double m3 = c00 * (c11 * c22 - c12 * c12) - c01 * (c01 * c22 - c12 * c02)
                    + c02 * (c01 * c12 - c11 * c02);
    return c00 > 0.0 && m2 > 0.0 && m3 > 0.0;
}

/* tensor components S[i][j], CC[i][j][k][l] of Mandel s (6) and D (6x6) */
static void from_mandel(const double *s, const double *D, double S[3][3], double CC[3][3][3][3])
{
    static const double w[6] = {1.0, 1.0, 1.0, SQRT2, SQRT2, SQRT2};
    for (int a = 0; a < 6; ++a) {
        const int i = MI[a], j = MJ[a];
        S[i][j] = S[j][i] = s[a] / w[a];
        for (int b = 0; b < 6; ++b) {
            const int k = MI[b], l = MJ[b];
            const double v = D[6 * a + b] / (w[a] * w[b]);
            CC[i][j][k][l] = CC[j][i][k][l] = CC[i][j][l][k] = CC[j][i][l][k] = v;
        }
    }
}

/* T_ijkl = M_iI M_jJ M_kK M_lL CC_IJKL */
#define L3(v) for (int v = 0; v < 3; ++v)
static void push4(double M[3][3], double CC[3][3][3][3], double T[3][3][3][3])
{
    double X[3][3][3][3], Y[3][3][3][3];
    L3(i) L3(b) L3(c) L3(d)
        X[i][b][c][d] = M[i][0] * CC[0][b][c][d] + M[i][1] * CC[1][b][c][d] + M[i][2] * CC[2][b][c][d];
    L3(i) L3(j) L3(c) L3(d)
        Y[i][j][c][d] = M[j][0] * X[i][0][c][d] + M[j][1] * X[i][1][c][d] + M[j][2] * X[i][2][c][d];
    L3(i) L3(j) L3(k) L3(d)
        X[i][j][k][d] = M[k][0] * Y[i][j][0][d] + M[k][1] * Y[i][j][1][d] + M[k][2] * Y[i][j][2][d];
    L3(i) L3(j) L3(k) L3(l)
        T[i][j][k][l] = M[l][0] * X[i][j][k][0] + M[l][1] * X[i][j][k][1] + M[l][2] * X[i][j][k][2];
}

/* A S A^T */
static void push2(double A[3][3], double S[3][3], double out[3][3])
{
    double X[3][3];
    for (int i = 0; i < 3; ++i) for (int j = 0; j < 3; ++j)
        X[i][j] = A[i][0] * S[0][j] + A[i][1] * S[1][j] + A[i][2] * S[2][j];
    for (int i = 0; i < 3; ++i) for (int j = 0; j < 3; ++j)
        out[i][j] = X[i][0] * A[j][0] + X[i][1] * A[j][1] + X[i][2] * A[j][2];
}

/* U = sqrt(C) for symmetric positive definite C: cyclic Jacobi rotations, U = Q sqrt(L) Q^T */
static void sqrt_spd(double C[3][3], double U[3][3])
{
    double a[3][3], q[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    memcpy(a, C, sizeof a);
    for (int sweep = 0; sweep < 60; ++sweep) {
        const double off = a[0][1] * a[0][1] + a[0][2] * a[0][2] + a[1][2] * a[1][2];
        const double diag = a[0][0] * a[0][0] + a[1][1] * a[1][1] + a[2][2] * a[2][2];
        if (off <= 1e-36 * diag) break;
        for (int p = 0; p < 2; ++p)
            for (int r = p + 1; r < 3; ++r) {
                if (a[p][r] == 0.0) continue;
                const double theta = (a[r][r] - a[p][p]) / (2.0 * a[p][r]);
                const double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
                const double c = 1.0 / sqrt(t * t + 1.0), s = t * c;
                for (int k = 0; k < 3; ++k) {  /* columns p, r */
                    const double akp = a[k][p], akr = a[k][r];
                    a[k][p] = c * akp - s * akr;
                    a[k][r] = s * akp + c * akr;
                }
                for (int k = 0; k < 3; ++k) {  /* rows p, r */
                    const double apk = a[p][k], ark = a[r][k];
                    a[p][k] = c * apk - s * ark;
                    a[r][k] = s * apk + c * ark;
                }
                for (int k = 0; k < 3; ++k) {
                    const double qkp = q[k][p], qkr = q[k][r];
                    q[k][p] = c * qkp - s * qkr;
                    q[k][r] = s * qkp + c * qkr;
                }
            }
    }
    const double l[3] = {sqrt(a[0][0]), sqrt(a[1][1]), sqrt(a[2][2])};
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
            U[i][j] = q[i][0] * l[0] * q[j][0] + q[i][1] * l[1] * q[j][1] + q[i][2] * l[2] * q[j][2];
}

/* Abaqus convention: Cauchy stress and the Jaumann-rate tangent C^MJ, Abaqus order */
static void convention_abaqus(const double *Frm, double S[3][3], double CC[3][3][3][3],
                              double *stress, double *tangent)
{
    double F[3][3], sig[3][3], c[3][3][3][3];
    memcpy(F, Frm, sizeof F);
    const double J = det3(Frm);
    push2(F, S, sig);
    push4(F, CC, c);
    for (int i = 0; i < 3; ++i) for (int j = 0; j < 3; ++j) sig[i][j] /= J;
    for (int a = 0; a < 6; ++a) {
        const int i = AI[a], j = AJ[a];
        stress[a] = sig[i][j];
        for (int b = 0; b < 6; ++b) {
            const int k = AI[b], l = AJ[b];
            const double dik = i == k, djl = j == l, dil = i == l, djk = j == k;
            tangent[6 * a + b] = c[i][j][k][l] / J
                + 0.5 * (dik * sig[j][l] + sig[i][k] * djl + dil * sig[j][k] + sig[i][l] * djk);
        }
    }
}

/* CalculiX ABAQUSNL convention: corotational Cauchy U S U / J and U U U U : CC, Abaqus order */
static void convention_calculix(const double *Frm, double S[3][3], double CC[3][3][3][3],
                                double *stress, double *tangent)
{
    double C[3][3], U[3][3], s[3][3], T[3][3][3][3];
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
            C[i][j] = Frm[i] * Frm[j] + Frm[3 + i] * Frm[3 + j] + Frm[6 + i] * Frm[6 + j];
    sqrt_spd(C, U);
    const double J = det3(Frm);
    push2(U, S, s);
    push4(U, CC, T);
    for (int a = 0; a < 6; ++a) {
        const int i = AI[a], j = AJ[a];
        stress[a] = s[i][j] / J;
        for (int b = 0; b < 6; ++b) tangent[6 * a + b] = T[i][j][AI[b]][AJ[b]];
    }
}
"""


def library_source(*, name: str, model: str, version: str, prog_mandel, prog_pk1, params: list[ParamEntry],
                   n_par: int, list_terms: int | None, conditions: list[str], convention: str,
                   umat_alias: bool) -> str:
    """The complete ``NAME.c``.

    ``prog_mandel`` outputs ``(W, s, D[, ok])`` for a Mandel strain, ``prog_pk1`` ``(P, A[, ok])``
    for ``F``; ``list_terms`` is the number of terms ``N`` that ``PROPS[0]`` must hold for models
    with list parameters (``None`` otherwise).
    """
    k = len(conditions)
    ok_arg, ok_decl = (", ok", f"    double ok[{k}];") if k else ("", "    double *ok = NULL;")
    nprops = n_par + (1 if list_terms is not None else 0)
    if list_terms is None:
        props = [f"    if (nprops != {nprops}) return 0;",
                 "    for (int i = 0; i < NPAR; ++i) p[i] = props[i];"]
    else:
        props = [f"    if (nprops != {nprops} || props[0] != {float(list_terms)!r}) return 0;",
                 "    for (int i = 0; i < NPAR; ++i) p[i] = props[1 + i];"]
    names = [f"{pe.name}[{pe.length}]" if pe.length > 1 or list_terms is not None else pe.name
             for pe in params]
    layout = "PROPS = " + ("[N, " if list_terms is not None else "[") + ", ".join(names) + "]"
    conv = f"convention_{convention}"
    alias = [] if not umat_alias else [
        "/* the same routine under the name Abaqus links a Fortran UMAT by */",
        "void umat_(UMAT_ARGS) { " + name + "(UMAT_CALL); }",
    ]
    return "\n".join([
        f"/* {name}.c: compiled material library generated by constitutive {version} from model {model!r}.",
        " * Stress and tangent come from the traced autograd derivatives of the energy; do not edit.",
        f" * UMAT convention: {convention}. Thread-safe and reentrant (no global state). See {name}.h. */",
        "#include <math.h>", "#include <stdint.h>", "#include <stdio.h>", "#include <string.h>",
        f'#include "{name}.h"', "",
        f"#define NPAR {max(n_par, 1)}", f"#define NCOND {k}", _KINEMATICS,
        point_function(prog_mandel, "prog_mandel"), point_function(prog_pk1, "prog_pk1"),
        "static int check_params(const double *p, int64_t *bad)", "{", "    (void)p; (void)bad;",
        *_bound_checks(params), "    return 0;", "}", "",
        _batched(name, ok_arg, ok_decl),
        f"/* parameters from PROPS: {layout} */",
        "static int params_from_props(const double *props, int nprops, double *p)", "{",
        *props, "    return 1;", "}", "",
        _umat(name, conv, ok_arg, ok_decl, layout), *alias, "",
    ])


def _batched(name: str, ok_arg: str, ok_decl: str) -> str:
    return f"""int {name}_stress_tangent(int64_t n, const double *params, const double *F, double *P,
    double *A, int64_t *bad)
{{
    int st = check_params(params, bad);
    if (st) return st;
    for (int64_t i = 0; i < n; ++i) {{
        const double *f = F + 9 * i;
{ok_decl}
        *bad = i;
        if (!all_finite(f, 9)) return 1;
        if (!(det3(f) > 0.0)) return 2;
        prog_pk1(f, params, P + 9 * i, A + 81 * i{ok_arg});
        const int c = first_false(ok, NCOND);
        if (c >= 0) return {DOMAIN_STATUS} + c;
        if (!all_finite(P + 9 * i, 9) || !all_finite(A + 81 * i, 81)) return 3;
    }}
    *bad = -1;
    return 0;
}}

int {name}_stress_tangent_mandel(int64_t n, const double *params, const double *e, double *W, double *s,
    double *D, int64_t *bad)
{{
    int st = check_params(params, bad);
    if (st) return st;
    for (int64_t i = 0; i < n; ++i) {{
        const double *x = e + 6 * i;
        double w;
{ok_decl}
        *bad = i;
        if (!all_finite(x, 6)) return 1;
        if (!strain_admissible(x)) return 2;
        prog_mandel(x, params, &w, s + 6 * i, D + 36 * i{ok_arg});
        const int c = first_false(ok, NCOND);
        if (c >= 0) return {DOMAIN_STATUS} + c;
        if (!isfinite(w) || !all_finite(s + 6 * i, 6) || !all_finite(D + 36 * i, 36)) return 3;
        if (W) W[i] = w;
    }}
    *bad = -1;
    return 0;
}}
"""


def _umat(name: str, conv: str, ok_arg: str, ok_decl: str, layout: str) -> str:
    if conv == "convention_calculix":
        # CalculiX's first iteration of an increment with prescribed displacements is linear and
        # asks for the tangent at the start of the increment (nonlingeo.c 2063-2078): the one call
        # in which KSTEP(3), its NLGEOM flag, is 0 (umat_abaqusnl.f 160-167). DFGRD1 there is a
        # trial state with every prescribed displacement applied and the free nodes not moved.
        state = ("    const double *Fcol = KSTEP[2] == 0 ? DFGRD0 : DFGRD1;  "
                 "/* CalculiX: start-of-increment tangent */")
    else:
        state = "    const double *Fcol = DFGRD1;"
    return f"""void {name}(UMAT_ARGS)
{{
    (void)STATEV; (void)RPL; (void)DDSDDT; (void)DRPLDE; (void)DRPLDT; (void)STRAN; (void)DSTRAN;
    (void)TIME; (void)DTIME; (void)TEMP; (void)DTEMP; (void)PREDEF; (void)DPRED; (void)CMNAME;
    (void)NSTATV; (void)COORDS; (void)DROT; (void)CELENT; (void)DFGRD0; (void)NOEL; (void)NPT;
    (void)LAYER; (void)KSPT; (void)KSTEP; (void)KINC; (void)CMNAME_LEN;
    const int ntens = *NTENS;
    double p[NPAR], F[9], e[6], w, s[6], D[36], S[3][3], CC[3][3][3][3], stress[6], tangent[36];
    int64_t bad;
{ok_decl}
    if (!params_from_props(PROPS, *NPROPS, p)) {{
        fprintf(stderr, "{name}: NPROPS = %d does not match the compiled layout {layout}\\n", *NPROPS);
        *PNEWDT = {CUTBACK!r};
        return;
    }}
    if (check_params(p, &bad)) {{
        fprintf(stderr, "{name}: PROPS value %lld is non-finite or outside its bounds\\n", (long long)bad);
        *PNEWDT = {CUTBACK!r};
        return;
    }}
    if (!(*NDI == 3 && ((*NSHR == 3 && ntens == 6) || (*NSHR == 1 && ntens == 4)))) {{
        fprintf(stderr, "{name}: NDI=%d NSHR=%d NTENS=%d unsupported (3-D or plane strain/axisymmetric)\\n",
                *NDI, *NSHR, ntens);
        *PNEWDT = {CUTBACK!r};
        return;
    }}
{state}
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) F[3 * i + j] = Fcol[i + 3 * j];  /* column-major DFGRD */
    if (!all_finite(F, 9) || !(det3(F) > 0.0)) {{ *PNEWDT = {CUTBACK!r}; return; }}
    strain_mandel(F, e);
    prog_mandel(e, p, &w, s, D{ok_arg});
    if (first_false(ok, NCOND) >= 0) {{ *PNEWDT = {CUTBACK!r}; return; }}
    from_mandel(s, D, S, CC);
    {conv}(F, S, CC, stress, tangent);
    if (!isfinite(w) || !all_finite(stress, 6) || !all_finite(tangent, 36)) {{
        *PNEWDT = {CUTBACK!r};
        return;
    }}
    for (int a = 0; a < ntens; ++a) {{
        STRESS[a] = stress[a];
        for (int b = 0; b < ntens; ++b) DDSDDE[a + ntens * b] = tangent[6 * a + b];
    }}
    *SSE = w;
    *SPD = 0.0;
    *SCD = 0.0;
}}
"""


def header_source(*, name: str, model: str, convention: str, layout: str, n_par: int,
                  conditions: list[str], umat_alias: bool) -> str:
    """``NAME.h``: the entry points, status codes and conventions in comments."""
    status = "\n".join(f" *   {k}  {v}" for k, v in STATUS.items())
    conds = "\n".join(f" *   {DOMAIN_STATUS + c}  {m}" for c, m in enumerate(conditions)) or " *   (none)"
    guard = f"{name.upper()}_H"
    alias = "void umat_(UMAT_ARGS);\n" if umat_alias else ""
    return f"""/* {name}.h: compiled material library for model {model!r} (generated by constitutive).
 *
 * Batched API (thread-safe, reentrant; arrays C order, points along the first axis):
 *   {name}_stress_tangent(n, params, F, P, A, &bad)
 *       F (n,3,3) deformation gradients, F[i][j] = F_ij -> P (n,3,3) first Piola-Kirchhoff stress,
 *       A (n,3,3,3,3), A[i][J][k][L] = dP_iJ/dF_kL.
 *   {name}_stress_tangent_mandel(n, params, e, W, s, D, &bad)
 *       e (n,6) Mandel Green-Lagrange strain (11,22,33,23,13,12; shear x sqrt(2)) -> W (n) energy
 *       (may be NULL), s (n,6) Mandel 2nd Piola-Kirchhoff stress, D (n,6,6) Mandel dS/dE.
 *   params: the {n_par} parameter values in declaration order (PROPS without a leading N).
 *   Return: 0 on success, else the status below with bad = the first bad point
 *   (or, for status 4, the bad parameter index); outputs at and after that point are undefined.
{status}
 *   Domain conditions of the energy:
{conds}
 *
 * UMAT {name} (Abaqus ABI: arguments by reference, DFGRD1 column-major, hidden CMNAME length last):
 *   {layout}; convention {convention!r} (see {name}.json). NTENS 6 (3-D) or 4 (plane strain,
 *   axisymmetric). A bad state (det F <= 0, non-finite input or result, outside the energy's domain)
 *   sets PNEWDT = {CUTBACK} (a smaller increment) and leaves STRESS and DDSDDE unchanged.
 */
#ifndef {guard}
#define {guard}
#include <stdint.h>
#ifdef __cplusplus
extern "C" {{
#endif

int {name}_stress_tangent(int64_t n, const double *params, const double *F, double *P, double *A,
                          int64_t *bad);
int {name}_stress_tangent_mandel(int64_t n, const double *params, const double *e, double *W, double *s,
                                 double *D, int64_t *bad);

#define UMAT_ARGS double *STRESS, double *STATEV, double *DDSDDE, double *SSE, double *SPD, double *SCD, \\
    double *RPL, double *DDSDDT, double *DRPLDE, double *DRPLDT, const double *STRAN, const double *DSTRAN, \\
    const double *TIME, const double *DTIME, const double *TEMP, const double *DTEMP, const double *PREDEF, \\
    const double *DPRED, const char *CMNAME, const int *NDI, const int *NSHR, const int *NTENS, \\
    const int *NSTATV, const double *PROPS, const int *NPROPS, const double *COORDS, const double *DROT, \\
    double *PNEWDT, const double *CELENT, const double *DFGRD0, const double *DFGRD1, const int *NOEL, \\
    const int *NPT, const int *LAYER, const int *KSPT, const int *KSTEP, const int *KINC, long CMNAME_LEN
#define UMAT_CALL STRESS, STATEV, DDSDDE, SSE, SPD, SCD, RPL, DDSDDT, DRPLDE, DRPLDT, STRAN, DSTRAN, \\
    TIME, DTIME, TEMP, DTEMP, PREDEF, DPRED, CMNAME, NDI, NSHR, NTENS, NSTATV, PROPS, NPROPS, COORDS, DROT, \\
    PNEWDT, CELENT, DFGRD0, DFGRD1, NOEL, NPT, LAYER, KSPT, KSTEP, KINC, CMNAME_LEN

void {name}(UMAT_ARGS);
{alias}
#ifdef __cplusplus
}}
#endif
#endif
"""
