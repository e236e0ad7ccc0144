"""The publishing pieces: the workflow builds with the README's build command, the citation file names the
repository, and the instructor's page links only to pages that exist."""

from __future__ import annotations

import re

import yaml
from conftest import ROOT


def readme_build_command() -> str:
    """The quick start's first command: the one that builds the book."""
    block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    return block.splitlines()[0].split("#")[0].strip()


def test_the_publish_workflow_runs_the_readmes_build_command_and_deploys_its_html():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "publish.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert "push" in triggers and "workflow_dispatch" in triggers
    steps = workflow["jobs"]["build"]["steps"]
    assert [step.get("run") for step in steps if "run" in step] == [readme_build_command()]
    python = next(step for step in steps if step.get("uses", "").startswith("actions/setup-python"))
    assert python["with"]["python-version"] == "3.11"
    upload = next(step for step in steps if step.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_build/html"
    assert workflow["jobs"]["deploy"]["needs"] == "build"


def test_the_citation_file_names_the_books_repository_and_licence(book_config):
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0" and citation["title"] == book_config["title"]
    assert citation["repository-code"] == book_config["repository"]["url"]
    assert citation["license"] == "MIT" and "MIT License" in (ROOT / "LICENSE").read_text()


def test_the_instructors_page_links_only_to_pages_that_exist_and_is_in_the_toc():
    page = ROOT / "book" / "for_instructors.md"
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text())
    local = [target for target in targets if not target.startswith(("http://", "https://"))]
    assert local, "the page should link to the chapters"
    missing = [target for target in local if not (page.parent / target).exists()]
    assert not missing
    assert "book/for_instructors" in (ROOT / "_toc.yml").read_text()
