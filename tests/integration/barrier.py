"""A start line for step processes that must run at the same time: each process, once Odoo is
loaded and its run prepared, marks itself ready and waits for the others (a fixed head start is
not enough on a loaded machine: a late process finds the other's work already done)."""

import pathlib
import time


def wait_at(barrier, side, sides=("0", "1"), timeout=600):
    """Mark ``side`` ready at ``barrier`` (a path prefix), then wait until every side is."""
    if not barrier or barrier == "0":
        return
    pathlib.Path(f"{barrier}.{side}").touch()
    deadline = time.monotonic() + timeout
    while not all(pathlib.Path(f"{barrier}.{other}").exists() for other in sides):
        assert time.monotonic() < deadline, f"the other runs never got ready at {barrier}"
        time.sleep(0.001)
