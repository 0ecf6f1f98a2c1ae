"""Input decks for meshes of C3D8 bricks: boundary conditions, loads, material cards.

Standalone (standard library + numpy), like `ccx`.  Nodes and elements are
given as arrays in the VTK / meshio hexahedron order, which is also the
C3D8 order (bottom face 1-2-3-4 counter-clockwise seen from above, then the
top face 5-8); node ``a`` (0-based) becomes CalculiX node ``a + 1``.

Functions
---------
num
    A number as at most 20 characters (CalculiX reads data fields as ``f20.0``
    of the first 20 characters, silently dropping the rest).
user_material
    ``*MATERIAL, NAME=@ABAQUSNL_<LIB>_<FUNC>`` + ``*USER MATERIAL`` cards.
hyperelastic_material
    ``*MATERIAL`` + ``*HYPERELASTIC, <model>`` cards.
solid_deck
    A static NLGEOM step on a C3D8 mesh with fixed, prescribed (any path, one
    ``*AMPLITUDE`` per nodal component) and concentrated dead loads, fixed or
    automatic increments and double-precision ``.frd`` output of U and RF.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["num", "user_material", "hyperelastic_material", "solid_deck", "calculix_card", "card_warnings",
           "TIGHT_CONTROLS"]

#: see ccx.TIGHT_CONTROLS (repeated here so that this module stands alone)
TIGHT_CONTROLS = (
    "*CONTROLS, PARAMETERS=FIELD\n"
    "1e-9, 1e-9, 0., 0., 1e-9, 1e-5, 1e-3, 1e-8\n"
    "*CONTROLS, PARAMETERS=TIME INCREMENTATION\n"
    "12, 20, 12, 40, 20, 8\n"
)


def num(x: float) -> str:
    """Text of `x` with the most significant digits that fit 20 characters.

    CalculiX reads numbers on data lines with ``read(textpart(i)(1:20),'(f20.0)')``
    (e.g. ``usermaterials.f``, ``hyperelastics.f``): characters after the 20th are
    dropped without a message, so ``6.666666666666667e-08`` (21 characters) is read
    as ``6.666666666666667e-0``, i.e. 6.67.
    """
    x = float(x)
    for p in (17, 16, 15, 14, 13, 12):
        s = f"{x:.{p}g}"
        if len(s) <= 20:
            return s
    return f"{x:.10e}"


def _lines(values: Sequence[float], per_line: int = 8) -> list[str]:
    v = [num(x) for x in values]
    return [", ".join(v[i:i + per_line]) for i in range(0, len(v), per_line)]


def user_material(library: str, props: Sequence[float], function: str | None = None,
                  interface: str = "ABAQUSNL", suffix: str = "", depvar: int = 0) -> tuple[str, str]:
    """Cards of an external UMAT material.

    Parameters
    ----------
    library : str
        ``LIB`` of ``lib<LIB>.so`` (upper case, no underscore).
    props : sequence of float
        The ``*USER MATERIAL`` constants (PROPS), 8 per line; CalculiX reads
        ``n // 8 + 1`` lines, the value after the last constant being the
        temperature (``usermaterials.f:85-130``), so when ``n`` is a multiple of 8
        a line with the temperature 0 is added (otherwise: ``*ERROR reading
        *USER MATERIAL: anisotropic definition is not complete``).
    function : str, optional
        Symbol (default: `library`).
    interface : str
        ``ABAQUSNL`` (finite strain) or ``ABAQUS``.
    suffix : str
        Optional ``@tag`` making distinct material names for one function.
    depvar : int
        ``*DEPVAR`` count (0: none).

    Returns
    -------
    (cards, name) : tuple of str
    """
    lib, fn = library.upper(), (function or library).upper()
    if "_" in lib:
        raise ValueError(f"library: {library!r} must not contain '_' (CalculiX splits the name at '_')")
    name = f"@{interface}_{lib}_{fn}" + (f"@{suffix.upper()}" if suffix else "")
    props = [float(p) for p in props]
    out = [f"*MATERIAL, NAME={name}", f"*USER MATERIAL, CONSTANTS={len(props)}"] + _lines(props)
    if len(props) % 8 == 0:
        out.append("0.")
    if depvar:
        out.append(f"*DEPVAR\n{int(depvar)}")
    return "\n".join(out) + "\n", name


def hyperelastic_material(name: str, keyword: str, values: Sequence[float]) -> str:
    """``*MATERIAL, NAME=name`` / ``*HYPERELASTIC, keyword`` with 20-character fields."""
    return "\n".join([f"*MATERIAL, NAME={name}", f"*HYPERELASTIC, {keyword}"] + _lines(values)) + "\n"


def _ids(nodes) -> list[int]:
    return [int(a) + 1 for a in np.asarray(nodes, dtype=int).reshape(-1)]


def _id_lines(ids: Iterable[int], per_line: int = 16) -> str:
    ids = list(ids)
    return "\n".join(", ".join(str(i) for i in ids[k:k + per_line]) for k in range(0, len(ids), per_line))


def solid_deck(points, cells, material: str, material_name: str, *,
               fixed: Iterable = (), prescribed: Iterable = (), cloads: Iterable = (),
               times: Sequence[float] | None = None, increments: int = 10,
               automatic: tuple[float, float, float] | None = None, inc_limit: int | None = None,
               controls: str | None = TIGHT_CONTROLS, node_sets: dict | None = None,
               node_print: Iterable[str] = (), heading: str = "C3D8 mesh",
               frd: bool = True, extra_step_cards: str = "") -> str:
    """A static ``NLGEOM`` step on a mesh of C3D8 bricks.

    Parameters
    ----------
    points : array_like, shape (n, 3)
    cells : array_like of int, shape (ne, 8)
        0-based node indices in the C3D8 (= VTK hexahedron) order.
    material, material_name : str
        Material cards and the name for ``*SOLID SECTION``.
    fixed : iterable of (nodes, components)
        Zero displacement of `components` (0, 1, 2) on `nodes` (0-based).
    prescribed : iterable of (nodes, u) or (nodes, u, components)
        ``u`` (nt, len(nodes), 3): displacements at `times` of the
        `components` (default all three; the others stay free); each nodal
        component gets its own ``*AMPLITUDE`` (piecewise linear in time; a
        component that is zero throughout is fixed).
    cloads : iterable of (nodes, forces)
        Dead nodal forces (len(nodes), 3) at the end of the step, ramped
        linearly over the step (``*CLOAD``, fixed direction).
    times : sequence of float, optional
        Time points of `prescribed` (step time 0..1); default
        ``linspace(0, 1, increments + 1)``.
    increments : int
        Number of equal fixed increments (``*STATIC, DIRECT``).
    automatic : (initial, minimum, maximum), optional
        Automatic incrementation instead (``*STATIC`` with these sizes).
    inc_limit : int, optional
        ``INC=`` of ``*STEP`` (default max(100, 10 * increments)).
    controls : str or None
        ``*CONTROLS`` cards (default: tight).
    node_sets : dict name -> nodes, optional
        Extra ``*NSET`` definitions (0-based nodes).
    node_print : iterable of str
        Node sets whose ``RF`` totals go to the ``.dat`` (7 digits).
    frd : bool
        Write ``*NODE FILE, DOUBLE`` with ``U, RF`` every increment (full
        double precision, see `ccx_frd.read_frd`).
    extra_step_cards : str
        Cards added at the end of the step.

    Returns
    -------
    str
    """
    X = np.asarray(points, dtype=float)
    E = np.asarray(cells, dtype=int)
    if X.ndim != 2 or X.shape[1] != 3 or E.ndim != 2 or E.shape[1] != 8:
        raise ValueError("points must be (n, 3) and cells (ne, 8)")
    t = np.linspace(0.0, 1.0, increments + 1) if times is None else np.asarray(times, dtype=float)
    out = [f"*HEADING\n{heading}", "*NODE, NSET=NALL"]
    out += [f"{a + 1}, {num(x)}, {num(y)}, {num(z)}" for a, (x, y, z) in enumerate(X)]
    out.append("*ELEMENT, TYPE=C3D8, ELSET=EALL")
    out += [f"{e + 1}, " + ", ".join(str(int(a) + 1) for a in c) for e, c in enumerate(E)]
    for name, nodes in (node_sets or {}).items():
        out.append(f"*NSET, NSET={name}\n{_id_lines(_ids(nodes))}")
    bcs, amps = [], []
    for nodes, comps in fixed:
        ids = _ids(nodes)
        for i in np.atleast_1d(comps):
            bcs.append("*BOUNDARY\n" + "\n".join(f"{n}, {i + 1}, {i + 1}, 0." for n in ids))
    for item in prescribed:
        nodes, u = item[0], item[1]
        comps = [int(c) for c in np.atleast_1d(item[2])] if len(item) > 2 else [0, 1, 2]
        ids = _ids(nodes)
        u = np.asarray(u, dtype=float).reshape(len(t), len(ids), 3)
        for k, n in enumerate(ids):
            for i in comps:
                if np.all(u[:, k, i] == 0.0):
                    bcs.append(f"*BOUNDARY\n{n}, {i + 1}, {i + 1}, 0.")
                    continue
                name = f"A{n}_{i + 1}"
                amps.append(f"*AMPLITUDE, NAME={name}\n"
                            + "\n".join(f"{num(tk)}, {num(v)}" for tk, v in zip(t, u[:, k, i], strict=True)))
                bcs.append(f"*BOUNDARY, AMPLITUDE={name}\n{n}, {i + 1}, {i + 1}, 1.")
    loads = []
    for nodes, f in cloads:
        f = np.asarray(f, dtype=float).reshape(-1, 3)
        rows = [f"{n}, {i + 1}, {num(f[k, i])}" for k, n in enumerate(_ids(nodes)) for i in range(3)
                if f[k, i] != 0.0]
        if rows:
            loads.append("*CLOAD\n" + "\n".join(rows))
    out += amps
    out.append(material.strip())
    out.append(f"*SOLID SECTION, ELSET=EALL, MATERIAL={material_name}")
    limit = inc_limit or max(100, 10 * increments)
    out.append(f"*STEP, NLGEOM, INC={limit}")
    if automatic is None:
        out.append(f"*STATIC, DIRECT\n{num(1.0 / increments)}, 1.")
    else:
        d0, dmin, dmax = automatic
        out.append(f"*STATIC\n{num(d0)}, 1., {num(dmin)}, {num(dmax)}")
    if controls:
        out.append(controls.strip())
    out += bcs + loads
    for s in node_print:
        out.append(f"*NODE PRINT, NSET={s}, TOTALS=ONLY\nRF")
    if frd:
        out.append("*NODE FILE, DOUBLE\nU, RF")
    if extra_step_cards:
        out.append(extra_step_cards.strip())
    out.append("*END STEP")
    return "\n".join(out) + "\n"


#: positions of D1, D2, ... among the data values of Abaqus *HYPERELASTIC forms (0-based)
def _d_positions(keyword: str) -> list[int]:
    kw = keyword.upper().replace(" ", "")
    n = int(kw.split("N=")[1].split(",")[0]) if "N=" in kw else 1
    if kw.startswith("NEOHOOKE"):
        return [1]
    if kw.startswith("MOONEY-RIVLIN") or kw.startswith("ARRUDA-BOYCE"):
        return [2]
    if kw.startswith("YEOH"):
        return [3, 4, 5]
    if kw.startswith("REDUCEDPOLYNOMIAL"):
        return [n + k for k in range(n)]
    if kw.startswith("OGDEN"):
        return [2 * n + k for k in range(n)]
    if kw.startswith("POLYNOMIAL"):
        m = {1: 2, 2: 5, 3: 9}[n]
        return [m + k for k in range(n)]
    return []


#: CalculiX replaces |D_k| < this by (0.1 / mu0)^k (hyperelastics.f:264-275)
D_FLOOR = 1e-10
#: stands for "no term" D_k = 0 (k >= 2): (J - 1)^(2k) / 1e300 vanishes against any stress
NO_TERM = 1e300


def calculix_card(card: str) -> tuple[str, list[str]]:
    """Adapt the ``*HYPERELASTIC`` cards of an Abaqus deck to CalculiX 2.20.

    * a number longer than 20 characters is rewritten by `num` (CalculiX reads
      the first 20 characters of a field and drops the rest without a message);
    * ``D_k = 0`` for ``k >= 2`` means "no such term" in Abaqus, but CalculiX
      replaces every ``|D_k| < 1e-10`` by ``(0.1/mu0)^k`` with a warning
      (``hyperelastics.f:264-275``), which adds a stiff ``(J-1)^(2k)`` term; it is
      written as `NO_TERM` instead.

    ``D1 = 0`` (incompressible) is left as it is: CalculiX has no incompressible
    hyperelastic solid and uses ``D1 = 0.1/mu0`` (Poisson's ratio about 0.475).

    Returns
    -------
    (text, changes) : the adapted card and one line per change made (empty
    when the card runs unchanged in CalculiX).
    """
    out, changes = [], []
    lines = card.splitlines()
    i = 0
    while i < len(lines):
        ln = lines[i]
        out.append(ln)
        i += 1
        head = ln.strip().upper()
        if not head.startswith("*HYPERELASTIC"):
            continue
        keyword = head.split(",", 1)[1].strip() if "," in head else "POLYNOMIAL, N=1"
        dpos = _d_positions(keyword)
        k0 = 0
        while i < len(lines) and not (lines[i].startswith("*") and not lines[i].startswith("**")):
            data = lines[i]
            i += 1
            if data.startswith("**") or not data.strip():
                out.append(data)
                continue
            fields = [f.strip() for f in data.split(",")]
            new = []
            for j, f in enumerate(fields):
                pos = k0 + j
                if f and pos in dpos[1:] and float(f) == 0.0:
                    new.append(num(NO_TERM))
                    changes.append(f"{keyword}: D{dpos.index(pos) + 1} = 0 (no term) written as "
                                   f"{num(NO_TERM)}: CalculiX would replace it by (0.1/mu0)^"
                                   f"{dpos.index(pos) + 1}")
                elif len(f) > 20:
                    new.append(num(float(f)))
                    changes.append(f"{keyword}: field {f!r} ({len(f)} characters) rewritten as "
                                   f"{num(float(f))!r}: CalculiX reads only 20 characters")
                else:
                    new.append(f)
            k0 += len(fields)
            out.append(", ".join(new))
    return "\n".join(out) + ("\n" if card.endswith("\n") else ""), changes


def card_warnings(card: str) -> list[str]:
    """What CalculiX 2.20 will change in a ``*HYPERELASTIC`` card that `calculix_card`
    cannot repair: ``0 < |D_k| < 1e-10`` (replaced, choose other units) and ``D1 = 0``."""
    notes = []
    lines = card.splitlines()
    for i, ln in enumerate(lines):
        head = ln.strip().upper()
        if not head.startswith("*HYPERELASTIC"):
            continue
        keyword = head.split(",", 1)[1].strip() if "," in head else "POLYNOMIAL, N=1"
        vals = []
        for data in lines[i + 1:]:
            if data.startswith("*") and not data.startswith("**"):
                break
            if data.startswith("**") or not data.strip():
                continue
            vals += [float(f) for f in data.split(",") if f.strip()]
        for k, pos in enumerate(_d_positions(keyword), start=1):
            if pos < len(vals) and abs(vals[pos]) < D_FLOOR and (k == 1 or vals[pos] != 0.0):
                notes.append(f"{keyword}: D{k} = {vals[pos]:g} is below 1e-10 and is replaced by "
                             f"(0.1/mu0)^{k} in CalculiX (hyperelastics.f:264-275)")
    return notes
