"""The public Python client: a thin facade (Library, Collection, Profile) over the layers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import attributes

if TYPE_CHECKING:
    from .collection import Collection
    from .library import DEFAULT_COLLECTION, Library, check_name, open
    from .profiles import Profile, ProfileEntry, profile_names

_LAZY = {"Collection": "collection", "DEFAULT_COLLECTION": "library", "Library": "library",
         "check_name": "library", "open": "library", "Profile": "profiles",
         "ProfileEntry": "profiles", "profile_names": "profiles"}


__getattr__ = attributes(__name__, _LAZY, globals())

__all__ = ["Collection", "DEFAULT_COLLECTION", "Library", "Profile", "ProfileEntry",
           "check_name", "open", "profile_names"]
