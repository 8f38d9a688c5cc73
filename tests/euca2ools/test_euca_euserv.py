"""euserv-* admin commands against the real cloud: node controllers and migration."""

from __future__ import annotations

import time


def test_describe_node_controllers_and_migrate(euca, cloud_ini) -> None:
    """NODE records per node with their INSTANCE lines; -i migrates one instance."""
    image = euca("euca-describe-images", ini=cloud_ini).stdout.split("\t")[1]
    out = euca("euca-run-instances", image, ini=cloud_ini).stdout
    iid = next(line.split("\t")[1] for line in out.splitlines() if line.startswith("INSTANCE"))
    nodes = euca("euserv-describe-node-controllers", ini=cloud_ini).stdout.splitlines()
    records = [line.split("\t") for line in nodes]
    assert all(r[0] in ("NODE", "INSTANCE") for r in records)
    node_rows = [r for r in records if r[0] == "NODE"]
    assert node_rows and all(len(r) == 9 for r in node_rows)
    owner = None
    for r in records:
        if r[0] == "NODE":
            current = r[2]
        elif r[1] == iid:
            owner = current
    assert owner is not None
    deadline = time.time() + 10
    while "running" not in euca("euca-describe-instances", iid, ini=cloud_ini).stdout:
        assert time.time() < deadline
        time.sleep(0.2)
    euca("euserv-migrate-instances", "-i", iid, ini=cloud_ini)
    proc = euca("euserv-migrate-instances", ini=cloud_ini, check=False)
    assert proc.returncode == 2  # one of -s/-i is required: a usage error
    euca("euca-terminate-instances", iid, ini=cloud_ini)
