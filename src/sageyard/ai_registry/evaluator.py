"""``Evaluator``: a reward function or a reward prompt registered by name, versioned.

A ``RewardFunction`` is a Python file defining ``lambda_handler(event, context)``; a
``RewardPrompt`` is a judge's prompt template (Jinja, with ``prompt`` and ``response``).
``create`` checks the source before anything is written, copies it into the object store
(``s3://<default bucket>/evaluators/<name>/<version>/``) and records a row of kind
``Evaluator`` in the job store, so every process sees it. Versions are the real SDK's
``1.0.0``, ``2.0.0``, ...; ARNs its hub-content ones
(``arn:aws:sagemaker:<region>:<account>:hub-content/sageyard/JsonDoc/<name>/<version>``).

Where the real SDK deploys a reward function's file as an AWS Lambda function and keeps
that function's ARN as the evaluator's ``reference``, sageyard keeps the file and gives it
a Lambda-style ARN of its own (``arn:aws:lambda:<region>:<account>:function:sageyard-
evaluator-<name>-<major>``): RLVRTrainer takes the evaluator, its ARN or that Lambda ARN,
and runs the stored file in its sandboxed reward workers. Functions on AWS Lambda cannot
run here; register their code instead.

Facade by nature, at the path the real SDK fixes (``sagemaker.ai_registry.evaluator``).

Example:
    >>> from sageyard.ai_registry.evaluator import REWARD_FUNCTION, Evaluator
    >>> evaluator = Evaluator.create("exact-match", REWARD_FUNCTION, "reward.py")  # doctest: +SKIP
    >>> Evaluator.get("exact-match").version  # doctest: +SKIP
    '1.0.0'
"""

from __future__ import annotations

import ast
import builtins
import re
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path

from sageyard.core.exceptions import ConfigurationError, ResourceInUse, ResourceNotFound
from sageyard.core.session import HUB_NAME, Session
from sageyard.store import JobRecord, open_store

__all__ = ["REWARD_FUNCTION", "REWARD_PROMPT", "Evaluator", "EvaluatorMethod"]

REWARD_FUNCTION = "RewardFunction"
REWARD_PROMPT = "RewardPrompt"
#: The store's kind for evaluator rows, and the hub-content type their ARNs name.
KIND = "Evaluator"
CONTENT_TYPE = "JsonDoc"
AVAILABLE = "Available"
DELETED = "Deleted"
_TYPES = (REWARD_FUNCTION, REWARD_PROMPT)
_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_ARN = re.compile(
    r"^arn:aws[a-zA-Z-]*:sagemaker:[^:]*:[^:]*:hub-content/[^/]+/JsonDoc/([^/]+)(?:/([0-9.]+))?$"
)
_LAMBDA_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9-_]+$")


class EvaluatorMethod(Enum):
    """How a reward function runs: code registered with it (``BYOC``), or a Lambda
    function named by ARN (``LAMBDA``: here, the code of another registered evaluator)."""

    BYOC = "byoc"
    LAMBDA = "lambda"


class Evaluator:
    """A registered evaluator: name, version, ARN, type, method and ``reference``.

    ``reference`` is the real SDK's: for a reward function its Lambda-style ARN, for a
    reward prompt the template's ``s3://`` URI. ``source`` (sageyard's own) is where the
    function's file or the template is stored.
    """

    #: The session an instance reads the registry with (set per instance).
    sagemaker_session: Session | None = None

    def __init__(
        self,
        name: str | None = None,
        version: str | None = None,
        arn: str | None = None,
        type: str | None = None,
        method: EvaluatorMethod | None = None,
        reference: str | None = None,
        status: str | None = None,
        created_time: datetime | None = None,
        updated_time: datetime | None = None,
        sagemaker_session: Session | None = None,
        *,
        source: str | None = None,
        domain_id: str | None = None,
    ) -> None:
        self.name = name
        self.version = version
        self.arn = arn
        self.type = type
        self.method = method
        self.reference = reference
        self.status = status
        self.created_time = created_time
        self.updated_time = updated_time
        self.sagemaker_session = sagemaker_session
        self.source = source
        self.domain_id = domain_id

    @property
    def hub_content_type(self) -> str:
        """``"JsonDoc"``: the hub-content type evaluators have (their ARNs name it)."""
        return CONTENT_TYPE

    @property
    def hub_name(self) -> str:
        """The hub evaluators live in (sageyard has one)."""
        return HUB_NAME

    @property
    def created(self) -> datetime | None:
        """:attr:`created_time` (the real SDK's base class keeps it under this name)."""
        return self.created_time

    @property
    def updated(self) -> datetime | None:
        """:attr:`updated_time` (the real SDK's base class keeps it under this name)."""
        return self.updated_time

    # -- create and find ----------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        name: str,
        type: str,
        source: str | None = None,
        wait: bool = True,
        role: str | None = None,
        domain_id: str | None = None,
        sagemaker_session: Session | None = None,
    ) -> Evaluator:
        """Check ``source``, store it and register it as the next version of ``name``.

        Args:
            name: 1-63 letters, digits and hyphens.
            type: ``REWARD_FUNCTION`` (``"RewardFunction"``) or ``REWARD_PROMPT``.
            source: A reward function's ``.py`` file (or the Lambda-style ARN of a
                registered one); a reward prompt's template file or its ``s3://`` URI.
            wait: Accepted: an evaluator is Available as soon as it is created here.
            role: Accepted and recorded nowhere (no Lambda function is deployed).
            domain_id: The Studio domain it is tagged with; kept and shown back.

        Raises:
            ValueError: A bad name, type or source (a file that is missing, does not parse
                or defines no ``lambda_handler``; an empty template). Nothing is written then.
        """
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ConfigurationError(
                f"Evaluator name {name!r} is not valid: use 1-63 letters, digits and hyphens."
            )
        if type not in _TYPES:
            raise ConfigurationError(
                f"Unsupported evaluator type: {type!r}; use {REWARD_FUNCTION!r} (a Python file "
                f"defining lambda_handler) or {REWARD_PROMPT!r} (a judge's prompt template)."
            )
        if source is None:
            raise ConfigurationError(f"source must be provided for {type}")
        session = sagemaker_session or Session()
        if type == REWARD_FUNCTION:
            method, file, stored_name = _reward_function_source(source, session)
        else:
            method, file, stored_name = None, _prompt_source(source, session), None
        store = open_store(session.settings.store_url)
        major = len(store.list(KIND, parent=name)) + 1  # deleted versions keep their number
        version = f"{major}.0.0"
        settings = session.settings
        folder = f"s3://{session.default_bucket()}/evaluators/{name}/{version}"
        uri = f"{folder}/{stored_name or file.name}"
        session.objects.put_file(file, uri)
        arn = (
            f"arn:aws:sagemaker:{settings.region}:{settings.account_id}:hub-content/"
            f"{HUB_NAME}/{CONTENT_TYPE}/{name}/{version}"
        )
        if type == REWARD_FUNCTION:
            reference = (
                source
                if method is EvaluatorMethod.LAMBDA
                else f"arn:aws:lambda:{settings.region}:{settings.account_id}:function:"
                f"sageyard-evaluator-{name}-{major}"
            )
        else:
            reference = uri
        document = {
            "arn": arn,
            "version": version,
            "type": type,
            "method": method.value if method else None,
            "reference": reference,
            "source": uri,
            "domain_id": domain_id,
        }
        record = JobRecord.registered(f"{name}/{version}", KIND, name, document, AVAILABLE)
        try:
            store.create(record)
        except ResourceInUse:
            session.objects.delete(uri)
            raise ResourceInUse(
                f"Another process registered version {version} of Evaluator {name!r} at the "
                "same time; create it again.",
                "ImportHubContent",
            ) from None
        return cls._from_record(store.get(record.name), session)

    @classmethod
    def get(cls, name: str, sagemaker_session: Session | None = None) -> Evaluator:
        """The latest version of ``name``, or the version its ARN (or ``name/1.0.0``) names.

        Raises:
            ResourceNotFound: (a ValueError) No such evaluator, or it was deleted.
        """
        session = sagemaker_session or Session()
        match = _ARN.match(name)
        if match:
            name = match.group(1) + (f"/{match.group(2)}" if match.group(2) else "")
        store = open_store(session.settings.store_url)
        if "/" in name:
            record = store.get(name)
        else:
            versions = _live(store.list(KIND, parent=name))
            record = versions[0] if versions else None
        if record is None or record.kind != KIND or record.status == DELETED:
            raise ResourceNotFound(
                f"Evaluator {name!r} does not exist; create it with Evaluator.create(name, "
                "type, source) or list them with Evaluator.get_all().",
                "DescribeHubContent",
            )
        return cls._from_record(record, session)

    @classmethod
    def get_all(
        cls,
        type: str | None = None,
        max_results: int | None = None,
        sagemaker_session: Session | None = None,
    ) -> builtins.list[Evaluator]:
        """The latest version of every evaluator (of ``type``, if given), newest first."""
        if type is not None and type not in _TYPES:
            raise ConfigurationError(
                f"type must be {REWARD_FUNCTION!r} or {REWARD_PROMPT!r}, but got {type!r}."
            )
        session = sagemaker_session or Session()
        store = open_store(session.settings.store_url)
        latest: dict[str, JobRecord] = {}
        for record in _live(store.list(KIND)):
            latest.setdefault(record.parent or record.name, record)
        found = [
            cls._from_record(record, session)
            for record in latest.values()
            if type is None or record.document.get("type") == type
        ]
        return found[:max_results] if max_results is not None else found

    @classmethod
    def list(
        cls, max_results: int | None = None, next_token: str | None = None
    ) -> builtins.list[Evaluator]:
        """:meth:`get_all` (the real SDK's hub-entity name for it)."""
        return cls.get_all(max_results=max_results)

    @classmethod
    def by_lambda_arn(cls, arn: str, sagemaker_session: Session | None = None) -> Evaluator:
        """The reward function whose ``reference`` is the Lambda-style ``arn`` (its latest
        version that has it).

        Raises:
            ResourceNotFound: No registered evaluator has that reference.
        """
        session = sagemaker_session or Session()
        store = open_store(session.settings.store_url)
        for record in _live(store.list(KIND)):
            if record.document.get("reference") == arn:
                return cls._from_record(record, session)
        raise ResourceNotFound(
            f"No registered evaluator has the Lambda ARN {arn}: sageyard runs reward functions "
            "itself and cannot invoke AWS Lambda. Register the function's Python file with "
            "Evaluator.create(name, 'RewardFunction', 'reward.py') and pass the evaluator.",
            "DescribeHubContent",
        )

    @classmethod
    def _from_record(cls, record: JobRecord | None, session: Session) -> Evaluator:
        assert record is not None
        doc = record.document
        method = doc.get("method")
        return cls(
            name=record.parent or record.name.partition("/")[0],
            version=doc["version"],
            arn=doc["arn"],
            type=doc["type"],
            method=EvaluatorMethod(method) if method else None,
            reference=doc["reference"],
            status=record.status,
            created_time=datetime.fromtimestamp(record.created_at, UTC),
            updated_time=datetime.fromtimestamp(record.updated_at, UTC),
            sagemaker_session=session,
            source=doc["source"],
            domain_id=doc.get("domain_id"),
        )

    # -- versions ---------------------------------------------------------------------------

    def get_versions(self) -> builtins.list[Evaluator]:
        """Every version of this evaluator, newest first."""
        session = self._session()
        store = open_store(session.settings.store_url)
        records = _live(store.list(KIND, parent=self._name()))
        return [self._from_record(record, session) for record in records]

    def create_version(self, source: str) -> bool:
        """Register ``source`` as this evaluator's next version (checked as ``create`` does).

        Raises:
            RuntimeError: The new version could not be created (the real SDK's error),
                with the reason.
        """
        try:
            Evaluator.create(
                self._name(),
                self.type or REWARD_FUNCTION,
                source,
                domain_id=self.domain_id,
                sagemaker_session=self._session(),
            )
        except ValueError as error:
            raise RuntimeError(f"Failed to create new version: {error}") from error
        return True

    def refresh(self) -> Evaluator:
        """This version, as the registry has it now."""
        fresh = Evaluator.get(f"{self._name()}/{self.version}", self._session())
        self.__dict__.update(fresh.__dict__)
        return self

    def wait(self, poll: int = 5, timeout: int | None = None) -> None:
        """Evaluators are Available once created here: nothing to wait for.

        Raises:
            ValueError: This version was deleted.
        """
        if self.refresh().status == DELETED:
            raise ConfigurationError(f"Evaluator {self.name!r} {self.version} was deleted.")

    def delete(self, version: str | None = None) -> bool:
        """Delete ``version``, or every version without one (as the real SDK does). The
        rows stay in the store, marked Deleted; ``get`` no longer finds them. False when
        there was nothing to delete."""
        session = self._session()
        store = open_store(session.settings.store_url)
        if version is None:
            names = [record.name for record in _live(store.list(KIND, parent=self._name()))]
        else:
            record = store.get(f"{self._name()}/{version}")
            names = [record.name] if record is not None and record.status != DELETED else []
        for name in names:
            store.update(name, status=DELETED)
        return bool(names)

    @classmethod
    def delete_by_name(
        cls, name: str, version: str | None = None, sagemaker_session: Session | None = None
    ) -> bool:
        """Delete every version of ``name`` (or ``version``); False if there is none."""
        evaluator = cls(name=name, sagemaker_session=sagemaker_session or Session())
        return evaluator.delete(version)

    # -- what a trainer reads ---------------------------------------------------------------

    def local_file(self, folder: Path) -> Path:
        """The stored file (the function or the template), copied into ``folder``."""
        assert self.source is not None
        target = folder / self.source.rsplit("/", 1)[-1]
        self._session().objects.get_file(self.source, target)
        return target

    def _name(self) -> str:
        if not self.name:
            raise ConfigurationError("This Evaluator has no name; get it with Evaluator.get(name).")
        return self.name

    def _session(self) -> Session:
        if self.sagemaker_session is None:
            self.sagemaker_session = Session()
        return self.sagemaker_session

    def __repr__(self) -> str:
        return (
            f"Evaluator(name={self.name!r}, version={self.version!r}, type={self.type!r}, "
            f"method={self.method.value if self.method else None!r}, arn={self.arn!r}, "
            f"reference={self.reference!r})"
        )


def _reward_function_source(
    source: str, session: Session
) -> tuple[EvaluatorMethod, Path, str | None]:
    """How the function runs, its file, and the name it is stored under.

    A Lambda-style ARN must be a registered evaluator's (its code is copied); otherwise
    ``source`` is a local ``.py`` file, parsed (not run) to find ``lambda_handler``.
    """
    if source.startswith("arn:"):
        if not _LAMBDA_ARN.match(source):
            raise ConfigurationError(
                f"source {source!r} is not a Lambda function ARN "
                "(arn:aws:lambda:<region>:<account>:function:<name>) or a Python file."
            )
        registered = Evaluator.by_lambda_arn(source, session)
        assert registered.source is not None
        local = session.objects.local_path(registered.source)
        if local is None:  # an S3 server: fetch it
            import tempfile

            local = Path(tempfile.mkdtemp(prefix="sageyard-evaluator-")) / "reward_function.py"
            session.objects.get_file(registered.source, local)
        return EvaluatorMethod.LAMBDA, local, registered.source.rsplit("/", 1)[-1]
    file = Path(source).expanduser()
    if not file.is_file():
        raise ConfigurationError(
            f"Reward function file not found: {source}; give a .py file defining "
            "lambda_handler(event, context), or a registered evaluator's Lambda ARN."
        )
    try:
        tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
    except (SyntaxError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"The reward function {source} does not parse: {error}") from None
    handlers = [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name == "lambda_handler"
    ]
    if not handlers:
        raise ConfigurationError(
            f"Local Python file must contain a 'lambda_handler' function ({source} defines "
            "none at its top level); define lambda_handler(event, context)."
        )
    return EvaluatorMethod.BYOC, file.resolve(), None


def _prompt_source(source: str, session: Session) -> Path:
    """The reward prompt template's local file (an ``s3://`` one is fetched), checked to be
    non-empty UTF-8 text."""
    if source.startswith("s3://"):
        import tempfile

        if not session.objects.exists(source):
            raise ConfigurationError(f"The reward prompt {source} does not exist.")
        file = Path(tempfile.mkdtemp(prefix="sageyard-evaluator-")) / source.rsplit("/", 1)[-1]
        session.objects.get_file(source, file)
    else:
        file = Path(source).expanduser()
        if not file.is_file():
            raise ConfigurationError(
                f"Reward prompt file not found: {source}; give a template file (Jinja, with "
                "{{ prompt }} and {{ response }}) or its s3:// URI."
            )
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigurationError(f"The reward prompt {source} is not UTF-8 text.") from None
    if not text.strip():
        raise ConfigurationError(f"The reward prompt {source} is empty; write the judge's prompt.")
    return file.resolve()


def _live(records: list[JobRecord]) -> list[JobRecord]:
    """The evaluator rows not deleted, in the store's order (newest first)."""
    return [record for record in records if record.status != DELETED]
