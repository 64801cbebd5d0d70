import pytest


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path, monkeypatch):
    """Never touch the user's real results database."""
    monkeypatch.setenv("ACCELSCOPE_STORE", str(tmp_path / "results.sqlite"))
