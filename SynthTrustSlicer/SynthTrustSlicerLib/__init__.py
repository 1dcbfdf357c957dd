"""The SynthTrustSlicer module's helper package: the module's Logic class and its worker process
(``logic``, ``process``), the panel's rules and boxes (``panel_state``, ``choices``, ``parameters``,
``bullseye``, ``views``, ``lessons``), Slicer-side installs and samples (``dependencies``, ``sample_data``),
the results layout and where resources are (``results_layout``, ``paths``). Scene work goes through the
core's MRML adapter, ``synthtrust.scene``. Only ``choices`` and ``bullseye`` import Qt; widget code keeps to
what PythonQt and PySide6 share."""

from __future__ import annotations
