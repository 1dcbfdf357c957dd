"""Channel (MR contrast) names as models and manifests spell them. Standard library only."""

from __future__ import annotations

# Alternative names people and files use for the same MR contrasts.
CHANNEL_ALIASES = {"fla": "flair", "t2flair": "flair", "t2-flair": "flair", "t1ce": "t1c", "t1gd": "t1c",
                   "t1-gd": "t1c", "t1post": "t1c", "de": "lge", "psir": "lge"}


def canonical_channel(name: str) -> str:
    """Lower-case channel name with common aliases folded (``T1ce`` -> ``t1c``, ``fla`` -> ``flair``)."""
    key = str(name).strip().lower()
    return CHANNEL_ALIASES.get(key, key)


def canonical_channels(names: list[str]) -> list[str]:
    return [canonical_channel(n) for n in names]
