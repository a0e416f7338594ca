"""Files: atomic writes, JSON and safetensors with clear errors, and the provenance recorded with
every model and result (config, seed, package versions)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import sys
import tempfile
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .errors import UserError

logger = logging.getLogger(__name__)

_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read the process umask (there is no getter), leaving it unchanged


class CheckpointError(UserError):
    """A model folder that is missing, incomplete or corrupt."""


@contextmanager
def atomic_path(path: str | Path):
    """Yields a temporary path beside `path`; renamed onto it only if the block succeeds, so a
    failure never leaves a half-written file or destroys the previous one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, path)
    except OSError as exc:
        ours = (
            exc.filename is None
            or str(exc.filename) == str(path.parent)
            or os.path.basename(str(exc.filename)).startswith(f".{path.name}.")
        )
        if ours:  # the user asked for `path`, not for our temporary file
            raise type(exc)(exc.errno, exc.strerror, str(path)) from exc
        raise
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def usual_permissions(folder: str | Path) -> None:
    """Give the files of `folder` the permissions the umask asks for. transformers' save_pretrained
    writes model.safetensors through a private (0600) temporary file; a model other users cannot read
    is no use on a shared machine."""
    for path in Path(folder).iterdir():
        if path.is_file():
            os.chmod(path, 0o666 & ~_UMASK)


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def read_json(path: str | Path, *, what: str = "JSON file") -> Any:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: missing {what}")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path}: corrupt {what}: {exc}") from exc


def save_tensors(path: str | Path, tensors: dict[str, torch.Tensor]) -> None:
    with atomic_path(path) as tmp:
        save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(tmp))


def load_tensors(path: str | Path) -> dict[str, torch.Tensor]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: missing weights file")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: corrupt or unreadable safetensors file: {exc}") from exc


def load_state(module: torch.nn.Module, path: str | Path) -> None:
    """Load weights strictly; a mismatch names the file and the offending keys."""
    state = load_tensors(path)
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape)
    if missing or unexpected or wrong:
        raise CheckpointError(
            f"{path}: weights do not match the config beside them "
            f"(missing {missing[:5]}, unexpected {unexpected[:5]}, wrong shape {wrong[:5]})"
        )
    module.load_state_dict(state)


def package_versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in ("vqdna", "torch", "transformers", "tokenizers", "peft", "accelerate", "safetensors", "numpy"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


# ---------------------------------------------------------------------------------------------
# Output folders: every folder a command writes says what wrote it and for which inputs, so that no
# command writes into another's folder, a rerun with other inputs never reuses or relabels earlier
# results, and a finished run is never overwritten.
RUN_MARKER = "run.json"


def fingerprint(data: Any) -> str:
    """sha256 of canonical JSON: the same inputs and settings give the same fingerprint."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def file_identity(path: str | Path) -> dict[str, Any]:
    """How a run's input file is recorded: its absolute path, size and sha256, so that a file
    edited or replaced in place is another input (hashing runs at about 1 GB/s)."""
    path = Path(path).resolve()
    if not path.is_file():
        return {"path": str(path), "bytes": None, "sha256": None}
    return {"path": str(path), "bytes": path.stat().st_size, "sha256": file_sha256(path)}


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def claim_folder(
    folder: str | Path,
    command: str,
    inputs: dict[str, Any],
    *,
    resume: bool = False,
    legacy: Sequence[str] = (),
    legacy_finished: str | None = None,
    upgrade: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> str:
    """Make `folder` the output of this run of `command`, or refuse with a UserError that says what
    is there (nothing is changed). Returns "new" (empty or missing: now claimed), "resumed" (an
    interrupted run with the same inputs, and `resume`) or "finished" (a finished run with the same
    inputs; the caller reuses it or refuses).

    `legacy`: glob patterns of what `command` wrote before folders carried a marker; with `resume`
    such a folder is adopted (marked with these inputs) so that older runs still resume; it counts
    as finished if it holds `legacy_finished`. The caller compares what such a folder recorded.
    `upgrade` reads inputs recorded by an older vqdna as they are recorded today (same run, same
    inputs: the marker is rewritten in today's form)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder}: exists and is not a folder")
    marker = folder / RUN_MARKER
    digest = fingerprint(inputs)
    if marker.exists() and _nothing_but_marker(folder):
        marker.unlink()  # a run that failed before writing anything: nothing to keep, so the folder is free again
    if marker.exists():
        run = read_json(marker, what="run marker")
        if not isinstance(run, dict) or not {"command", "fingerprint", "inputs"} <= set(run):
            raise CheckpointError(
                f"{marker}: not a vqdna run marker; choose another output folder (nothing was changed)"
            )
        if run["command"] != command:
            raise UserError(
                f"{folder} holds the output of `vqdna {run['command']}`; `vqdna {command}` will not write into it "
                "(nothing was changed): choose another output folder"
            )
        if run["fingerprint"] != digest and upgrade is not None and fingerprint(upgrade(run["inputs"])) == digest:
            run = {**run, "fingerprint": digest, "inputs": inputs}
            write_json(marker, run)
        if run["fingerprint"] != digest:
            raise UserError(
                f"{folder} holds a `vqdna {command}` run with other inputs or settings ({differences(run['inputs'], inputs)}); "
                "it is neither reused nor overwritten: choose another output folder, or rerun with the same inputs"
            )
        if run.get("finished"):
            return "finished"
        if not resume:
            raise UserError(
                f"{folder} holds an interrupted `vqdna {command}` run with these inputs: pass --resume to continue it, "
                "or choose another output folder"
            )
        return "resumed"
    others = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    if others:
        is_legacy = any(any(folder.glob(pattern)) for pattern in legacy)
        if is_legacy and not resume:
            raise UserError(
                f"{folder} holds a `vqdna {command}` run from before run markers: pass --resume to continue or reuse it "
                "(its recorded settings are compared), or choose another output folder"
            )
        if not is_legacy:
            raise UserError(
                f"{folder} is not empty ({', '.join(others[:5])}{', ...' if len(others) > 5 else ''}) and holds no "
                f"{RUN_MARKER} of `vqdna {command}`; choose a new or empty output folder (nothing was changed)"
            )
        logger.warning(
            "%s: a `vqdna %s` folder from before run markers; taken as a run with these inputs", folder, command
        )
    finished = bool(others) and legacy_finished is not None and (folder / legacy_finished).is_file()
    write_json(
        marker,
        {
            "command": command,
            "fingerprint": digest,
            "finished": finished,
            "inputs": inputs,
            "versions": package_versions(),
        },
    )
    return "finished" if finished else "resumed" if others else "new"


def _nothing_but_marker(folder: Path) -> bool:
    """Whether `folder` holds only its run marker (and empty folders): an unfinished run that left
    nothing behind."""
    for path in folder.rglob("*"):
        if path.is_file() and path != folder / RUN_MARKER:
            return False
    marker = read_json(folder / RUN_MARKER, what="run marker")
    return isinstance(marker, dict) and not marker.get("finished")


def finish_folder(folder: str | Path) -> None:
    """Mark the run in `folder` finished (after all its outputs are written)."""
    marker = Path(folder) / RUN_MARKER
    write_json(marker, {**read_json(marker, what="run marker"), "finished": True})


def differences(old: Any, new: Any, prefix: str = "", limit: int = 4) -> str:
    """'key: old -> new' for the first few settings that differ between two runs' inputs."""
    found: list[str] = []

    def walk(a, b, key):
        if len(found) >= limit or a == b:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            # plain values before nested settings: a changed kind or path says more than its consequences
            keys = sorted(
                set(a) | set(b), key=lambda k: (isinstance(a.get(k), dict) or isinstance(b.get(k), dict), str(k))
            )
            for k in keys:
                walk(a.get(k), b.get(k), f"{key}.{k}" if key else str(k))
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b)):
                walk(x, y, f"{key}[{i}]")
        else:
            found.append(f"{key or 'inputs'}: {_short(a)} -> {_short(b)}")

    walk(old, new, prefix)
    return "; ".join(found) or "the fingerprint differs"


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."
