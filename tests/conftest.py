"""Hypothesis profiles for the whole suite: property tests are deterministic unless asked otherwise.

- ``ci`` (the default, locally too, so a local run sees what CI sees):
  ``derandomize=True`` (the examples follow from each test's source, the same on
  every run and machine), ``database=None`` (no example saved by an earlier run
  changes the next one), ``deadline=None`` (a loaded CI machine is no failure) and
  ``print_blob=True`` (a failure prints the ``@reproduce_failure`` line).
- ``dev``: randomised, with the example database and five times the examples,
  to hunt for new failures: ``HYPOTHESIS_PROFILE=dev python -m pytest -q tests/...``.
  A failure found this way becomes a fixed ``@example`` in the test, so ``ci`` keeps it.

``HYPOTHESIS_PROFILE`` names the profile (``ci`` or ``dev``); any other value is an
error rather than a silent fall-back. A test's own ``@settings(...)`` may set
``max_examples``, ``deadline`` or health checks, but never ``derandomize`` or
``database``: those belong to the profile.
"""
import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("dev", derandomize=False, deadline=None, print_blob=True,
                          max_examples=settings.default.max_examples * 5)

settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
