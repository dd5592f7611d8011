"""The container contract inside a job: the job root, the SM_* environment, the drivers."""
