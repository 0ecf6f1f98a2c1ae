"""Output: VTU time series (+ ParaView .pvd collection) or XDMF via meshio, per-step log,
reaction-force data (CSV, JSON) and a PNG plot.

Point data: ``displacement`` and ``reaction`` (nodal reaction forces, zero on free nodes).
Cell data (averaged over the element's quadrature points): ``cauchy`` (9 components, row
major), ``von_mises`` = sqrt(3/2 dev(sigma):dev(sigma)) and ``J`` = det F; for state-carrying
materials also ``internal_variables`` (n_state components) and one scalar ``state_<label>`` per
state variable (the labels are listed in the JSON log).
"""

from __future__ import annotations

import csv
import json
import os

import numpy as np
import torch

from constitutive.files import atomic_write, write_text_atomic
from constitutive.optional import require


def cell_fields(F: torch.Tensor, P: torch.Tensor) -> dict[str, np.ndarray]:
    """Cell-averaged Cauchy stress (ne, 9), von Mises stress (ne,) and J (ne,)."""
    J = torch.linalg.det(F)
    sigma = P @ F.transpose(-1, -2) / J[..., None, None]
    sigma = sigma.mean(dim=1)
    dev = sigma - torch.einsum("eii->e", sigma)[:, None, None] / 3.0 * torch.eye(3, dtype=F.dtype)
    vm = torch.sqrt(1.5 * (dev * dev).sum((-1, -2)))
    return {"cauchy": sigma.reshape(-1, 9).numpy(), "von_mises": vm.numpy(), "J": J.mean(dim=1).numpy()}


def internal_fields(internal: torch.Tensor, labels) -> dict[str, np.ndarray]:
    """Cell averages of the quadrature-point state (ne, nq, n_state): the whole array and one
    scalar field per label."""
    avg = internal.detach().mean(dim=1).numpy()
    out = {"internal_variables": avg}
    for k, label in enumerate(labels):
        out["state_" + str(label).replace(".", "_")] = np.ascontiguousarray(avg[:, k])
    return out


class Writer:
    """Writes one mesh file per load step into ``directory`` and the summaries at the end.

    Parameters
    ----------
    directory : output folder (created)
    name : file stem (``name_0003.vtu``, ``name.pvd``, ``name_reactions.csv``, ...)
    fmt : ``"vtu"`` (default, with a .pvd collection) or ``"xdmf"`` (one time-series file)
    plot : (dirichlet name, component) whose reaction vs displacement is plotted, or None
    """

    def __init__(self, directory: str, name: str = "solution", fmt: str = "vtu", plot=None,
                 stress_unit: str | None = None):
        if fmt not in ("vtu", "xdmf"):
            raise ValueError(f"fmt: expected 'vtu' or 'xdmf', got {fmt!r}")
        os.makedirs(directory, exist_ok=True)
        self.directory, self.name, self.fmt, self.plot = directory, name, fmt, plot
        self.stress_unit = stress_unit
        self.entries: list[tuple[float, str]] = []
        self._xdmf = None
        self.state_labels: list[str] | None = None
        self.duration: float | None = None  # physical time of load factor 1 (state models)

    def write(self, problem, u: np.ndarray, state, t: float) -> None:
        """Write the fields of one converged state (VTU file or XDMF time step)."""
        mesh = problem.mesh
        U = u.reshape(-1, 3)
        R = np.zeros_like(U)
        fixed = getattr(problem, "fixed", np.zeros(0, dtype=int))
        R.reshape(-1)[fixed] = state.R[fixed]
        point_data = {"displacement": U.copy(), "reaction": R}
        cells = cell_fields(state.F, state.P)
        internal = getattr(state, "internal", None)
        if internal is not None:
            self.state_labels = list(problem.material.state_labels)
            self.duration = float(problem.duration)
            cells.update(internal_fields(internal, self.state_labels))
        if self.fmt == "vtu":
            fname = f"{self.name}_{len(self.entries):04d}.vtu"
            mesh.write(os.path.join(self.directory, fname), point_data, cells)
            self.entries.append((t, fname))
        else:
            meshio = require("meshio")

            if self._xdmf is None:
                self._xdmf_path = os.path.abspath(os.path.join(self.directory, f"{self.name}.xdmf"))
                self._xdmf = meshio.xdmf.TimeSeriesWriter(self._xdmf_path)
                cwd = os.getcwd()
                os.chdir(os.path.dirname(self._xdmf_path))  # meshio opens the .h5 in the cwd
                try:
                    self._xdmf.__enter__()
                finally:
                    os.chdir(cwd)
                self._xdmf.write_points_cells(mesh.points, [(mesh.cell_type, mesh.cells)])
            self._xdmf.write_data(t, point_data=point_data, cell_data={k: [v] for k, v in cells.items()})
            self.entries.append((t, os.path.basename(self._xdmf_path)))

    def finish(self, result) -> list[str]:
        """Close the series (.pvd or .xdmf) and write the history files; returns all paths."""
        files = []
        if self.fmt == "vtu":
            lines = ['<?xml version="1.0"?>',
                     '<VTKFile type="Collection" version="0.1" byte_order="LittleEndian">',
                     "  <Collection>"]
            lines += [f'    <DataSet timestep="{t:.10g}" group="" part="0" file="{f}"/>'
                      for t, f in self.entries]
            lines += ["  </Collection>", "</VTKFile>", ""]
            pvd = os.path.join(self.directory, f"{self.name}.pvd")
            write_text_atomic(pvd, "\n".join(lines))
            files += [os.path.join(self.directory, f) for _, f in self.entries] + [pvd]
        elif self._xdmf is not None:
            self._xdmf.__exit__(None, None, None)
            files.append(self._xdmf_path)
        files += write_history(result, self.directory, self.name, self.plot, self.stress_unit,
                               state_labels=self.state_labels, duration=self.duration)
        return files


def history_rows(result, duration: float | None = None) -> list[dict]:
    """One row per load factor: t (and the physical ``time = t duration`` of a state model's
    solve), then ``<set>_u<i>`` and ``<set>_F<i>`` for each Dirichlet set."""
    rows = [{"t": 0.0, "iterations": 0}]
    if result.steps:
        for name in result.steps[0].reactions:
            for i in range(3):
                rows[0][f"{name}_u{i}"] = 0.0
                rows[0][f"{name}_F{i}"] = 0.0
    for s in result.steps:
        row = {"t": s.t, "iterations": s.iterations}
        for name, f in s.reactions.items():
            for i in range(3):
                row[f"{name}_u{i}"] = s.displacements[name][i]
                row[f"{name}_F{i}"] = f[i]
        rows.append(row)
    if duration is not None:
        rows = [{"t": r["t"], "time": r["t"] * duration, **{k: v for k, v in r.items() if k != "t"}}
                for r in rows]
    return rows


def units_note(stress_unit: str | None) -> str:
    """How to read the units of FE output: lengths are the mesh's, stresses the material's."""
    if stress_unit is None:
        return ("lengths and displacements in the mesh's unit; stresses in the material parameters' unit; "
                "forces in that stress unit times length squared")
    return (f"lengths and displacements in the mesh's unit; stresses in {stress_unit}; forces in "
            f"{stress_unit} x (mesh length unit)^2 (N for MPa with mm)")


def write_history(result, directory: str, name: str = "solution", plot=None,
                  stress_unit: str | None = None, state_labels=None,
                  duration: float | None = None) -> list[str]:
    """Reaction-force history as CSV and JSON (with the Newton log, the units and the labels of
    the internal variables), and a PNG plot if ``plot = (dirichlet name, component)``; returns
    the paths written."""
    rows = history_rows(result, duration)
    csv_path = os.path.join(directory, f"{name}_reactions.csv")

    def write_csv(tmp: str) -> None:
        with open(tmp, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)

    atomic_write(csv_path, write_csv)
    log = [{"t": s.t, "iterations": s.iterations, "residuals": s.residuals, "energies": s.energies,
            "cutbacks": s.cutbacks} for s in result.steps]
    json_path = os.path.join(directory, f"{name}.json")
    write_text_atomic(json_path, json.dumps({"history": rows, "newton_log": log,
                                              "timings": result.timings,
                                              "linear_solver": result.linear_solver,
                                              "units": units_note(stress_unit),
                                              "stress_unit": stress_unit,
                                              "state_labels": state_labels,
                                              "completed": not getattr(result, "failure", ""),
                                              "failure": getattr(result, "failure", "")}, indent=1))
    files = [csv_path, json_path]
    if plot is not None and result.steps:
        files.append(plot_reaction(result, directory, name, *plot, stress_unit=stress_unit))
    return files


def plot_reaction(result, directory: str, name: str, bc: str, component: int = 0,
                  stress_unit: str | None = None) -> str:
    """PNG of the reaction force of Dirichlet set ``bc`` vs its displacement (vs the load factor
    when the set does not move); the caller's pyplot state and backend are not touched."""
    Figure = require("matplotlib.figure").Figure

    fig = Figure(figsize=(5, 3.6))
    ax = fig.subplots()
    x = result.displacement(bc, component)
    axis = "xyz"[component]
    if np.ptp(x) > 0.0:
        ax.set_xlabel(f"displacement u_{axis} of '{bc}' [mesh length unit]")
    else:  # a fixed support under applied loads: plot against the load factor
        x = result.load_factors
        ax.set_xlabel("load factor")
    ax.plot(x, result.reaction(bc, component), "o-")
    ax.set_title(f"reaction force on '{bc}'", fontsize=10)
    force_unit = f"{stress_unit} x length²" if stress_unit else "stress unit x length²"
    ax.set_ylabel(f"reaction force F_{axis} [{force_unit}]")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    path = os.path.join(directory, f"{name}_reaction.png")
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=120, format="png"))
    return path
