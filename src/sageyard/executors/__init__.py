"""Where a job's host processes run.

An :class:`Executor` starts one host of a job and hands back a :class:`HostHandle`; the
job's supervisor does the rest (staging, watching, uploading).
"""

from sageyard.executors._base import Executor, HostHandle, HostLaunch, Mount

__all__ = ["Executor", "HostHandle", "HostLaunch", "Mount"]
