"""Uploading an export folder to the Hugging Face Hub in one commit.

`push_to_hub` re-encodes a `datasets.Dataset` in memory, which runs out of memory on large
image sets. Instead the files already on disk are pre-uploaded (LFS files stream from disk, a
few at a time), then a single commit adds them all: a reader never sees a half-uploaded dataset, and
a failed upload leaves the repository as it was. The token comes from `HF_TOKEN` or
`hf auth login`; it is handed to huggingface_hub and never printed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from huggingface_hub import CommitOperationAdd, HfApi
from huggingface_hub.errors import HfHubHTTPError, HFValidationError, OfflineModeIsEnabled
from huggingface_hub.utils import validate_repo_id

from curate.io import storage
from curate.outputs.export.base import ExportError


@dataclass
class UploadResult:
    repo_id: str
    revision: str
    commit_url: str
    files: list[str]


def _local_files(folder: str) -> list[tuple[str, str]]:
    """(path in repo, local path) for every file under the export folder, sorted."""
    if not storage.is_local(folder):
        raise ExportError("--to-hub uploads a local export folder; export locally first")
    files = []
    for root, _dirs, names in os.walk(folder):
        for name in names:
            if name.startswith(".") or ".tmp-" in name:
                continue
            path = os.path.join(root, name)
            files.append((os.path.relpath(path, folder).replace(os.sep, "/"), path))
    return sorted(files)


def check_repo_id(repo_id: str) -> None:
    """An invalid repo id is refused before anything is exported."""
    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        raise ExportError(
            f"--to-hub {repo_id!r} is not a Hub repo id; use user/name or org/name (letters, "
            "digits, '-', '_', '.')"
        ) from None
    if repo_id.count("/") != 1:
        raise ExportError(f"--to-hub {repo_id!r}: name the owner too, as user/name or org/name")


def planned_upload(folder: str) -> list[tuple[str, int]]:
    """(path in repo, bytes) of each file `upload_folder` would send: what --dry-run prints."""
    return [(repo_path, os.path.getsize(path)) for repo_path, path in _local_files(folder)]


def upload_folder(
    folder: str,
    repo_id: str,
    private: bool = False,
    revision: str | None = None,
    endpoint: str | None = None,
    message: str = "Upload dataset exported by curate",
) -> UploadResult:
    """Create the dataset repo if needed, pre-upload every file, then make one commit."""
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes", "on"):
        raise ExportError("HF_HUB_OFFLINE is set; unset it to upload to the Hub")
    api = HfApi(endpoint=endpoint or os.environ.get("HF_ENDPOINT") or None)
    files = _local_files(folder)
    additions = [
        CommitOperationAdd(path_in_repo=repo_path, path_or_fileobj=path)
        for repo_path, path in files
    ]
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        if revision:
            api.create_branch(repo_id, repo_type="dataset", branch=revision, exist_ok=True)
        api.preupload_lfs_files(
            repo_id, additions=additions, repo_type="dataset", revision=revision
        )
        commit = api.create_commit(
            repo_id,
            operations=additions,
            commit_message=message,
            repo_type="dataset",
            revision=revision,
        )
    except OfflineModeIsEnabled as exc:
        raise ExportError("HF_HUB_OFFLINE is set; unset it to upload to the Hub") from exc
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        hint = " Log in with `hf auth login` or set HF_TOKEN." if status in (401, 403) else ""
        raise ExportError(
            f"the Hub refused the upload to {repo_id} (HTTP {status}).{hint}"
        ) from exc
    except Exception as exc:  # the HTTP library's own errors (no network, DNS, TLS) vary
        raise ExportError(
            f"could not reach the Hub at {api.endpoint} ({type(exc).__name__}: {exc}); the export "
            f"in {folder} is complete: upload it later with the same command, or with "
            f"`hf upload {repo_id} {folder} --repo-type dataset`"
        ) from None
    return UploadResult(repo_id, revision or "main", commit.commit_url, [p for p, _ in files])
