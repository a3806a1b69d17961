"""What `Cluster.delete_data()` (and so `fresh=True`) removes from the data folder."""

from pathlib import Path

from microservicios.common.registry import SERVICES
from tests.helpers import make_cluster


def test_delete_data_removes_each_database_and_every_file_sqlite_keeps_beside_it(tmp_path: Path):
    """Every service's .db, -wal, -shm and -journal go; other files in the folder stay."""
    for service in SERVICES.names:
        for suffix in ("", "-wal", "-shm", "-journal"):
            (tmp_path / f"{service}.db{suffix}").write_bytes(b"old")
    (tmp_path / "notas.txt").write_text("mías")
    make_cluster(tmp_path).delete_data()
    assert [path.name for path in tmp_path.iterdir()] == ["notas.txt"]
