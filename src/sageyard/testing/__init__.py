"""Conformance suites shipped with sageyard's interfaces, for pytest.

Each suite is a plain class of test methods over one fixture that a subclass overrides;
a new backend passes the whole contract of its interface by adding that one fixture.
sageyard runs the suites against every backend it ships (``tests/backends``). The module
needs pytest (a test dependency); nothing in the runtime imports it.

- :class:`ObjectStoreSuite`: override ``object_store`` with an empty
  :class:`~sageyard.storage.ObjectStore`.
- :class:`JobStoreSuite`: override ``job_store_factory`` with a picklable callable that
  opens a :class:`~sageyard.store.JobStore` on one empty store (called again to reopen it,
  and in other processes).
- :class:`ExecutorSuite`: override ``executor_factory`` with a callable that makes a new
  :class:`~sageyard.executors.Executor` for one job; hosts run the commands of
  ``sageyard.testing.BEHAVIOURS``.

Example:
    In a test module of the new backend::

        import functools

        import pytest

        from sageyard.testing import JobStoreSuite, ObjectStoreSuite


        class TestMyObjectStore(ObjectStoreSuite):
            @pytest.fixture
            def object_store(self, tmp_path):
                return MyObjectStore(tmp_path / "objects")


        class TestMyJobStore(JobStoreSuite):
            @pytest.fixture
            def job_store_factory(self, tmp_path):
                return functools.partial(open_my_store, tmp_path / "store")

    Call ``pytest.register_assert_rewrite("sageyard.testing")`` in a ``conftest.py``, before
    anything imports this module, for pytest's detailed assertion messages.
"""

from sageyard.testing._executor import BEHAVIOURS, ExecutorSuite, plan_of
from sageyard.testing._job_store import JobStoreSuite
from sageyard.testing._object_store import ObjectStoreSuite

__all__ = ["BEHAVIOURS", "ExecutorSuite", "JobStoreSuite", "ObjectStoreSuite", "plan_of"]
