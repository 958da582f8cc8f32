"""TFLite metadata for the exported .tflite files: written, and read back, without tflite-support.

The TFLite metadata standard (tflite-support's metadata_schema.fbs, file identifier "M001") is a
ModelMetadata flatbuffer stored in one of the model's buffers and named "TFLITE_METADATA" in the
model's `metadata` list; Android Studio's ML binding and tflite-support's MetadataDisplayer read it.
tflite-support itself pins protobuf < 4, which TensorFlow 2.21 cannot share, so this module builds
the few tables it needs with the flatbuffers package TensorFlow already installs:

  ModelMetadata    name, description, version, subgraph_metadata, author, license (min_parser_version 1.0.0)
  SubGraphMetadata name, description, input_tensor_metadata, output_tensor_metadata
  TensorMetadata   name, description, dimension_names, content (FeatureProperties, or ImageProperties
                   GRAYSCALE for images), stats (min, max)

Input and output tensors are described in the order of the subgraph's inputs and outputs, matched
through the model's signature (its input names). `read` parses them back into a dict.
"""

from __future__ import annotations

from typing import Optional

import flatbuffers
from flatbuffers import number_types, table

IDENTIFIER = b"M001"
NAME = "TFLITE_METADATA"
_FEATURE, _IMAGE = 1, 2  # ContentProperties union: FeatureProperties, ImageProperties
_GRAYSCALE = 2  # ColorSpaceType


def _strings(builder, values):
    offsets = [builder.CreateString(v) for v in values]
    builder.StartVector(4, len(offsets), 4)
    for offset in reversed(offsets):
        builder.PrependUOffsetTRelative(offset)
    return builder.EndVector()


def _tables(builder, offsets):
    builder.StartVector(4, len(offsets), 4)
    for offset in reversed(offsets):
        builder.PrependUOffsetTRelative(offset)
    return builder.EndVector()


def _floats(builder, values):
    builder.StartVector(4, len(values), 4)
    for value in reversed(values):
        builder.PrependFloat32(value)
    return builder.EndVector()


def _tensor(builder, tensor: dict) -> int:
    """One TensorMetadata: {'name', 'description', 'dimensions': [str], 'range': (min|None, max|None), 'image'}."""
    name, description = builder.CreateString(tensor["name"]), builder.CreateString(tensor["description"])
    dimensions = _strings(builder, tensor["dimensions"])
    builder.StartObject(2 if tensor.get("image") else 0)  # ImageProperties(color_space) or FeatureProperties()
    if tensor.get("image"):
        builder.PrependInt8Slot(0, _GRAYSCALE, 0)
    properties = builder.EndObject()
    builder.StartObject(3)  # Content: content_properties_type, content_properties, range
    builder.PrependUint8Slot(0, _IMAGE if tensor.get("image") else _FEATURE, 0)
    builder.PrependUOffsetTRelativeSlot(1, properties, 0)
    content = builder.EndObject()
    low, high = tensor.get("range", (None, None))
    stats = None
    if low is not None or high is not None:
        maximum = _floats(builder, [high] if high is not None else [])
        minimum = _floats(builder, [low] if low is not None else [])
        builder.StartObject(2)  # Stats: max, min
        builder.PrependUOffsetTRelativeSlot(0, maximum, 0)
        builder.PrependUOffsetTRelativeSlot(1, minimum, 0)
        stats = builder.EndObject()
    builder.StartObject(7)  # TensorMetadata
    builder.PrependUOffsetTRelativeSlot(0, name, 0)
    builder.PrependUOffsetTRelativeSlot(1, description, 0)
    builder.PrependUOffsetTRelativeSlot(2, dimensions, 0)
    builder.PrependUOffsetTRelativeSlot(3, content, 0)
    if stats is not None:
        builder.PrependUOffsetTRelativeSlot(5, stats, 0)
    return builder.EndObject()


def build(name: str, description: str, version: str, inputs: list, outputs: list, author: str = "vamp_tf",
          license_: str = "Apache-2.0") -> bytes:
    """The ModelMetadata flatbuffer ("M001") of a model with one subgraph; inputs and outputs as _tensor takes."""
    builder = flatbuffers.Builder(1024)
    input_tables = [_tensor(builder, t) for t in inputs]
    output_tables = [_tensor(builder, t) for t in outputs]
    input_vector, output_vector = _tables(builder, input_tables), _tables(builder, output_tables)
    subgraph_name, subgraph_description = builder.CreateString(name), builder.CreateString(description)
    builder.StartObject(4)  # SubGraphMetadata
    builder.PrependUOffsetTRelativeSlot(0, subgraph_name, 0)
    builder.PrependUOffsetTRelativeSlot(1, subgraph_description, 0)
    builder.PrependUOffsetTRelativeSlot(2, input_vector, 0)
    builder.PrependUOffsetTRelativeSlot(3, output_vector, 0)
    subgraph = builder.EndObject()
    subgraphs = _tables(builder, [subgraph])
    strings = [builder.CreateString(s) for s in (name, description, version, author, license_, "1.0.0")]
    builder.StartObject(8)  # ModelMetadata
    for slot, offset in zip((0, 1, 2, 4, 5, 7), strings):
        builder.PrependUOffsetTRelativeSlot(slot, offset, 0)
    builder.PrependUOffsetTRelativeSlot(3, subgraphs, 0)
    builder.Finish(builder.EndObject(), file_identifier=IDENTIFIER)
    return bytes(builder.Output())


def attach(model: bytes, metadata: bytes) -> bytes:
    """The .tflite bytes with `metadata` stored in a new buffer named TFLITE_METADATA (replacing an older one)."""
    from tensorflow.lite.python import schema_py_generated as schema  # pylint: disable=import-outside-toplevel
    from tensorflow.lite.tools import flatbuffer_utils  # pylint: disable=import-outside-toplevel
    tree = flatbuffer_utils.convert_bytearray_to_object(bytearray(model))
    buffer = schema.BufferT()
    buffer.data = list(metadata)
    tree.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name, entry.buffer = NAME, len(tree.buffers) - 1
    tree.metadata = [m for m in tree.metadata or [] if m.name.decode() != NAME] + [entry]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(tree))


def signature_order(model: bytes, signature: str) -> tuple[list, list]:
    """(input names, output names) of `signature` in the order of its subgraph's input and output tensors."""
    from tensorflow.lite.tools import flatbuffer_utils  # pylint: disable=import-outside-toplevel
    tree = flatbuffer_utils.convert_bytearray_to_object(bytearray(model))
    found = [s for s in tree.signatureDefs if s.signatureKey.decode() == signature]
    if not found:
        raise ValueError(f"the model has no signature {signature!r}")
    sig = found[0]
    graph = tree.subgraphs[sig.subgraphIndex]
    by_tensor = lambda maps: {m.tensorIndex: m.name.decode() for m in maps}  # noqa: E731
    inputs, outputs = by_tensor(sig.inputs), by_tensor(sig.outputs)
    return [inputs[i] for i in graph.inputs], [outputs[i] for i in graph.outputs]


# --- reading ------------------------------------------------------------------------------------------
def _string(t: table.Table, slot: int) -> Optional[str]:
    offset = t.Offset(4 + 2 * slot)
    return t.String(offset + t.Pos).decode() if offset else None


def _vector_tables(t: table.Table, slot: int) -> list:
    offset = t.Offset(4 + 2 * slot)
    if not offset:
        return []
    start, count = t.Vector(offset), t.VectorLen(offset)
    return [table.Table(t.Bytes, t.Indirect(start + 4 * i)) for i in range(count)]


def _vector_strings(t: table.Table, slot: int) -> list:
    offset = t.Offset(4 + 2 * slot)
    if not offset:
        return []
    start = t.Vector(offset)
    return [t.String(start + 4 * i).decode() for i in range(t.VectorLen(offset))]


def _vector_floats(t: table.Table, slot: int) -> list:
    offset = t.Offset(4 + 2 * slot)
    if not offset:
        return []
    start = t.Vector(offset)
    return [t.Get(number_types.Float32Flags, start + 4 * i) for i in range(t.VectorLen(offset))]


def _subtable(t: table.Table, slot: int) -> Optional[table.Table]:
    offset = t.Offset(4 + 2 * slot)
    return table.Table(t.Bytes, t.Indirect(offset + t.Pos)) if offset else None


def _read_tensor(t: table.Table) -> dict:
    content, stats = _subtable(t, 3), _subtable(t, 5)
    kind = content.Get(number_types.Uint8Flags, content.Offset(4) + content.Pos) if content and content.Offset(4) \
        else 0
    minimum, maximum = (_vector_floats(stats, 1), _vector_floats(stats, 0)) if stats else ([], [])
    return {"name": _string(t, 0), "description": _string(t, 1), "dimensions": _vector_strings(t, 2),
            "content": {_FEATURE: "feature", _IMAGE: "image"}.get(kind, "none"),
            "range": (minimum[0] if minimum else None, maximum[0] if maximum else None)}


def read(model: bytes) -> Optional[dict]:
    """The model's TFLITE_METADATA as a dict (name, description, version, author, license, inputs, outputs),
    or None if it carries none."""
    from tensorflow.lite.tools import flatbuffer_utils  # pylint: disable=import-outside-toplevel
    tree = flatbuffer_utils.convert_bytearray_to_object(bytearray(model))
    entries = [m for m in tree.metadata or [] if m.name.decode() == NAME]
    if not entries:
        return None
    data = bytearray(tree.buffers[entries[0].buffer].data)
    if data[4:8] != IDENTIFIER:
        raise ValueError(f"{NAME} is not a metadata flatbuffer (identifier {bytes(data[4:8])!r}, expected M001)")
    root = table.Table(data, flatbuffers.encode.Get(flatbuffers.packer.uoffset, data, 0))
    subgraph = _vector_tables(root, 3)[0]
    return {"name": _string(root, 0), "description": _string(root, 1), "version": _string(root, 2),
            "author": _string(root, 4), "license": _string(root, 5), "min_parser_version": _string(root, 7),
            "inputs": [_read_tensor(t) for t in _vector_tables(subgraph, 2)],
            "outputs": [_read_tensor(t) for t in _vector_tables(subgraph, 3)]}
