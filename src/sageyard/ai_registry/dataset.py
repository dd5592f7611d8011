"""``DataSet``: a fine-tuning dataset registered by name, each ``create`` a new version.

The file is checked (every line, for the technique given) before anything is written, then
copied into the object store; the registry row (kind ``DataSet`` in the job store) records
where. Trainers accept a ``DataSet`` wherever they accept a dataset URI.

Facade by nature, at the path the real SDK fixes (``sagemaker.ai_registry.dataset``): it
takes a ``Session`` and checks files by the fine-tuning programs' dataset formats, so it
counts as the ``train`` layer (``tests/unit/test_layers.py``); only the facade imports it.

Example:
    >>> from sageyard.ai_registry.dataset import DataSet
    >>> from sageyard.ai_registry.dataset_utils import DataSetMethod
from sageyard.core.enums import CustomizationTechnique
    >>> technique = CustomizationTechnique.SFT
    >>> ds = DataSet.create("support-sft", "train.jsonl", technique)  # doctest: +SKIP
    >>> DataSet.get("support-sft").source  # doctest: +SKIP
    's3://sagemaker-us-west-2-000000000000/datasets/support-sft/1/train.jsonl'
"""

from __future__ import annotations

import builtins
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sageyard.ai_registry.dataset_utils import DataSetMethod
from sageyard.core.enums import CustomizationTechnique
from sageyard.core.exceptions import ConfigurationError, ResourceInUse, ResourceNotFound
from sageyard.core.session import HUB_NAME, Session
from sageyard.store import JobRecord, open_store

__all__ = ["DataSet", "check_dataset", "dataset_uri"]

KIND = "DataSet"
DELETED = "Deleted"
_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_ARN = re.compile(r"^arn:aws:sagemaker:[^:]*:[^:]*:hub-content/.*/DataSet/([^/]+)(?:/(\d+))?$")


class DataSet:
    """A registered dataset: its name, version and where its JSONL file lives.

    Besides the real SDK's fields, ``domain_id`` and ``content_metadata`` are what
    :meth:`create` was given for them (the real SDK keeps the first as a search keyword of
    the hub content and the second in its document).
    """

    #: The session an instance reads the registry with (set per instance; the class
    #: attribute is there, as in the real SDK, for code that looks it up on the class).
    sagemaker_session: Session | None = None

    def __init__(
        self,
        name: str,
        arn: str,
        version: str,
        status: str,
        source: str | None = None,
        description: str | None = None,
        customization_technique: CustomizationTechnique | None = None,
        method: DataSetMethod | None = None,
        created_time: datetime | None = None,
        updated_time: datetime | None = None,
        sagemaker_session: Session | None = None,
        *,
        domain_id: str | None = None,
        content_metadata: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.arn = arn
        self.version = version
        self.status = status
        self.source = source
        self.description = description
        self.customization_technique = customization_technique
        self.method = method
        self.created_time = created_time
        self.updated_time = updated_time
        self.sagemaker_session = sagemaker_session
        self.domain_id = domain_id
        self.content_metadata = content_metadata

    @property
    def hub_content_type(self) -> str:
        """``"DataSet"``: the hub-content type datasets have (their ARNs name it)."""
        return KIND

    @property
    def hub_name(self) -> str:
        """The hub datasets live in (sageyard has one)."""
        return HUB_NAME

    @property
    def created(self) -> datetime | None:
        """:attr:`created_time` (the real SDK's base class keeps it under this name)."""
        return self.created_time

    @property
    def updated(self) -> datetime | None:
        """:attr:`updated_time` (the real SDK's base class keeps it under this name)."""
        return self.updated_time

    @classmethod
    def create(
        cls,
        name: str,
        source: str,
        customization_technique: CustomizationTechnique | None = None,
        wait: bool = True,
        description: str = "",
        tags: list[tuple[str, str]] | None = None,
        role: str | None = None,
        domain_id: str | None = None,
        sagemaker_session: Session | None = None,
        content_metadata: dict[str, Any] | None = None,
    ) -> DataSet:
        """Check ``source`` (a local JSONL file or folder, or an ``s3://`` URI), store it,
        register it as the next version of ``name``.

        Args:
            domain_id: The SageMaker Studio domain the dataset is tagged with; kept and shown
                back (``DataSet.get(name).domain_id``).
            content_metadata: Metadata (PascalCase keys) kept with the dataset. As in the real
                SDK, a dataset with content metadata (a Feature Store export, say) is not
                checked against the technique's dataset format.

        Raises:
            ValueError: A bad name, or a dataset that fails the technique's checks (the
                message names the file, line and field). Nothing is written then.
        """
        if not _NAME.fullmatch(name):
            raise ConfigurationError(
                f"DataSet name {name!r} is not valid: use 1-63 letters, digits and hyphens."
            )
        if content_metadata is not None and not isinstance(content_metadata, dict):
            raise ConfigurationError(
                "content_metadata must be a dict (PascalCase keys), but got "
                f"{type(content_metadata).__name__}."
            )
        technique = (
            CustomizationTechnique(customization_technique)
            if customization_technique is not None
            else None
        )
        session = sagemaker_session or Session()
        if content_metadata is None:
            check_dataset(source, technique.value if technique else "sft", session)
        store = open_store(session.settings.store_url)
        version = len(store.list(KIND, parent=name)) + 1
        uri = source
        method = DataSetMethod.GENERATED
        if not source.startswith("s3://"):
            from sageyard.storage import upload_path

            folder = f"s3://{session.default_bucket()}/datasets/{name}/{version}"
            uri = upload_path(session.objects, Path(source).resolve(), folder)
            method = DataSetMethod.UPLOADED
        arn = (
            f"arn:aws:sagemaker:{session.settings.region}:{session.settings.account_id}:"
            f"hub-content/{HUB_NAME}/{KIND}/{name}/{version}"
        )
        document = {
            "arn": arn,
            "version": str(version),
            "source": uri,
            "description": description,
            "customization_technique": technique.value if technique else None,
            "method": method.value,
            "tags": [list(tag) for tag in tags or []],
            "domain_id": domain_id,
            "content_metadata": content_metadata,
        }
        record = JobRecord.registered(f"{name}/{version}", KIND, name, document, "Available")
        try:
            store.create(record)
        except ResourceInUse:
            if uri != source:  # the copy made for the row that was not written
                for key in session.objects.list(uri):
                    session.objects.delete(key)
            raise ResourceInUse(
                f"Another process registered version {version} of DataSet {name!r} at the same "
                "time; create it again.",
                "CreateHubContent",
            ) from None
        return cls._from_record(store.get(f"{name}/{version}"), session)

    @classmethod
    def get(cls, name: str, sagemaker_session: Session | None = None) -> DataSet:
        """The latest version of ``name`` (or the version an ARN or ``name/N`` names)."""
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
                f"DataSet {name!r} does not exist; create it with DataSet.create(name, source).",
                "DescribeHubContent",
            )
        return cls._from_record(record, session)

    @classmethod
    def _from_record(cls, record: JobRecord | None, session: Session) -> DataSet:
        assert record is not None
        doc = record.document
        technique = doc.get("customization_technique")
        return cls(
            name=record.parent or record.name,
            arn=doc["arn"],
            version=doc["version"],
            status=record.status,
            source=doc["source"],
            description=doc.get("description"),
            customization_technique=CustomizationTechnique(technique) if technique else None,
            # rows written before the method was recorded: the real SDK's default
            method=DataSetMethod(doc.get("method") or DataSetMethod.GENERATED.value),
            created_time=datetime.fromtimestamp(record.created_at, UTC),
            updated_time=datetime.fromtimestamp(record.updated_at, UTC),
            sagemaker_session=session,
            domain_id=doc.get("domain_id"),
            content_metadata=doc.get("content_metadata"),
        )

    # -- the real SDK's other methods ---------------------------------------------------------

    @classmethod
    def get_all(
        cls, max_results: int | None = None, sagemaker_session: Session | None = None
    ) -> list[DataSet]:
        """The latest version of every dataset, newest first."""
        session = sagemaker_session or Session()
        store = open_store(session.settings.store_url)
        latest: dict[str, JobRecord] = {}
        for record in _live(store.list(KIND)):
            latest.setdefault(record.parent or record.name, record)
        found = [cls._from_record(record, session) for record in latest.values()]
        return found[:max_results] if max_results is not None else found

    @classmethod
    def list(cls, max_results: int | None = None, next_token: str | None = None) -> list[DataSet]:
        """:meth:`get_all` (the real SDK's hub-entity name for it)."""
        return cls.get_all(max_results)

    def get_versions(self) -> builtins.list[DataSet]:
        """Every version of this dataset, newest first."""
        session = self._session()
        store = open_store(session.settings.store_url)
        return [self._from_record(r, session) for r in _live(store.list(KIND, parent=self.name))]

    def create_version(
        self, source: str, customization_technique: CustomizationTechnique | None = None
    ) -> bool:
        """Register ``source`` as this dataset's next version (checked as ``create`` does)."""
        DataSet.create(
            self.name,
            source,
            customization_technique or self.customization_technique,
            domain_id=self.domain_id,
            sagemaker_session=self._session(),
        )
        return True

    def refresh(self) -> DataSet:
        """This version, as the registry has it now."""
        fresh = DataSet.get(f"{self.name}/{self.version}", self._session())
        self.__dict__.update(fresh.__dict__)
        return self

    def wait(self, poll: int = 5, timeout: int | None = None) -> None:
        """Datasets are Available once created here: nothing to wait for."""

    def delete(self, version: str | None = None) -> bool:
        """Delete one version (default: this one), or every version with ``version="all"``.
        The rows stay in the store, marked Deleted; ``get`` no longer finds them."""
        session = self._session()
        store = open_store(session.settings.store_url)
        if version == "all":
            names = [r.name for r in _live(store.list(KIND, parent=self.name))]
        else:
            names = [f"{self.name}/{version or self.version}"]
        for name in names:
            store.update(name, status=DELETED)
        return True

    @classmethod
    def delete_by_name(cls, name: str, version: str | None = None) -> bool:
        """Delete a dataset's latest version (or ``version``, or ``"all"``)."""
        return cls.get(name).delete(version)

    @classmethod
    def split(cls, source: str, train_split_ratio: float = 0.8) -> tuple[DataSet, DataSet]:
        """Split a local JSONL (or CSV, header kept in both) file into ``<name>-train`` and
        ``<name>-validation`` datasets, the first ``train_split_ratio`` of the rows first."""
        if not 0.0 < train_split_ratio < 1.0:
            raise ConfigurationError(
                f"train_split_ratio must be between 0.0 and 1.0, but got {train_split_ratio}."
            )
        path = Path(source)
        if not path.is_file():
            raise ConfigurationError(f"DataSet.split needs a local file, but {source} is not one.")
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        header = lines[:1] if path.suffix.lower() == ".csv" else []
        rows = lines[len(header) :]
        cut = int(len(rows) * train_split_ratio)
        if cut == 0 or cut == len(rows):
            raise ConfigurationError(
                f"{source} has {len(rows)} row(s): too few to split at {train_split_ratio}."
            )
        base = re.sub(r"[^a-zA-Z0-9-]+", "-", path.stem).strip("-") or "dataset"
        parts = []
        for part, chunk in (("train", rows[:cut]), ("validation", rows[cut:])):
            target = path.with_name(f"{path.stem}_{part}{path.suffix}")
            target.write_text("".join(header + chunk), encoding="utf-8")
            parts.append(cls.create(f"{base}-{part}", str(target), CustomizationTechnique.SFT))
        return parts[0], parts[1]

    def _session(self) -> Session:
        if self.sagemaker_session is None:
            self.sagemaker_session = Session()
        return self.sagemaker_session

    def __repr__(self) -> str:
        return f"DataSet(name={self.name!r}, version={self.version!r}, source={self.source!r})"


def check_dataset(source: str, technique: str, session: Session) -> None:
    """Check every line of the dataset at ``source`` (local path or ``s3://`` URI) by the
    dataset format of ``technique``'s fine-tuning program.

    Raises:
        ValueError: The first problem, naming the file, the line and the field, or a
            technique whose program reads no dataset.
    """
    from sageyard.programs import fine_tuning_program

    fine_tuning_program(technique, "customization_technique").check_dataset(source, session.objects)


def dataset_uri(dataset: Any) -> str:
    """The URI (or local path) of a dataset given as a string or a :class:`DataSet`."""
    if isinstance(dataset, DataSet):
        assert dataset.source is not None
        return dataset.source
    if isinstance(dataset, str) and _ARN.match(dataset):
        source = DataSet.get(dataset).source
        assert source is not None
        return source
    if not isinstance(dataset, str):
        raise ConfigurationError(
            f"A dataset must be a path, an s3:// URI or a DataSet, got {type(dataset).__name__}."
        )
    return dataset


def _live(records: list[JobRecord]) -> list[JobRecord]:
    """The dataset rows not deleted, in the store's order (newest first)."""
    return [record for record in records if record.status != DELETED]
