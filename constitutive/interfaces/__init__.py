"""Interfaces: every convention outside the engine, and the bridges to other codes.

* :mod:`~constitutive.interfaces.notation` -- the one Voigt / Abaqus / Mandel table;
* :mod:`~constitutive.interfaces.abaqus_umat` -- Cauchy stress and DDSDDE (Jaumann-rate tangent),
  a UMAT-style Python callable, the ``PROPS`` layout;
* :mod:`~constitutive.interfaces.abaqus_cards` -- ``*HYPERELASTIC`` cards from our parameters;
* :mod:`~constitutive.interfaces.export` -- tangent files with their conventions;
* :mod:`~constitutive.interfaces.compiled` -- a self-contained C library and Abaqus UMAT from any
  energy, and its torch-free loader;
* :mod:`~constitutive.interfaces.felupe`, :mod:`~constitutive.interfaces.skfem` -- materials at
  those codes' quadrature points (tensor axes first, point axes last: ``F[i, J, ...]``;
  :mod:`~constitutive.interfaces.trailing` converts). felupe and scikit-fem are optional
  (``pip install constitutive[fem-peers]``).

Importing this package imports nothing else (no torch): import the module you need.
"""
