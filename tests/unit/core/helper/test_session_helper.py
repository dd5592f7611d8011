"""``sagemaker.core.helper.session_helper``, the path v3 notebooks import Session from."""

from __future__ import annotations

import inspect

import sageyard.core.session
from sageyard.core.helper.session_helper import Session, get_execution_role, s3_path_join


def test_it_is_the_one_session() -> None:
    assert Session is sageyard.core.session.Session
    assert get_execution_role is sageyard.core.session.get_execution_role


def test_get_execution_role_takes_the_real_arguments() -> None:
    parameters = list(inspect.signature(get_execution_role).parameters)
    assert parameters == ["sagemaker_session", "use_default"]


def test_s3_path_join_as_the_real_sdk() -> None:
    assert s3_path_join("s3://", "//foo/", "/bar///baz") == "s3://foo/bar/baz"
    assert s3_path_join("s3://bucket", None, "", "key") == "s3://bucket/key"
    assert s3_path_join("prefix", "data", with_end_slash=True) == "prefix/data/"
    assert s3_path_join() == ""
