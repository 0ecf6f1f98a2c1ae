"""Out-of-domain energies: one primitive that behaves the same eagerly and inside compiled kernels.

Some energies exist only on part of the strain space: Gent's ``ln(1 - (I1b - 3)/Jm)`` and the
Arruda-Boyce inverse Langevin function lock at a limiting stretch. Inside ``energy`` such a model
states its domain with :func:`require`::

    x = (I1b - 3) / self.Jm
    require(x < 1, "Gent: I1b - 3 reached the locking limit Jm")

* On the eager path (plain tensors) :func:`require` raises :class:`DomainError` when any point
  violates the condition; the message gives the number of points and the first index.
* While the fast path traces the energy into a scalar program (:mod:`constitutive.fast`), the
  condition becomes one more per-point output of the compiled kernel instead of a Python
  branch. The caller of the kernel raises the same :class:`DomainError`, with the same count and
  index (compiled material libraries return it as a status code and the first bad point).

This is the pattern of ``equinox.error_if``: checks that are values, not control flow, so that
they survive compilation. A tracer registers itself with :func:`tracing_conditions`.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator

import torch

from .validation import index_text

__all__ = ["DomainError", "domain_message", "require", "tracing_conditions"]

_HOOK: contextvars.ContextVar[Callable[[torch.Tensor, str], None] | None] = contextvars.ContextVar(
    "constitutive_domain_hook", default=None)


class DomainError(ValueError):
    """A state outside the domain of a model's energy (e.g. beyond a locking stretch)."""


def domain_message(message: str, n_bad: int, first: tuple[int, ...]) -> str:
    """The one wording of a domain violation (used eagerly and by the compiled paths)."""
    return f"{message} at {n_bad} point(s) (first at index {index_text(first)})"


def require(ok: torch.Tensor, message: str) -> None:
    """Declare that the energy is defined only where ``ok`` holds.

    Parameters
    ----------
    ok : (...) boolean tensor, the batch shape of the energy (or broadcastable to it).
    message : what is violated, in the user's terms (e.g. ``"Gent: I1b - 3 reached Jm"``).

    Raises
    ------
    DomainError
        On the eager path, when ``ok`` is false anywhere. While an energy is traced for a
        compiled kernel nothing is raised: the condition is recorded as a kernel output.
    """
    hook = _HOOK.get()
    if hook is not None:
        hook(ok, message)
        return
    with torch.no_grad():
        bad = ~torch.as_tensor(ok, dtype=torch.bool)
        if bool(bad.any()):
            first = tuple(int(i) for i in torch.nonzero(bad)[0]) if bad.ndim else ()
            raise DomainError(domain_message(message, int(bad.sum()), first))


@contextlib.contextmanager
def tracing_conditions(hook: Callable[[torch.Tensor, str], None]) -> Iterator[None]:
    """Within the block, :func:`require` passes its condition to ``hook`` instead of checking it."""
    token = _HOOK.set(hook)
    try:
        yield
    finally:
        _HOOK.reset(token)
