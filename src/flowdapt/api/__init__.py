"""The REST API: FastAPI app factory, routes, error mapping, wire serialisation."""

from flowdapt.api.app import create_app
from flowdapt.api.state import Services

__all__ = ["Services", "create_app"]
