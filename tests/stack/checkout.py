"""A copy of this checkout, for the stack suite and scripts/bench: whatever must edit
source files, or own them as another user, does it in the copy, never in the
developer's working tree.

The copy holds the working tree as it is (tracked files with their uncommitted
edits, and new files git does not ignore), without .git.
"""

import shutil
import subprocess
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[2]


def copy_checkout(destination: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO_DIR,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO_DIR / name
        if source.is_file():  # a tracked file deleted in the working tree is left out
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def chown_tree(root: Path, uid: int, gid: int) -> None:
    for path in [root, *root.rglob("*")]:
        shutil.chown(path, uid, gid)
