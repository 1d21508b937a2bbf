"""failover.aws.lambda_package: the same source gives the same bytes, and only a change writes."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

from ansible_run import run_module


def make_source(root: Path) -> Path:
    src = root / "src"
    (src / "pkg").mkdir(parents=True)
    (src / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (src / "pkg" / "__init__.py").write_text("")
    (src / "pkg" / "__pycache__").mkdir()
    (src / "pkg" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    return src


def test_same_source_gives_same_bytes_and_no_change(tmp_path: Path) -> None:
    src = make_source(tmp_path)
    dest = tmp_path / "out" / "fn.zip"

    first = run_module("failover.aws.lambda_package", {"src": str(src), "dest": str(dest)})
    assert first["changed"] is True
    digest = hashlib.sha256(dest.read_bytes()).hexdigest()
    assert first["sha256"] == digest
    assert first["files"] == ["app.py", "pkg/__init__.py"]

    # Touching files (new mtimes) must not change the zip.
    for path in src.rglob("*.py"):
        path.touch()
    second = run_module("failover.aws.lambda_package", {"src": str(src), "dest": str(dest)})
    assert second["changed"] is False
    assert second["sha256"] == digest

    with zipfile.ZipFile(dest) as zf:
        assert [info.date_time for info in zf.infolist()] == [(1980, 1, 1, 0, 0, 0)] * 2
        assert zf.read("app.py").startswith(b"def handler")


def test_a_code_change_is_a_new_zip_and_check_mode_writes_nothing(tmp_path: Path) -> None:
    src = make_source(tmp_path)
    dest = tmp_path / "fn.zip"
    run_module("failover.aws.lambda_package", {"src": str(src), "dest": str(dest)})
    before = dest.read_bytes()

    (src / "app.py").write_text("def handler(event, context):\n    return 2\n")
    args = {"src": str(src), "dest": str(dest)}
    dry = run_module("failover.aws.lambda_package", args, check=True)
    assert dry["changed"] is True
    assert dest.read_bytes() == before

    real = run_module("failover.aws.lambda_package", {"src": str(src), "dest": str(dest)})
    assert real["changed"] is True
    assert real["sha256"] != hashlib.sha256(before).hexdigest()


def test_empty_or_missing_source_fails_clearly(tmp_path: Path) -> None:
    result = run_module("failover.aws.lambda_package",
                        {"src": str(tmp_path / "nope"), "dest": str(tmp_path / "x.zip")})
    assert result["failed"] is True
    assert "is not a folder" in result["msg"]
