"""The REST routes: thin — parse, call a service, serialise."""
