"""``DataSet``: a fine-tuning dataset registered by name, each ``create`` a new version.

The file is checked (every line, for the technique given) before anything is written, then
copied into the object store; the registry row (kind ``DataSet`` in the job store) records
where. Trainers accept a ``DataSet`` wherever they accept a dataset URI.

Facade by nature, at the path the real SDK fixes (``sagemaker.ai_registry.dataset``): it
takes a ``Session`` and checks files by the fine-tuning programs' dataset formats, so it
counts as the ``train`` layer (``tests/unit/test_layers.py``); only the facade imports it.

Example:
    >>> from sageyard.ai_registry.dataset import DataSet
    >>> from sageyard.core.enums import CustomizationTechnique
    >>> technique = CustomizationTechnique.SFT
    >>> ds = DataSet.create("support-sft", "train.jsonl", technique)  # doctest: +SKIP
    >>> DataSet.get("support-sft").source  # doctest: +SKIP
    's3://sagemaker-us-west-2-000000000000/datasets/support-sft/1/train.jsonl'
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sageyard.core.enums import CustomizationTechnique
from sageyard.core.exceptions import ConfigurationError, ResourceInUse, ResourceNotFound
from sageyard.core.session import Session
from sageyard.store import JobRecord, open_store

__all__ = ["DataSet", "check_dataset", "dataset_uri"]

KIND = "DataSet"
_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_ARN = re.compile(r"^arn:aws:sagemaker:[^:]*:[^:]*:hub-content/.*/DataSet/([^/]+)(?:/(\d+))?$")


class DataSet:
    """A registered dataset: its name, version and where its JSONL file lives."""

    def __init__(
        self,
        name: str,
        arn: str,
        version: str,
        status: str,
        source: str | None = None,
        description: str | None = None,
        customization_technique: CustomizationTechnique | None = None,
        created_time: datetime | None = None,
        sagemaker_session: Session | None = None,
    ) -> None:
        self.name = name
        self.arn = arn
        self.version = version
        self.status = status
        self.source = source
        self.description = description
        self.customization_technique = customization_technique
        self.created_time = created_time
        self.sagemaker_session = sagemaker_session

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
        sagemaker_session: Session | None = None,
    ) -> DataSet:
        """Check ``source`` (a local JSONL file or an ``s3://`` URI), store it, register it.

        Raises:
            ValueError: A bad name, or a dataset that fails the technique's checks (the
                message names the file, line and field). Nothing is written then.
        """
        if not _NAME.match(name):
            raise ConfigurationError(
                f"DataSet name {name!r} is not valid: use 1-63 letters, digits and hyphens."
            )
        technique = (
            CustomizationTechnique(customization_technique)
            if customization_technique is not None
            else None
        )
        session = sagemaker_session or Session()
        check_dataset(source, technique.value if technique else "sft", session)
        store = open_store(session.settings.store_url)
        version = len(store.list(KIND, parent=name)) + 1
        uri = source
        if not source.startswith("s3://"):
            from sageyard.storage import upload_path

            folder = f"s3://{session.default_bucket()}/datasets/{name}/{version}"
            uri = upload_path(session.objects, Path(source).resolve(), folder)
        arn = (
            f"arn:aws:sagemaker:{session.settings.region}:{session.settings.account_id}:"
            f"hub-content/sageyard/DataSet/{name}/{version}"
        )
        document = {
            "arn": arn,
            "version": str(version),
            "source": uri,
            "description": description,
            "customization_technique": technique.value if technique else None,
            "tags": [list(tag) for tag in tags or []],
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
            versions = store.list(KIND, parent=name, limit=1)
            record = versions[0] if versions else None
        if record is None or record.kind != KIND:
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
            created_time=datetime.fromtimestamp(record.created_at, UTC),
            sagemaker_session=session,
        )

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
