"""The C source of a compiled library for a state-carrying material: update programs, batched API and
a UMAT that carries the state through ``STATEV``.

The two traced programs (:meth:`constitutive.inelastic.Inelastic.compiled_program`) map one
point's ``x = [e (6) | F (9), state_n (NSTATE), dt]`` to ``(s, D, state_{n+1})`` and
``(P, dP/dF, state_{n+1})``, with the algorithmic tangent of the update. The kinematics and the
two UMAT conventions are those of the hyperelastic libraries (:mod:`.csource`); the UMAT reads
the state at the start of the increment from ``STATEV[0 .. NSTATE-1]`` (``*DEPVAR`` >= NSTATE),
the increment from ``DTIME``, and writes the new state back. ``SSE``, ``SPD`` and ``SCD`` are
left as passed.
"""

from __future__ import annotations

from .codegen import point_function
from .csource import _KINEMATICS, CUTBACK, DOMAIN_STATUS, STATUS, ParamEntry, _bound_checks

#: status codes of the batched update API (the hyperelastic ones and 5)
STATE_STATUS = {**STATUS, 5: "invalid state or time increment (non-finite state, dt non-finite or < 0)"}


def _batched(name: str, kind: str, ok_arg: str, ok_decl: str) -> str:
    if kind == "mandel":
        head = (
            f"int {name}_update_mandel(int64_t n, const double *params, const double *e, "
            "const double *state,\n    const double *dt, double *s, double *D, double *state_new, "
            "int64_t *bad)"
        )
        nx, check, call = (
            6,
            "if (!strain_admissible(x)) return 2;",
            f"prog_mandel(x, params, s + 6 * i, D + 36 * i, state_new + NSTATE * i{ok_arg});",
        )
        outs = "!all_finite(s + 6 * i, 6) || !all_finite(D + 36 * i, 36)"
        src = "e"
    else:
        head = (
            f"int {name}_update(int64_t n, const double *params, const double *F, const double *state,\n"
            "    const double *dt, double *P, double *A, double *state_new, int64_t *bad)"
        )
        nx, check, call = (
            9,
            "if (!(det3(x) > 0.0)) return 2;",
            f"prog_pk1(x, params, P + 9 * i, A + 81 * i, state_new + NSTATE * i{ok_arg});",
        )
        outs = "!all_finite(P + 9 * i, 9) || !all_finite(A + 81 * i, 81)"
        src = "F"
    return f"""{head}
{{
    int st = check_params(params, bad);
    if (st) return st;
    for (int64_t i = 0; i < n; ++i) {{
        double x[{nx} + NSTATE + 1];
{ok_decl}
        *bad = i;
        memcpy(x, {src} + {nx} * i, sizeof(double) * {nx});
        memcpy(x + {nx}, state + NSTATE * i, sizeof(double) * NSTATE);
        x[{nx} + NSTATE] = dt[i];
        if (!all_finite(x, {nx})) return 1;
        if (!all_finite(x + {nx}, NSTATE + 1) || !(dt[i] >= 0.0)) return 5;
        {check}
        {call}
        const int c = first_false(ok, NCOND);
        if (c >= 0) return {DOMAIN_STATUS} + c;
        if ({outs} || !all_finite(state_new + NSTATE * i, NSTATE)) return 3;
    }}
    *bad = -1;
    return 0;
}}
"""


def _umat(name: str, conv: str, ok_arg: str, ok_decl: str, layout: str, n_state: int) -> str:
    if conv == "convention_calculix":
        fsel = (
            "    const double *Fcol = KSTEP[2] == 0 ? DFGRD0 : DFGRD1;  "
            "/* CalculiX: start-of-increment tangent in its linear first iteration */"
        )
    else:
        fsel = "    const double *Fcol = DFGRD1;"
    cut = f"*PNEWDT = {CUTBACK!r};"
    return f"""void {name}(UMAT_ARGS)
{{
    (void)SSE; (void)SPD; (void)SCD; (void)RPL; (void)DDSDDT; (void)DRPLDE; (void)DRPLDT; (void)STRAN;
    (void)DSTRAN; (void)TIME; (void)TEMP; (void)DTEMP; (void)PREDEF; (void)DPRED; (void)CMNAME; (void)COORDS;
    (void)DROT; (void)CELENT; (void)DFGRD0; (void)NOEL; (void)NPT; (void)LAYER; (void)KSPT; (void)KSTEP;
    (void)KINC; (void)CMNAME_LEN;
    const int ntens = *NTENS;
    double p[NPAR], F[9], x[6 + NSTATE + 1], s[6], D[36], snew[NSTATE], S[3][3], CC[3][3][3][3];
    double stress[6], tangent[36];
    int64_t bad;
{ok_decl}
    if (*NPROPS != NPAR_PROPS) {{
        fprintf(stderr, "{name}: NPROPS = %d does not match the compiled layout {layout}\\n", *NPROPS);
        {cut}
        return;
    }}
    for (int i = 0; i < NPAR; ++i) p[i] = PROPS[i];
    if (check_params(p, &bad)) {{
        fprintf(stderr, "{name}: PROPS value %lld is non-finite or outside its bounds\\n", (long long)bad);
        {cut}
        return;
    }}
    if (*NSTATV < NSTATE) {{
        fprintf(stderr, "{name}: NSTATV = %d, the model needs %d state variables (*DEPVAR {n_state})\\n",
                *NSTATV, NSTATE);
        {cut}
        return;
    }}
    if (!(*NDI == 3 && ((*NSHR == 3 && ntens == 6) || (*NSHR == 1 && ntens == 4)))) {{
        fprintf(stderr, "{name}: NDI=%d NSHR=%d NTENS=%d unsupported (3-D or plane strain/axisymmetric)\\n",
                *NDI, *NSHR, ntens);
        {cut}
        return;
    }}
{fsel}
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) F[3 * i + j] = Fcol[i + 3 * j];  /* column-major DFGRD */
    if (!all_finite(F, 9) || !(det3(F) > 0.0)) {{ {cut} return; }}
    strain_mandel(F, x);
    for (int k = 0; k < NSTATE; ++k) x[6 + k] = STATEV[k];
    x[6 + NSTATE] = *DTIME;
    if (!all_finite(x + 6, NSTATE + 1) || !(*DTIME >= 0.0)) {{ {cut} return; }}
    prog_mandel(x, p, s, D, snew{ok_arg});
    if (first_false(ok, NCOND) >= 0) {{ {cut} return; }}
    from_mandel(s, D, S, CC);
    {conv}(F, S, CC, stress, tangent);
    if (!all_finite(stress, 6) || !all_finite(tangent, 36) || !all_finite(snew, NSTATE)) {{ {cut} return; }}
    for (int a = 0; a < ntens; ++a) {{
        STRESS[a] = stress[a];
        for (int b = 0; b < ntens; ++b) DDSDDE[a + ntens * b] = tangent[6 * a + b];
    }}
    for (int k = 0; k < NSTATE; ++k) STATEV[k] = snew[k];
}}
"""


def state_library_source(
    *,
    name: str,
    model: str,
    version: str,
    prog_mandel,
    prog_pk1,
    params: list[ParamEntry],
    n_par: int,
    n_state: int,
    conditions: list[str],
    convention: str,
    umat_alias: bool,
    layout: str,
) -> str:
    """The complete ``NAME.c`` of a state-carrying material (PROPS = the parameters, no leading N)."""
    k = len(conditions)
    ok_arg, ok_decl = (", ok", f"    double ok[{k}];") if k else ("", "    double *ok = NULL;")
    alias = [] if not umat_alias else ["void umat_(UMAT_ARGS) { " + name + "(UMAT_CALL); }"]
    return "\n".join(
        [
            f"/* {name}.c: compiled state-carrying material generated by constitutive {version}",
            f" * from model {model!r}. Stress, algorithmic tangent and state update come from the traced",
            " * autograd update; do not edit.",
            f" * UMAT convention: {convention}; state in STATEV[0..{n_state - 1}]. Reentrant. */",
            "#include <math.h>",
            "#include <stdint.h>",
            "#include <stdio.h>",
            "#include <string.h>",
            f'#include "{name}.h"',
            "",
            f"#define NPAR {max(n_par, 1)}",
            f"#define NPAR_PROPS {n_par}",
            f"#define NCOND {k}",
            f"#define NSTATE {n_state}",
            _KINEMATICS,
            point_function(prog_mandel, "prog_mandel"),
            point_function(prog_pk1, "prog_pk1"),
            "static int check_params(const double *p, int64_t *bad)",
            "{",
            "    (void)p; (void)bad;",
            *_bound_checks(params),
            "    return 0;",
            "}",
            "",
            _batched(name, "mandel", ok_arg, ok_decl),
            _batched(name, "pk1", ok_arg, ok_decl),
            f"/* PROPS = {layout} */",
            _umat(name, f"convention_{convention}", ok_arg, ok_decl, layout, n_state),
            *alias,
            "",
        ]
    )


def state_header_source(
    *,
    name: str,
    model: str,
    convention: str,
    layout: str,
    n_par: int,
    n_state: int,
    labels: list[str],
    conditions: list[str],
    umat_alias: bool,
) -> str:
    """``NAME.h`` of a state-carrying library."""
    status = "\n".join(f" *   {k}  {v}" for k, v in STATE_STATUS.items())
    conds = "\n".join(f" *   {DOMAIN_STATUS + c}  {m}" for c, m in enumerate(conditions)) or " *   (none)"
    state = ", ".join(labels)
    alias = "void umat_(UMAT_ARGS);\n" if umat_alias else ""
    from .csource import header_source

    umat_args = header_source(
        name=name,
        model=model,
        convention=convention,
        layout=layout,
        n_par=n_par,
        conditions=conditions,
        umat_alias=False,
    )
    start = umat_args.index("#define UMAT_ARGS")
    stop = umat_args.index(f"void {name}(UMAT_ARGS);")
    return f"""/* {name}.h: compiled state-carrying material {model!r} (generated by constitutive).
 *
 * State per point (NSTATE = {n_state}, zero in the virgin material; STATEV / *DEPVAR {n_state}):
 *   {state}
 * Batched API (thread-safe; arrays C order, points along the first axis; dt per point):
 *   {name}_update_mandel(n, params, e, state, dt, s, D, state_new, &bad)
 *       e (n,6) Mandel strain at the end of the increment, state (n,NSTATE) at its start, dt (n)
 *       -> s (n,6) Mandel 2nd Piola-Kirchhoff stress, D (n,6,6) algorithmic tangent ds/de,
 *       state_new (n,NSTATE).
 *   {name}_update(n, params, F, state, dt, P, A, state_new, &bad)
 *       F (n,3,3) -> P (n,3,3), A (n,3,3,3,3) = dP/dF (algorithmic), state_new.
 *   params: the {n_par} parameter values in declaration order ({layout}).
 *   Return: 0 on success, else the status below with bad = the first bad point.
{status}
 *   Domain conditions:
{conds}
 *
 * UMAT {name}: {layout}; convention {convention!r}; reads STATEV and DTIME, writes STRESS, DDSDDE and the new
 *   STATEV; a bad state sets PNEWDT = {CUTBACK} and leaves STRESS, DDSDDE and STATEV unchanged.
 */
#ifndef {name.upper()}_H
#define {name.upper()}_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {{
#endif

int {name}_update_mandel(int64_t n, const double *params, const double *e, const double *state,
                         const double *dt, double *s, double *D, double *state_new, int64_t *bad);
int {name}_update(int64_t n, const double *params, const double *F, const double *state, const double *dt,
                  double *P, double *A, double *state_new, int64_t *bad);

{umat_args[start:stop]}void {name}(UMAT_ARGS);
{alias}
#ifdef __cplusplus
}}
#endif
#endif
"""
