"""The public Python client: a thin facade (Library, Collection, Profile) over the layers."""

from __future__ import annotations

from .collection import Collection
from .library import DEFAULT_COLLECTION, Library, check_name, open
from .profiles import Profile, ProfileEntry, profile_names

__all__ = ["Collection", "DEFAULT_COLLECTION", "Library", "Profile", "ProfileEntry",
           "check_name", "open", "profile_names"]
