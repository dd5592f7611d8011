"""The AI registry: datasets (and, later, evaluators) kept by name and version."""
