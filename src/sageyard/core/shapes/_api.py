"""Every other shape of the SageMaker API, built on first use from botocore's service model.

The real SDK generates ``sagemaker.core.shapes`` (one pydantic class per structure of the
API) from the botocore service model; sageyard builds the same classes from the same model
when a name is first asked for, so importing :mod:`sageyard.core.shapes` stays light::

    >>> from sageyard.core.shapes import AlgorithmSpecification
    >>> spec = AlgorithmSpecification(training_input_mode="File", training_image="img")
    >>> spec.to_request()
    {'TrainingInputMode': 'File', 'TrainingImage': 'img'}

How a structure becomes a class, as the real SDK's generator does it:

- a member ``S3Uri`` is the field ``s3_uri`` (the reference's snake-casing, kept exactly);
  ``to_request()``/``from_request()`` use the member's own spelling (``AutoMLJobName``);
- required members are required, in front; the others are optional with ``None``;
- strings (enums too) are ``str``, integers and longs ``int``, floats and doubles ``float``,
  booleans ``bool``, timestamps ``datetime``, blobs ``Any``; lists are ``list[...]``, maps
  ``dict[str, ...]``, and a nested structure is its own built class (recursion works);
- a structure sageyard writes by hand (``Channel``, ``StoppingCondition``, ...) is used where
  another shape nests it, so its rules hold there too.

Two members are renamed because Python refuses their names: ``Lambda``
(``PipelineExecutionStepMetadata.lambda_``; the real SDK leaves it out) and ``ModelConfig``
(``model_config_``: pydantic's own attribute).
"""

from __future__ import annotations

import datetime
import keyword
import re
import threading
import types
import warnings
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict

from sageyard.core.shapes._base import Shape

SERVICE = "sagemaker"
#: The public home of the built classes (their ``__module__``; pickling finds them there).
HOME = "sageyard.core.shapes"

#: Structures that are not offered by name: ``BaseModel`` would shadow pydantic's. (Built
#: all the same where another shape nests it.)
UNLISTED = frozenset({"BaseModel"})

#: Members the service model calls required that the service leaves out of some responses
#: (the real SDK's ``REQUIRED_TO_OPTIONAL_OVERRIDES``).
OPTIONAL_MEMBERS: Mapping[str, frozenset[str]] = {
    "InferenceComponentComputeResourceRequirements": frozenset({"MinMemoryRequiredInMb"}),
    "DescribeModelPackageOutput": frozenset({"ModelPackageName"}),
    "ModelPackageSecurityConfig": frozenset({"KmsKeyId"}),
    "S3ModelDataSource": frozenset({"S3Uri"}),
    "DataCaptureConfigSummary": frozenset({"KmsKeyId"}),
}

_SCALARS = {
    "string": "str",
    "integer": "int",
    "long": "int",
    "boolean": "bool",
    "float": "float",
    "double": "float",
    "timestamp": "datetime.datetime",
    "blob": "Any",
}
_TAGS = re.compile(r"<[^>]*>")
_PYDANTIC = frozenset(dir(BaseModel))
_OWN = frozenset(dir(Shape)) - _PYDANTIC  # Shape's own methods: to_request, ...

_lock = threading.RLock()
_built: dict[str, type[Shape]] = {}


class _Built(Shape):
    """The base of the built shapes: their schemas are built once all of a closure exists."""

    model_config = ConfigDict(defer_build=True)


def snake_case(name: str) -> str:
    """The real SDK's field name of an API member (its ``convert_to_snake_case``).

    Example:
        >>> snake_case("S3Uri"), snake_case("VolumeSizeInGB"), snake_case("AutoMLJobName")
        ('s3_uri', 'volume_size_in_gb', 'auto_ml_job_name')
    """
    words = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z0-9])([A-Z])", r"\1_\2", words).lower()


def field_name(member: str) -> str:
    """``snake_case(member)``, with ``_`` appended where Python, pydantic or Shape need the
    name (a keyword, pydantic's ``model_*`` attributes, Shape's methods)."""
    name = snake_case(member)
    if keyword.iskeyword(name) or name in _OWN or (name.startswith("model_") and name in _PYDANTIC):
        return name + "_"
    return name


@cache
def service_shapes() -> Mapping[str, Any]:
    """The shapes of botocore's SageMaker service model (loaded once, on first use)."""
    from botocore.loaders import create_loader

    model: Mapping[str, Any] = create_loader().load_service_model(SERVICE, "service-2")
    return model["shapes"]


@cache
def names() -> frozenset[str]:
    """Every structure of the API offered by name."""
    return frozenset(
        name
        for name, shape in service_shapes().items()
        if shape.get("type") == "structure" and name not in UNLISTED
    )


def shape(name: str, hand_written: Mapping[str, Any]) -> type[Shape]:
    """The class of the API structure ``name``, built (with what it nests) on first use.

    ``hand_written``: the namespace of sageyard's own shapes (the package's); a structure
    of one of its names is that class wherever another shape nests it.

    Raises:
        AttributeError: the API has no structure of that name.
    """
    if name not in names():
        raise AttributeError(f"module {HOME!r} has no attribute {name!r}")
    found = _built.get(name)
    if found is not None:
        return found
    own = {
        key: value
        for key, value in hand_written.items()
        if isinstance(value, type) and issubclass(value, BaseModel) and key in names()
    }
    with _lock:
        if name not in _built:
            _build_closure(name, own)
        return _built[name]


def _build_closure(name: str, hand: Mapping[str, type[BaseModel]]) -> None:
    """Build ``name`` and every structure it reaches that is neither built nor hand-written.

    Classes are made first, their schemas after (leaves first), once every name they
    mention exists: that is what lets recursive shapes refer to themselves.
    """
    shapes = service_shapes()
    order: list[str] = []
    seen: set[str] = set()

    def visit(current: str) -> None:  # depth first; a node after what it nests
        seen.add(current)
        for nested in _nested_structures(shapes, current):
            if nested not in seen and nested not in _built and nested not in hand:
                visit(nested)
        order.append(current)

    visit(name)
    with warnings.catch_warnings():
        # members such as "json" shadow BaseModel methods, as in the real SDK
        warnings.filterwarnings("ignore", message=".*shadows an attribute.*")
        made = {each: _make_class(each, shapes[each]) for each in order}
    namespace: dict[str, Any] = {
        **hand,
        **_built,
        **made,
        "datetime": datetime,
        "Any": Any,
    }
    for each in order:
        made[each].model_rebuild(force=True, _types_namespace=namespace)
    _built.update(made)


def _nested_structures(shapes: Mapping[str, Any], name: str) -> Iterator[str]:
    for member in shapes[name].get("members", {}).values():
        yield from _structures_in(shapes, member["shape"])


def _structures_in(shapes: Mapping[str, Any], name: str) -> Iterator[str]:
    shape_ = shapes[name]
    kind = shape_["type"]
    if kind == "structure":
        yield name
    elif kind == "list":
        yield from _structures_in(shapes, shape_["member"]["shape"])
    elif kind == "map":
        yield from _structures_in(shapes, shape_["value"]["shape"])


def _annotation(shapes: Mapping[str, Any], name: str) -> str:
    shape_ = shapes[name]
    kind = shape_["type"]
    if kind == "structure":
        return name
    if kind == "list":
        return f"list[{_annotation(shapes, shape_['member']['shape'])}]"
    if kind == "map":
        return f"dict[str, {_annotation(shapes, shape_['value']['shape'])}]"
    return _SCALARS[kind]


def _make_class(name: str, definition: Mapping[str, Any]) -> type[Shape]:
    shapes = service_shapes()
    members: Mapping[str, Any] = definition.get("members", {})
    required = [
        m
        for m in definition.get("required", [])
        if m in members and m not in OPTIONAL_MEMBERS.get(name, frozenset())
    ]
    annotations: dict[str, str] = {}
    namespace: dict[str, Any] = {}
    api_names: dict[str, str] = {}
    for member in [*required, *(m for m in members if m not in required)]:
        field = field_name(member)
        annotation = _annotation(shapes, members[member]["shape"])
        if member in required:
            annotations[field] = annotation
        else:
            annotations[field] = f"{annotation} | None"
            namespace[field] = None
        api_names[field] = member
    namespace.update(
        {
            "__module__": HOME,
            "__qualname__": name,
            "__doc__": _docstring(name, definition),
            "__annotations__": annotations,
            "__api_names__": api_names,
        }
    )
    # as a class statement would; the schema is built later, from the closure's namespace
    cls = types.new_class(
        name,
        (_Built,),
        {"__pydantic_reset_parent_namespace__": False},
        lambda body: body.update(namespace),
    )
    assert issubclass(cls, Shape)
    return cls


def _docstring(name: str, definition: Mapping[str, Any]) -> str:
    text = " ".join(_TAGS.sub(" ", definition.get("documentation", "")).split())
    summary = text.split(". ")[0].rstrip(".") + "." if text else ""
    return (
        f"{name}: a shape of the SageMaker API (built from botocore's service model).\n\n"
        f"{summary}\n"
    )
