"""Load errors that name the file and line of the bad input."""

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LoadIssue:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        path = Path(self.path)
        try:
            path = path.resolve().relative_to(Path.cwd())
        except ValueError:
            pass
        return f"{path}:{self.line}: {self.message}"


class LoadError(Exception):
    """One or more problems in the input files; str() lists each as file:line: message."""

    def __init__(self, issues: list[LoadIssue]):
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))
