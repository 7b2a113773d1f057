"""The local test image for the Docker backend: busybox-static imported as a root filesystem.

Nothing can be pulled from a registry here, so the image is built locally with
``docker import`` of a folder holding Debian's static busybox and its applet links.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
from typing import Any

import pytest

IMAGE = "perfinvest-test-busybox:latest"
BUSYBOX = "/bin/busybox"


def engine_or_skip() -> Any:
    """A docker client, or a skip naming why (scripts/test.sh starts dockerd first).

    In CI (``CI`` set) a missing engine fails instead: these tests must run there.
    """
    import os

    from perfinvest.adapters.constraints.docker_backend import connect
    from perfinvest.core.errors import PerfError

    try:
        return connect()
    except PerfError as error:
        reason = f"{error.message} (scripts/test.sh starts dockerd before the tests)"
        if os.environ.get("CI"):
            pytest.fail(f"CI needs a Docker engine: {reason}")
        pytest.skip(reason)


def ensure_image(client: Any) -> str:
    import docker.errors

    try:
        client.images.get(IMAGE)
        return IMAGE
    except docker.errors.ImageNotFound:
        pass
    busybox = shutil.which("busybox") or BUSYBOX
    if not os.path.exists(busybox):
        pytest.skip("busybox-static is not installed (scripts/bootstrap.sh installs it)")
    applets = subprocess.run(
        [busybox, "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for folder in ("bin", "tmp", "proc", "sys", "dev", "etc"):
            info = tarfile.TarInfo(folder)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if folder == "tmp" else 0o755
            tar.addfile(info)
        tar.add(busybox, arcname="bin/busybox")
        for applet in applets:
            if applet == "busybox":
                continue
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
    client.api.import_image_from_data(
        buffer.getvalue(), repository=IMAGE.split(":", maxsplit=1)[0], tag="latest"
    )
    client.images.get(IMAGE)
    return IMAGE
