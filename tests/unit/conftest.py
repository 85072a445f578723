"""The fast tier: no model, no subprocess."""

from __future__ import annotations

import pytest

from .fakes import install


@pytest.fixture(autouse=True)
def _fake_backend() -> None:
    install()
