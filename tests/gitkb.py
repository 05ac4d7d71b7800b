"""Temporary git repositories for editorial tests: never the project's own repository.

`init_repo` makes a folder (holding a knowledge copy) its own repository with one commit;
`central_and_replicas` makes a bare central repository and clones of it, as replicas on two machines have.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

TEST_ENV = {"GIT_AUTHOR_NAME": "Knowledge import", "GIT_AUTHOR_EMAIL": "import@example.org",
            "GIT_COMMITTER_NAME": "Knowledge import", "GIT_COMMITTER_EMAIL": "import@example.org"}


def git(cwd: Path, *args: str) -> str:
    import os

    env = {**os.environ, **TEST_ENV, "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def init_repo(top: Path, message: str = "Import the knowledge") -> Path:
    """`top` becomes a git repository with everything under it committed once; returns `top`."""
    git(top, "init", "--quiet", "--initial-branch=main")
    git(top, "add", "--all")
    git(top, "commit", "--quiet", "-m", message)
    return top


def central_and_replicas(seed: Path, base: Path, count: int = 2) -> tuple[Path, list[Path]]:
    """A bare central repository cloned from the repository `seed`, and `count` clones of it (file:// URLs)."""
    central = base / "central.git"
    git(base, "clone", "--quiet", "--bare", str(seed), str(central))
    replicas = []
    for i in range(count):
        target = base / f"replica{i + 1}"
        git(base, "clone", "--quiet", f"file://{central}", str(target))
        replicas.append(target)
    return central, replicas
