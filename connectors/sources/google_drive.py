"""The `google-drive` source: Google Docs (and Markdown files) in a Drive folder and its
subfolders, read with a service account.

A listing per folder gives each file's `modifiedTime` (the version) and the formats Drive can
export it to; a Doc is exported as Markdown where Drive offers that, else as HTML, and goes
through the same extraction as a file on disk. Files uploaded to the folder are picked by the
rule every folder and repository source shares (`repository.chosen`): the paths `glob`
matches (`**/*.md`), and text files with no extension; Word files are read as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import requests
from pydantic import Field, field_validator

from connectors.config import BuildContext, Remote, SourceSection, check_readable
from connectors.sources.content import MAX_FILE_BYTES, WORD_SUFFIX, decode_text, document_of
from connectors.sources.folder import DEFAULT_GLOBS, extensionless_document
from connectors.sources.http import HttpReader, timestamp
from connectors.sources.repository import matches
from syncer.errors import DocumentError, FatalError, SkippableError
from syncer.model import Document, DocumentRef

API = "https://www.googleapis.com/drive/v3"
SCOPES = ("https://www.googleapis.com/auth/drive.readonly",)
DOC = "application/vnd.google-apps.document"
FOLDER = "application/vnd.google-apps.folder"
MARKDOWN_FILES = ("text/markdown", "text/x-markdown")
WORD_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_FIELDS = (
    "nextPageToken,files(id,name,mimeType,modifiedTime,createdTime,webViewLink,size,"
    "exportLinks,owners(displayName,emailAddress))"
)
_RATE_REASONS = ("rateLimitExceeded", "userRateLimitExceeded")


Entries = list[dict[str, Any]]  # JSON objects of a listing


@dataclass(frozen=True, slots=True)
class DriveOptions:
    folder_id: str
    credentials_file: str | None = None  # a service account's JSON key; else the environment's
    export: Literal["auto", "markdown", "html"] = "auto"
    recursive: bool = True
    globs: tuple[str, ...] = DEFAULT_GLOBS  # uploaded files read, by their path in the folder
    api: str = API
    timeout: float = 30.0
    max_wait: float = 600.0
    backoff: float = 2.0


def drive_session(options: DriveOptions) -> requests.Session:
    """A session that signs every request with a fresh access token (google-auth)."""
    import google.auth
    from google.auth.exceptions import GoogleAuthError
    from google.auth.transport.requests import AuthorizedSession
    from google.oauth2 import service_account

    try:
        if options.credentials_file:
            read = service_account.Credentials.from_service_account_file
            credentials = read(options.credentials_file, scopes=SCOPES)  # type: ignore[no-untyped-call]
        else:
            credentials, _ = google.auth.default(scopes=SCOPES)
    except (GoogleAuthError, OSError, ValueError) as exc:
        where = options.credentials_file or "the environment"
        raise FatalError(f"google drive: no usable credentials in {where}: {exc}") from None
    return AuthorizedSession(credentials)  # type: ignore[no-untyped-call]


def _rate_limited(response: requests.Response) -> bool:
    """Drive says "slow down" as a 403 with a rate-limit reason."""
    return response.status_code == 403 and any(r in response.text for r in _RATE_REASONS)


class GoogleDriveSource:
    remote = True
    whole_reads = True  # a file is exported whole: never caught half written

    def __init__(
        self,
        name: str,
        options: DriveOptions,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.name = name
        self.options = options
        self._session = session
        self._sleep = sleep
        self._http: HttpReader | None = None
        self._exports: dict[str, str] = {}  # file id -> what to ask for: export type or media

    @property
    def http(self) -> HttpReader:
        if self._http is None:  # credentials are read on first use, not at construction
            from google.auth.exceptions import GoogleAuthError

            self._http = HttpReader(
                f"google drive {self.name}",
                self._session or drive_session(self.options),
                timeout=self.options.timeout,
                max_wait=self.options.max_wait,
                backoff=self.options.backoff,
                sleep=self._sleep,
                rate_limited=_rate_limited,
                sign_in_errors=(GoogleAuthError,),
                source=self.name,
            )
        return self._http

    def list(self) -> Sequence[DocumentRef]:
        refs: dict[str, DocumentRef] = {}
        folders = [(self.options.folder_id, "")]
        seen = {self.options.folder_id}
        while folders:
            folder, prefix = folders.pop(0)
            for entry in self._children(folder):
                name = str(entry.get("name") or entry["id"])
                if entry.get("mimeType") == FOLDER:
                    if self.options.recursive and entry["id"] not in seen:
                        seen.add(entry["id"])
                        folders.append((entry["id"], f"{prefix}{name}/"))
                    continue
                ref = self._ref(entry, prefix + name)
                if ref is not None:
                    refs.setdefault(ref.id, ref)
        return sorted(refs.values(), key=lambda ref: ref.uri)

    def fetch(self, ref: DocumentRef) -> Document:
        how = self._exports.get(ref.id, "text/html")
        title = ref.uri.removeprefix("gdrive:").rsplit("/", 1)[-1]
        what = f"google drive file {ref.id}"
        try:
            if how in ("media", "word"):
                url, params = f"{self.options.api}/files/{ref.id}", {"alt": "media"}
            else:
                url, params = f"{self.options.api}/files/{ref.id}/export", {"mimeType": how}
            params["supportsAllDrives"] = "true"
            raw = self.http.get(url, params, what=what).content
        except SkippableError as exc:
            raise DocumentError(ref.uri, str(exc).removeprefix(what + ": ")) from None
        if len(raw) > MAX_FILE_BYTES:
            raise DocumentError(ref.uri, f"{len(raw):,} bytes is more than the 5 MiB limit")
        if how == "word":  # a Word file kept on Drive, read as it is
            return document_of(ref, f"{ref.id}{WORD_SUFFIX}", raw, title.removesuffix(WORD_SUFFIX))
        text = decode_text(raw, ref.uri)  # Drive's text exports start with a byte-order mark
        return Document(ref, title, text, "html" if how == "text/html" else "markdown")

    def _children(self, folder: str) -> Entries:
        """Every file and folder in `folder`: uploaded files are picked by their path."""
        query = f"'{folder}' in parents and trashed = false"
        params: dict[str, Any] = {
            "q": query,
            "fields": _FIELDS,
            "pageSize": 100,
            "orderBy": "name",
            "supportsAllDrives": "true",
            "includeItemsFromAllDrives": "true",
        }
        found: Entries = []
        what = f"google drive {self.name}: folder {folder}"
        while True:
            data = self.http.json(f"{self.options.api}/files", params, what=what)
            files = data.get("files")
            if not isinstance(files, list):
                raise SkippableError(f"{what}: unexpected answer (no files list)")
            found += [f for f in files if isinstance(f, dict) and f.get("id")]
            token = data.get("nextPageToken")
            if not token:
                return found
            params = {**params, "pageToken": token}

    def _ref(self, entry: dict[str, Any], path: str) -> DocumentRef | None:
        file_id = str(entry["id"])
        kind = entry.get("mimeType")
        if kind == DOC:
            offered = entry.get("exportLinks") or {}
            wants_markdown = self.options.export == "markdown" or (
                self.options.export == "auto" and "text/markdown" in offered
            )
            self._exports[file_id] = "text/markdown" if wants_markdown else "text/html"
        elif kind == WORD_MIME:
            self._exports[file_id] = "word"
        elif matches(path, self.options.globs) or (
            extensionless_document(path, self.options.globs) and _text(kind)
        ):
            self._exports[file_id] = "media"
        else:
            return None
        return DocumentRef(
            source=self.name,
            id=file_id,
            uri=f"gdrive:{path}",
            updated_at=timestamp(entry.get("modifiedTime")),
            version=str(entry.get("modifiedTime") or ""),
            link=str(entry.get("webViewLink") or ""),
            author=_owner(entry.get("owners")),
            created_at=timestamp(entry.get("createdTime")),
        )


def _text(kind: object) -> bool:
    """A file Drive says holds text (as a folder on disk checks a file with no extension)."""
    return isinstance(kind, str) and (kind.startswith("text/") or kind in MARKDOWN_FILES)


def _owner(owners: object) -> str:
    """The file's owner as the people directory may know them: e-mail, else display name."""
    if not isinstance(owners, list) or not owners or not isinstance(owners[0], dict):
        return ""
    return str(owners[0].get("emailAddress") or owners[0].get("displayName") or "")


# --- settings ------------------------------------------------------------------------------


class Config(Remote, SourceSection):
    """Google Docs (and Markdown files) in a Drive folder, read with a service account."""

    kind: Literal["google-drive"]
    folder_id: Annotated[str, Field(pattern=r"^[\w-]+$")]
    # A service account's JSON key; without it, the environment's Google credentials.
    credentials_file: Path | None = None
    export: Literal["auto", "markdown", "html"] = "auto"  # auto: Markdown where Drive offers it
    recursive: bool = True
    # Files uploaded to the folder that are read, by path (as `markdown-dir` and the repository
    # sources pick them); Google Docs and Word files are read whatever their names.
    glob: str | list[str] = Field(default_factory=lambda: list(DEFAULT_GLOBS))

    _check_files = field_validator("credentials_file")(check_readable)

    @field_validator("write_back")
    @classmethod
    def _read_only(cls, value: str) -> str:
        if value != "off":
            raise ValueError("Google Drive is read only: pmsync cannot edit Google Docs")
        return value


def build(name: str, config: Config, context: BuildContext) -> GoogleDriveSource:
    credentials = config.credentials_file
    options = DriveOptions(
        folder_id=config.folder_id,
        credentials_file=str(context.path(credentials)) if credentials else None,
        export=config.export,
        recursive=config.recursive,
        globs=(config.glob,) if isinstance(config.glob, str) else tuple(config.glob),
        **config.patience(),
    )
    return GoogleDriveSource(name, options)
