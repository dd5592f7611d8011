"""Evaluations: pipeline executions whose steps are training jobs of the evaluate program."""
