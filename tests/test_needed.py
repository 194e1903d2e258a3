"""A program a test needs that is missing fails the test in CI and skips it elsewhere, naming the package."""
import pytest

from needed import program


@pytest.mark.parametrize("ci, outcome", [("true", pytest.fail.Exception), ("1", pytest.fail.Exception),
                                         ("", pytest.skip.Exception), ("false", pytest.skip.Exception)])
def test_a_missing_program_fails_in_ci_and_skips_elsewhere(monkeypatch, ci, outcome):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match=r"no-such-shell is not installed \(apt-get install shells-of-nowhere\)"):
        program("no-such-shell", "shells-of-nowhere")


def test_a_program_that_is_there_is_its_path(monkeypatch):
    monkeypatch.setenv("CI", "true")
    assert program("sh").endswith("/sh")
