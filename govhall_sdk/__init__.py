"""govhall-sdk: a government service center's service rules, applied inside its helpdesk."""
import pluggy

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("govhall")
"""Marker for hook implementations: ``@hookimpl def govhall_evaluate_ticket(...)``."""

__all__ = ["hookimpl", "__version__"]
