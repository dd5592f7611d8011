"""The AWS query protocol's few calls the SDK makes before it trains: STS and IAM.

boto3 sends them as ``POST /`` with a form body (``Action=GetCallerIdentity&Version=...``)
and reads XML back. The answers name this server's account (``settings.account_id``) and
the caller's access key; a role is any name the caller gives (sageyard runs jobs as the
server's user, so there are no policies to simulate: every action is allowed).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from xml.sax.saxutils import escape

from sageyard.core.exceptions import ValidationException
from sageyard.core.settings import Settings

__all__ = [
    "QUERY_ACTIONS",
    "get_caller_identity",
    "get_role",
    "query_error",
    "simulate_principal_policy",
]

_STS = "https://sts.amazonaws.com/doc/2011-06-15/"
_IAM = "https://iam.amazonaws.com/doc/2010-05-08/"


def _answer(action: str, namespace: str, result: str) -> str:
    return (
        f'<{action}Response xmlns="{namespace}"><{action}Result>{result}</{action}Result>'
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
        f"</{action}Response>"
    )


def get_caller_identity(settings: Settings, form: Mapping[str, str], key_id: str) -> str:
    account = settings.account_id
    user = escape(key_id or "sageyard")
    result = (
        f"<Arn>arn:aws:iam::{account}:user/{user}</Arn><UserId>{user}</UserId>"
        f"<Account>{account}</Account>"
    )
    return _answer("GetCallerIdentity", _STS, result)


def get_role(settings: Settings, form: Mapping[str, str], key_id: str) -> str:
    name = form.get("RoleName", "")
    if not name:
        raise ValidationException("RoleName is required.", "GetRole")
    role = escape(name)
    result = (
        f"<Role><Path>/</Path><RoleName>{role}</RoleName><RoleId>{role}</RoleId>"
        f"<Arn>arn:aws:iam::{settings.account_id}:role/{role}</Arn>"
        "<CreateDate>2026-01-01T00:00:00Z</CreateDate></Role>"
    )
    return _answer("GetRole", _IAM, result)


def simulate_principal_policy(settings: Settings, form: Mapping[str, str], key_id: str) -> str:
    actions = [v for k, v in sorted(form.items()) if k.startswith("ActionNames.member.")]
    results = "".join(
        f"<member><EvalActionName>{escape(a)}</EvalActionName><EvalResourceName>*"
        "</EvalResourceName><EvalDecision>allowed</EvalDecision></member>"
        for a in actions
    )
    body = f"<EvaluationResults>{results}</EvaluationResults><IsTruncated>false</IsTruncated>"
    return _answer("SimulatePrincipalPolicy", _IAM, body)


#: Query-protocol actions, by name: each gives the XML answer.
QUERY_ACTIONS: dict[str, Callable[[Settings, Mapping[str, str], str], str]] = {
    "GetCallerIdentity": get_caller_identity,
    "GetRole": get_role,
    "SimulatePrincipalPolicy": simulate_principal_policy,
}


def query_error(code: str, message: str) -> str:
    """The query protocol's error document."""
    return (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{escape(code)}</Code>"
        f"<Message>{escape(message)}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
