"""The bundled experimental data sets (installed as the package ``constitutive.datasets``).

Load them by name: ``constitutive.calibration.load_experiments("treloar")`` or
``constitutive fit treloar --model ogden``; ``constitutive.calibration.datasets.available()``
lists the names. ``build_data.py`` rebuilds the files from the reference CSVs.
"""
