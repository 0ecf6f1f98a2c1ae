"""State-carrying materials: one update ``(e_{n+1}, alpha_n, dt) -> (s_{n+1}, D_{n+1}, alpha_{n+1})``.

A subclass of :class:`Inelastic` writes two differentiable torch functions of the Mandel
Green-Lagrange strain ``e`` (..., 6) and a flat float64 state ``alpha`` (..., n_state) per point
(one-to-one with Abaqus/CalculiX ``STATEV``):

* ``evolve(e, alpha_n, dt) -> alpha_{n+1}``: the internal-variable update over an increment of
  length ``dt`` ending at strain ``e``;
* ``stress(e, alpha_{n+1}) -> s_{n+1}``: the Mandel 2nd Piola-Kirchhoff stress.

The engine differentiates the composition ``s_{n+1}(e) = stress(e, evolve(e, alpha_n, dt))``:
the algorithmic (consistent) tangent ``D = ds_{n+1}/de_{n+1}`` includes the dependence of the
new state on the new strain, by the same pattern as :class:`~constitutive.Hyperelastic`: the
stresses of a batch of independent points come from one evaluation, and one reverse pass of
``sum_points s_i`` per Mandel component gives column ``i`` of every tangent (six passes, never a
dense cross-batch Jacobian). ``consistent=False`` differentiates ``stress(e, alpha_{n+1})``
with the new state held fixed, the tangent that ignores ``d alpha_{n+1}/de`` (for comparison).
``P = F S`` and ``dP/dF`` follow from :mod:`constitutive.kinematics`.

The update contains no Python control flow on tensor values (``torch.where``,
:func:`constitutive.domain.require`), so the fast path's tracer turns it into a scalar program:
CPU float64 calls without autograd run it compiled (:mod:`constitutive.fast`), and the compiled
material libraries export it with ``STATEV`` (:mod:`constitutive.interfaces.compiled`).

:class:`Wrapper` is a state model around a :class:`~constitutive.Hyperelastic` base (its
parameters become the wrapper's, so fitting and compiling see one flat parameter list).
References: Simo (1987), CMAME 60:153; Simo & Hughes (1998), Computational Inelasticity, ch. 10.
"""

from __future__ import annotations

import copy
import threading
import warnings

import torch

from . import kinematics as kin
from . import mandel
from .domain import DomainError, domain_message, require
from .hyperelastic import DBL_MAX, NONFINITE_RESULT, Hyperelastic
from .material_base import MaterialBase
from .validation import (
    as_tensor,
    index_text,
)

__all__ = ["Inelastic", "Wrapper", "energy_gradient", "tangent_fd_error"]

_KERNELS: dict[tuple, object] = {}
_FAILED: dict[tuple, str] = {}
_LOCK = threading.Lock()


def energy_gradient(W: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
    """``dW/de`` per point, differentiable (``create_graph``): for stresses inside an update.

    ``W`` (...) must be computed from ``e`` (..., 6), which requires grad (the engine passes such
    an ``e`` to ``evolve`` and ``stress``); a ``W`` independent of ``e`` gives zeros.
    """
    if not W.requires_grad:
        return torch.zeros_like(e)
    (g,) = torch.autograd.grad(W.sum(), e, create_graph=True, allow_unused=True)
    return torch.zeros_like(e) if g is None else g


class Inelastic(MaterialBase):
    """Base class of state-carrying materials (see the module docstring).

    Subclasses declare parameters like :class:`~constitutive.Hyperelastic` (``param(...)``),
    and implement :meth:`evolve`, :meth:`stress`, :attr:`state_labels` and, where the state does
    not start at zero, :meth:`initial_state_values`.
    """


    # ------------------------------------------------------------------ to be overridden
    @property
    def state_labels(self) -> tuple[str, ...]:
        """Names of the state entries (their number is :attr:`n_state`)."""
        raise NotImplementedError(f"{type(self).__name__} must define state_labels")

    def evolve(self, e: torch.Tensor, state: torch.Tensor, dt: torch.Tensor) -> torch.Tensor:
        """New state (..., n_state) at the end of an increment of length ``dt`` (...)."""
        raise NotImplementedError(f"{type(self).__name__} must implement evolve(e, state, dt)")

    def stress(self, e: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """Mandel 2nd Piola-Kirchhoff stress (..., 6) at strain ``e`` with the new ``state``."""
        raise NotImplementedError(f"{type(self).__name__} must implement stress(e, state)")

    def initial_state_values(self) -> torch.Tensor:
        """State of the virgin material, (n_state,); zeros unless overridden."""
        return torch.zeros(self.n_state, dtype=self.dtype, device=self.device)

    # ------------------------------------------------------------------ parameters
    @property
    def n_state(self) -> int:
        """Number of state variables per point (``NSTATV`` / ``*DEPVAR`` of the UMAT)."""
        return len(self.state_labels)

    # ------------------------------------------------------------------ inputs
    def as_state(self, state, batch: tuple[int, ...], name: str = "state") -> torch.Tensor:
        """Validated state (*batch, n_state): finite, of the material's dtype."""
        t = as_tensor(state, name, (self.n_state,), self.dtype, self.device)
        if tuple(t.shape[:-1]) != tuple(batch):
            raise ValueError(
                f"{name}: expected shape {(*batch, self.n_state)} (one state of "
                f"{self.n_state} values {list(self.state_labels)} per point), got {tuple(t.shape)}"
            )
        return t

    def as_time_increment(self, dt, batch: tuple[int, ...], name: str = "dt") -> torch.Tensor:
        """Validated time increment broadcast to ``batch``: finite and ``>= 0``."""
        t = as_tensor(dt, name, (), self.dtype, self.device)
        try:
            t = torch.broadcast_to(t, batch)
        except RuntimeError:
            raise ValueError(
                f"{name}: shape {tuple(t.shape)} does not broadcast to the batch {batch}"
            ) from None
        if bool((t < 0).any()):
            first = tuple(int(i) for i in torch.nonzero(t < 0)[0]) if t.ndim else ()
            raise ValueError(
                f"{name}: time increments must be >= 0 (first negative at index {index_text(first)})"
            )
        return t

    def initial_state(self, batch=()) -> torch.Tensor:
        """The virgin state at every point of ``batch``: (*batch, n_state)."""
        batch = (batch,) if isinstance(batch, int) else tuple(batch)
        return self.initial_state_values().expand(*batch, self.n_state).clone()

    # ------------------------------------------------------------------ the update
    def update_unchecked(
        self,
        e: torch.Tensor,
        state: torch.Tensor,
        dt: torch.Tensor,
        create_graph: bool = False,
        consistent: bool = True,
    ):
        """``(s, D, new_state)`` on validated inputs: the derivative computation itself.

        ``s = stress(e, evolve(e, state, dt))``; one reverse pass of ``sum(s_i)`` per Mandel
        component gives column ``i`` of every ``D``. With ``create_graph`` all three stay
        differentiable (w.r.t. parameters that require grad, ``e`` and ``state``).
        """
        with torch.enable_grad():
            x = e if (create_graph and e.requires_grad) else e.detach().requires_grad_(True)
            new = self.evolve(x, state, dt)
            s = self.stress(x, new if consistent else new.detach())
            cols = []
            for i in range(6):
                if s.requires_grad:
                    (c,) = torch.autograd.grad(
                        s[..., i].sum(), x, create_graph=create_graph, retain_graph=True, allow_unused=True
                    )
                else:
                    c = None
                cols.append(torch.zeros_like(x) if c is None else c)
            D = torch.stack(cols, dim=-1)
        total = s.detach().sum(-1) + D.detach().sum((-1, -2)) + new.detach().sum(-1)
        require(total.abs() <= DBL_MAX, NONFINITE_RESULT)
        if not create_graph:
            return s.detach(), D.detach(), new.detach()
        return s, D, new

    def stress_state_mandel(self, e, state, dt, create_graph: bool = False):
        """``(s, new_state)`` without the tangent (one evaluation, no tangent passes)."""
        e = self.as_strain_mandel(e)
        batch = tuple(e.shape[:-1])
        state, dt = self.as_state(state, batch), self.as_time_increment(dt, batch)
        with torch.enable_grad():
            x = e if (create_graph and e.requires_grad) else e.detach().requires_grad_(True)
            new = self.evolve(x, state, dt)
            s = self.stress(x, new)
        require((s.detach().sum(-1) + new.detach().sum(-1)).abs() <= DBL_MAX, NONFINITE_RESULT)
        return (s, new) if create_graph else (s.detach(), new.detach())

    def stress_tangent_state_mandel(
        self, e, state, dt, create_graph: bool = False, *, consistent: bool = True, fast: bool | None = None
    ):
        """Mandel ``s`` (..., 6), algorithmic tangent ``D`` (..., 6, 6) and the new state.

        Parameters
        ----------
        e : (..., 6) Mandel Green-Lagrange strain at the end of the increment
        state : (..., n_state) state at the start of the increment
        dt : time increment (scalar or (...)), ``>= 0``
        create_graph : keep everything differentiable (fitting)
        consistent : include ``d state_{n+1} / d e`` in ``D`` (default); ``False`` gives the
            tangent with the new state frozen
        fast : ``None`` uses the compiled update where possible (CPU float64, no autograd),
            ``False`` forces the eager path
        """
        e = self.as_strain_mandel(e)
        batch = tuple(e.shape[:-1])
        state, dt = self.as_state(state, batch), self.as_time_increment(dt, batch)
        if self._use_fast(fast, create_graph, e, state):
            res = self._run_fast("mandel", e, state, dt, consistent)
            if res is not None:
                return res
        return self.update_unchecked(e, state, dt, create_graph, consistent)

    def pk1_tangent_state(
        self, F, state, dt, create_graph: bool = False, *, consistent: bool = True, fast: bool | None = None
    ):
        """``P`` (..., 3, 3), ``A = dP/dF`` (..., 3, 3, 3, 3) and the new state at ``F``."""
        F = self.as_deformation_gradient(F)
        batch = tuple(F.shape[:-2])
        state, dt = self.as_state(state, batch), self.as_time_increment(dt, batch)
        if self._use_fast(fast, create_graph, F, state):
            res = self._run_fast("pk1", F, state, dt, consistent)
            if res is not None:
                return res
        s, D, new = self.update_unchecked(kin.strain_mandel_from_F(F), state, dt, create_graph, consistent)
        S, CC = mandel.from_mandel(s), mandel.from_mandel4(D)
        return kin.pk1_from_pk2(F, S), kin.dPdF_from_material_tangent(F, S, CC), new

    def pk2_tangent_state(self, F, state, dt, create_graph: bool = False, *, consistent: bool = True):
        """``S`` (..., 3, 3), ``CC = dS/dE`` (..., 3, 3, 3, 3) and the new state at ``F``."""
        F = self.as_deformation_gradient(F)
        s, D, new = self.stress_tangent_state_mandel(
            kin.strain_mandel_from_F(F), state, dt, create_graph, consistent=consistent
        )
        return mandel.from_mandel(s), mandel.from_mandel4(D), new

    def pk1_state(self, F, state, dt, create_graph: bool = False):
        """``P`` (..., 3, 3) and the new state at ``F`` (no tangent)."""
        F = self.as_deformation_gradient(F)
        s, new = self.stress_state_mandel(kin.strain_mandel_from_F(F), state, dt, create_graph)
        return kin.pk1_from_pk2(F, mandel.from_mandel(s)), new

    # ------------------------------------------------------------------ compiled update
    def _use_fast(self, fast, create_graph, x, state) -> bool:
        if fast is False or create_graph:
            return False
        from . import fast as _fast

        if fast is None and not _fast.enabled():
            return False
        plain = all(type(t) is torch.Tensor and not t.requires_grad for t in (x, state))
        params_plain = not any(getattr(self, n).requires_grad for n in self.parameters)
        return plain and params_plain and x.dtype == torch.float64 and x.device.type == "cpu"

    def _kernel_key(self, kind: str, consistent: bool) -> tuple:
        base = getattr(self, "base", None)
        opts = tuple(sorted((k, repr(v)) for k, v in self.option_values().items()))
        shapes = tuple((n, tuple(getattr(self, n).shape)) for n in self.parameters)
        return (type(self), type(base), opts, shapes, kind, bool(consistent))

    def compiled_program(self, kind: str = "mandel", consistent: bool = True):
        """The traced scalar program of the update (:mod:`constitutive.fast.stage1_trace`).

        Inputs per point: ``[e (6) | F (9), state (n_state), dt]``; outputs ``(s, D, new_state)``
        (``kind="mandel"``) or ``(P, A, new_state)`` (``kind="pk1"``), then the domain flags.
        ``consistent=False``: the tangent with the new state frozen.
        """
        from .fast.stage1_trace import trace_function

        ns = self.n_state
        nx = 6 if kind == "mandel" else 9

        def fn(x, m):
            st, dt = x[:, nx : nx + ns], x[:, nx + ns]
            if kind == "mandel":
                return m.update_unchecked(x[:, :6], st, dt, consistent=consistent)
            F = x[:, :9].reshape(-1, 3, 3)
            s, D, new = m.update_unchecked(kin.strain_mandel_from_F(F), st, dt, consistent=consistent)
            S, CC = mandel.from_mandel(s), mandel.from_mandel4(D)
            return kin.pk1_from_pk2(F, S), kin.dPdF_from_material_tangent(F, S, CC), new

        x0 = torch.zeros((1, nx + ns + 1), dtype=torch.float64)
        if kind == "pk1":
            x0[0, [0, 4, 8]] = 1.0
        outs = [(6,), (6, 6), (ns,)] if kind == "mandel" else [(3, 3), (3, 3, 3, 3), (ns,)]
        return trace_function(self, fn, x0, outs, f"inelastic-{kind}")

    def _kernel(self, kind: str, consistent: bool = True):
        key = self._kernel_key(kind, consistent)
        k = _KERNELS.get(key)
        if k is not None or key in _FAILED:
            return k
        with _LOCK:
            if key in _KERNELS or key in _FAILED:
                return _KERNELS.get(key)
            try:
                from .fast.stage5_compile import CKernel
                from .native import compiler

                if compiler() is None:
                    raise RuntimeError("no C compiler")
                prog = self.compiled_program(kind, consistent)
                k = CKernel(prog)
                k.conditions = list(prog.conditions)
            except Exception as exc:  # untraceable or no compiler: the eager path serves
                _FAILED[key] = str(exc)
                warnings.warn(
                    f"constitutive.inelastic: eager update for {type(self).__name__} ({exc})",
                    RuntimeWarning,
                    stacklevel=4,
                )
                return None
            _KERNELS[key] = k
            return k

    def _run_fast(
        self, kind: str, x: torch.Tensor, state: torch.Tensor, dt: torch.Tensor, consistent: bool = True
    ):
        k = self._kernel(kind, consistent)
        if k is None:
            return None
        nx = 6 if kind == "mandel" else 9
        batch = tuple(x.shape[: x.ndim - (1 if kind == "mandel" else 2)])
        n = int(torch.tensor(batch).prod()) if batch else 1
        xin = torch.cat([x.detach().reshape(n, nx), state.reshape(n, -1), dt.reshape(n, 1)], -1).contiguous()
        shapes = [(6,), (6, 6)] if kind == "mandel" else [(3, 3), (3, 3, 3, 3)]
        outs = [torch.empty((n, *s), dtype=torch.float64) for s in shapes]
        outs.append(torch.empty((n, self.n_state), dtype=torch.float64))
        flags = torch.empty((n, len(k.conditions)), dtype=torch.float64) if k.conditions else None
        ps = [getattr(self, p).detach().reshape(-1) for p in self.parameters]
        p = (torch.cat(ps) if ps else torch.zeros(1)).to(torch.float64).contiguous()
        ptrs = [o.data_ptr() for o in outs] + ([flags.data_ptr()] if flags is not None else [])
        if n:
            k(n, xin.data_ptr(), p.data_ptr(), ptrs)
        if flags is not None:
            bad = flags == 0
            for c, message in enumerate(k.conditions):
                if bool(bad[:, c].any()):
                    first = int(torch.nonzero(bad[:, c])[0])
                    idx = (
                        tuple(int(i) for i in torch.unravel_index(torch.tensor(first), batch))
                        if batch
                        else ()
                    )
                    raise DomainError(domain_message(message, int(bad[:, c].sum()), idx))
        return tuple(o.reshape(*batch, *o.shape[1:]) for o in outs)


class Wrapper(Inelastic):
    """A state model around a hyperelastic ``base``.

    The wrapper's parameters are the base's followed by its own (names must differ), so a fit,
    a compiled library or a unit conversion sees one flat list. Inside :meth:`evolve` and
    :meth:`stress`, :meth:`base_view` is the base with the wrapper's current parameter values
    (tensors that may require grad, or the tracer's symbols).
    """

    def __init__(self, base: Hyperelastic, **params):
        if not isinstance(base, Hyperelastic):
            raise TypeError(f"base: expected a Hyperelastic material, got {type(base).__name__}")
        own_names = set(type(self).parameters) | set(type(self).options)
        clash = sorted(own_names & (set(base.parameters) | set(base.options)))
        if clash:
            raise ValueError(
                f"{type(self).__name__}: the base {type(base).__name__} has parameter(s) "
                f"{clash} of the same name as the wrapper's"
            )
        unknown = sorted(set(params) - own_names - set(base.parameters) - set(base.options))
        if unknown:
            raise TypeError(
                f"{type(self).__name__}: unknown parameter(s) {unknown}; expected some of "
                f"{sorted(own_names)} or the base's {list(base.parameters) + list(base.options)}"
            )
        base_kw = {k: params.pop(k) for k in list(params) if k not in own_names}
        self.base = base.replace(**base_kw) if base_kw else base
        self.incompressible = bool(base.incompressible)
        self.stress_unit = base.stress_unit
        super().__init__(dtype=base.dtype, device=base.device, **params)
        self.parameters = {**self.base.parameters, **type(self).parameters}
        for n in self.base.parameters:
            setattr(self, n, getattr(self.base, n))

    def base_view(self) -> Hyperelastic:
        """The base material carrying this wrapper's current values of the base parameters."""
        m = copy.copy(self.base)
        for n in self.base.parameters:
            setattr(m, n, getattr(self, n))
        return m

    def option_values(self) -> dict[str, object]:
        """Own options, the base's options and ``base`` (the base's registered name)."""
        return {
            **{k: getattr(self, k) for k in self.options},
            **self.base.option_values(),
            "base": self.base.name or type(self.base).__name__,
        }

    def replace(self, **params) -> Wrapper:
        """Same wrapper with some own or base parameters (or options) changed."""
        if params.pop("base", self.option_values()["base"]) != self.option_values()["base"]:
            raise ValueError("base: construct a new wrapper to change the base model")
        own = {k: getattr(self, k) for k in type(self).parameters}
        own.update({k: getattr(self, k) for k in self.options})
        base_vals = {k: getattr(self, k) for k in self.base.parameters}
        for k, v in params.items():
            (own if k in own else base_vals)[k] = v
        out = type(self)(base=self.base.replace(**base_vals), **own)
        out.stress_unit = self.stress_unit
        return out


def tangent_fd_error(material: Inelastic, e, state, dt, h: float = 1e-6, consistent: bool = True) -> float:
    """Largest error of the algorithmic tangent against central differences of the update.

    ``max |D - (s(e + h u_j) - s(e - h u_j)) / 2h| / max |D|`` over points and columns ``j``,
    with the state at the start of the increment and ``dt`` fixed (eager path, float64).
    """
    e = material.as_strain_mandel(e)
    batch = tuple(e.shape[:-1])
    state, dt = material.as_state(state, batch), material.as_time_increment(dt, batch)
    _, D, _ = material.update_unchecked(e, state, dt, consistent=consistent)
    cols = []
    for j in range(6):
        u = torch.zeros(6, dtype=e.dtype, device=e.device)
        u[j] = h
        sp = material.stress_state_mandel(e + u, state, dt)[0]
        sm = material.stress_state_mandel(e - u, state, dt)[0]
        cols.append((sp - sm) / (2 * h))
    Dfd = torch.stack(cols, -1)
    return float((D - Dfd).abs().max() / D.abs().max().clamp_min(1e-300))
