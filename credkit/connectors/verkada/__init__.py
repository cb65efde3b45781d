"""The Verkada Command connector: its API client, the push of a reviewed file, the pull."""

from credkit.connectors.verkada.config import VerkadaLimits, VerkadaSettings, read_api_key
from credkit.connectors.verkada.push import PushEstimate, estimate_push, push_to_verkada

__all__ = [
    "PushEstimate",
    "VerkadaLimits",
    "VerkadaSettings",
    "estimate_push",
    "push_to_verkada",
    "read_api_key",
]
