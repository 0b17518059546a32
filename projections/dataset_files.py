"""A dataset on disk: Parquet and JSONL shards of the same rows, and a manifest.

The bytes depend on nothing but the rows and the manifest's fields (no clock, no host, no
random order), so the same log gives byte-identical files. The manifest is written last: a
folder without one is an unfinished build.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

FORMAT = "confab-sft/1"
MANIFEST = "manifest.json"

MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])
SCHEMA = pa.schema(
    [
        ("example_id", pa.string()),
        ("conversation_id", pa.string()),
        ("split", pa.string()),
        ("source", pa.string()),
        ("model", pa.string()),
        ("model_version", pa.string()),
        ("bot_id", pa.string()),
        ("prompt_source", pa.string()),
        ("messages", pa.list_(MESSAGE)),
        ("rating", pa.int8()),
        ("feedback_comment", pa.string()),
        ("event_positions", pa.list_(pa.int64())),
    ]
)


def write_dataset(
    out: Path, rows: list[dict[str, Any]], manifest: dict[str, Any], shard_rows: int
) -> dict[str, Any]:
    """Write the shards and then the manifest (with each file's sha256); returns the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    for stale in [out / MANIFEST, *out.glob("examples-*")]:
        stale.unlink(missing_ok=True)
    files = []
    shards = [rows[i : i + shard_rows] for i in range(0, len(rows), shard_rows)] or [[]]
    for index, shard in enumerate(shards):
        stem = out / f"examples-{index:05d}"
        parquet, jsonl = stem.with_suffix(".parquet"), stem.with_suffix(".jsonl")
        table = pa.Table.from_pylist(shard, schema=SCHEMA)
        pq.write_table(table, parquet, compression="zstd", compression_level=3)
        jsonl.write_text("".join(canonical_json(row) + "\n" for row in shard), encoding="utf-8")
        files += [_file_entry(out, parquet, len(shard)), _file_entry(out, jsonl, len(shard))]
    full = {"format": FORMAT, **manifest, "files": files}
    (out / MANIFEST).write_text(json.dumps(full, indent=2, sort_keys=True) + "\n")
    return full


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.exists():
        raise FileNotFoundError(f"{folder} holds no dataset manifest ({MANIFEST})")
    manifest: dict[str, Any] = json.loads(path.read_text())
    return manifest


def read_rows(folder: Path) -> list[dict[str, Any]]:
    """Every row of a dataset, from its Parquet shards, after checking their sha256."""
    rows: list[dict[str, Any]] = []
    for entry in read_manifest(folder)["files"]:
        path = folder / entry["path"]
        if sha256_of(path) != entry["sha256"]:
            raise ValueError(f"{path} does not match the manifest's sha256")
        if path.suffix == ".parquet":
            rows += pq.read_table(path).to_pylist()
    return rows


def manifest_sha256(folder: Path) -> str:
    return sha256_of(folder / MANIFEST)


def canonical_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_entry(out: Path, path: Path, rows: int) -> dict[str, Any]:
    return {
        "path": path.name,
        "rows": rows,
        "bytes": path.stat().st_size,
        "sha256": sha256_of(path),
    }
