"""The commit-confirmed snapshot, run for real in a temporary directory (no systemd needed)."""

import subprocess
import tarfile

from vpskit import confirm


def test_snapshot_keeps_a_path_with_a_space_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(confirm, "ROLLBACK_ROOT", str(tmp_path / "rollback"))
    kept = tmp_path / "etc dir" / "a b.conf"
    kept.parent.mkdir()
    kept.write_text("x\n")
    missing = tmp_path / "gone.conf"
    script = confirm.arm_script("t-1", [str(kept), str(missing)], "true", 60)
    snapshot = script.split("\ncat > ")[0]  # everything before restore.sh is written and the timer armed
    subprocess.run(["sh", "-c", snapshot], check=True)
    d = tmp_path / "rollback" / "t-1"
    assert (d / "absent").read_text() == f"{missing}\n"
    with tarfile.open(d / "files.tar") as archive:
        assert archive.getnames() == [str(kept).lstrip("/")]
