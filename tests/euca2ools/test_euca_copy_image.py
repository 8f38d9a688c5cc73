"""euca-copy-image and euca-confirm-product-instance as subprocesses against moto_server
(the AWS stand-in), the stub and our cloud (which copies no images between regions)."""

from __future__ import annotations

from pathlib import Path


def test_copy_image_on_moto(euca, moto_ini: Path) -> None:  # type: ignore[no-untyped-def]
    """The copy is a new image with the given name and description."""
    source = "ami-12c6146b"  # one of moto's stock images
    out = euca("euca-copy-image", "-r", "us-east-1", "-s", source, "-n", "copied",
               "-d", "a copy", ini=moto_ini).stdout
    [line] = out.splitlines()
    tag, image_id = line.split("\t")
    assert tag == "IMAGE" and image_id.startswith("ami-") and image_id != source
    described = euca("euca-describe-images", image_id, ini=moto_ini).stdout.splitlines()[0]
    assert described.split("\t")[1] == image_id
    proc = euca("euca-copy-image", "-r", "us-east-1", ini=moto_ini, check=False)
    assert (proc.returncode, proc.stderr.splitlines()[-1]) == (
        2, "euca-copy-image: error: Missing option '-s' / '--source-ami-id'.")


def test_confirm_product_instance_output(euca, stub) -> None:  # type: ignore[no-untyped-def]
    """No tag word: code, instance, whether they go together, the instance's owner."""
    cloud, ini = stub
    cloud.answers["ConfirmProductInstance"] = (200, (
        "<ConfirmProductInstanceResponse><requestId>r</requestId><return>true</return>"
        "<ownerId>111122223333</ownerId></ConfirmProductInstanceResponse>"))
    out = euca("euca-confirm-product-instance", "774F4FF8", "-i", "i-1", ini=ini).stdout
    assert out == "774F4FF8\ti-1\ttrue\t111122223333\n"


def test_on_our_cloud(euca, cloud_ini: Path) -> None:  # type: ignore[no-untyped-def]
    """The cloud is one region and sells no products: one readable line, exit 1."""
    for args in (["euca-copy-image", "-r", "other", "-s", "emi-12345678"],
                 ["euca-confirm-product-instance", "774F4FF8", "-i", "i-12345678"]):
        proc = euca(*args, ini=cloud_ini, check=False)
        assert proc.returncode == 1, proc.stderr
        assert len(proc.stderr.splitlines()) == 1
        assert proc.stderr.startswith(f"{args[0]}: error (")
