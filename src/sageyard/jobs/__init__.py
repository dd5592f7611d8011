"""The training-job service: create, describe, stop, wait, logs; and the job supervisor."""
