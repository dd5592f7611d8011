"""Shared building blocks: settings, errors, API shapes, the session."""
