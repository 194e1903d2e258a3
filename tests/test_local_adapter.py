"""The embedded local helpdesk passes the adapter conformance suite."""
import pytest

from adapters_local_driver import LocalDriver  # noqa: F401  (kept beside the tests)
from govhall_sdk.testing import AdapterConformance


@pytest.fixture
def helpdesk_driver(tmp_path):
    return LocalDriver(tmp_path / "helpdesk.sqlite")


class TestLocalConformance(AdapterConformance):
    """Paging, cursor, round trip and rerun on the local adapter."""
