"""Reading the source documents of the corpus."""

import hashlib
from dataclasses import dataclass
from pathlib import Path

from loaders.errors import LoadError, LoadIssue


@dataclass(frozen=True)
class Document:
    path: Path
    text: str

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def stem(self) -> str:
        return self.path.stem

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def read_document(path: Path) -> Document:
    try:
        return Document(path, path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise LoadError([LoadIssue(path, line, f"not valid UTF-8: {exc.reason}")]) from exc


def read_documents(folder: Path) -> list[Document]:
    paths = sorted(folder.glob("*.txt"))
    if not paths:
        raise LoadError([LoadIssue(folder, 0, "no .txt documents in this folder")])
    return [read_document(path) for path in paths]
