"""Audits over many runs or a whole data set: bias (a metric per stratum of lesion size, segment,
transmurality) and coverage (lesions per cell of a clinical-feature grid, and edits that fill the gaps).
Above ``results``, ``datasets`` and ``synthesis`` in the import graph; only the CLI imports it."""
