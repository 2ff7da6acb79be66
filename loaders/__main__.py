"""Checks the corpus annotations: `python -m loaders [annotation files]` lists every problem."""

import sys
from pathlib import Path

from loaders.corpus import load_corpus
from loaders.errors import LoadError

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    only = {Path(arg).resolve() for arg in argv}
    try:
        corpus = load_corpus(ROOT / "corpus/documents", ROOT / "corpus/annotations", ROOT / "corpus/entities.yaml")
    except LoadError as exc:
        shown = [i for i in exc.issues if not only or Path(i.path).resolve() in only]
        for issue in shown:
            print(issue, file=sys.stderr)
        print(f"{len(exc.issues)} problem(s) in the corpus, {len(shown)} in the files asked", file=sys.stderr)
        return 1
    print(f"ok: {corpus.fact_count} facts, {len(corpus.asserted)} asserted triples, "
          f"{len(corpus.entities)} entity triples, {len(corpus.documents)} documents")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
