"""MkDocs hooks (mkdocs.yml `hooks:`): the site is the repository as GitHub shows it.

`docs/` is the site's root; README.md becomes its home page (index.md) and notebooks/*.ipynb
join it under notebooks/ (mkdocs-jupyter renders them with their committed outputs). Links keep
working on GitHub and on the site alike: README's `docs/X.md` becomes `X.md`, and a page's
relative link to a repository file outside docs/ (`../benchmarks/results/x.png`) copies that file
into the site at its repository path and points there. A link to a file that does not exist is
left alone, so `mkdocs build --strict` reports it.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
DOCS = "docs"
LINK = re.compile(r"(\]\()([^)\s#]+)((?:#[^)\s]*)?\))")  # ](target#anchor)


def _is_relative(target: str) -> bool:
    return not re.match(r"^[a-z][a-z0-9+.-]*:", target) and not target.startswith(("/", "#"))


def _repo_path(page_repo_path: str, target: str) -> str:
    """The repository path a relative link of the page at `page_repo_path` points to."""
    return posixpath.normpath(posixpath.join(posixpath.dirname(page_repo_path), target))


def _site_path(repo_path: str) -> str:
    """Where a repository file lives in the site: docs/X at X, README.md at index.md, the rest as is."""
    if repo_path == "README.md":
        return "index.md"
    if repo_path.startswith(DOCS + "/"):
        return repo_path[len(DOCS) + 1 :]
    return repo_path


def _rewrite(markdown: str, page_repo_path: str, outside: set[str]) -> str:
    """Point each relative link of a page at the site's copy of its target; note the targets
    outside docs/ that the site must copy."""
    page_site = _site_path(page_repo_path)

    def fix(m: re.Match) -> str:
        target = m.group(2)
        if not _is_relative(target):
            return m.group(0)
        repo = _repo_path(page_repo_path, target)
        if not (ROOT / repo).exists():
            return m.group(0)  # broken: let mkdocs report it
        if repo != "README.md" and not repo.startswith((DOCS + "/", "notebooks/")):
            outside.add(repo)
        new = posixpath.relpath(_site_path(repo), posixpath.dirname(page_site) or ".")
        return m.group(1) + new + m.group(3)

    return LINK.sub(fix, markdown)


def _file(config, repo_path: str) -> File:
    return File(repo_path, str(ROOT), config["site_dir"], config["use_directory_urls"])


@event_priority(100)  # before mkdocs-jupyter's on_files, which must see the notebooks
def on_files(files: Files, config) -> Files:
    outside: set[str] = set()
    readme = _rewrite((ROOT / "README.md").read_text(encoding="utf-8"), "README.md", outside)
    if files.get_file_from_path("index.md") is None:
        files.append(File.generated(config, "index.md", content=readme))
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        files.append(_file(config, f"notebooks/{nb.name}"))
    for page in (ROOT / DOCS).rglob("*.md"):
        _rewrite(page.read_text(encoding="utf-8"), page.relative_to(ROOT).as_posix(), outside)
    for repo_path in sorted(outside):
        if files.get_file_from_path(repo_path) is None:
            files.append(_file(config, repo_path))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    if page.file.src_uri == "index.md" and page.file.generated_by:
        return markdown  # README, rewritten when it was added
    return _rewrite(markdown, f"{DOCS}/{page.file.src_uri}", set())
