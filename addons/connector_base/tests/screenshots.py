"""Screenshots taken by a running tour: a step logs ``screenshot:<name>`` to the console and the
browser driving the tour saves the page as ``<name>.png`` (the README walkthroughs' tours, in
tests/addons/suite_walkthroughs and the addons' own tours, use it).

The files go to ``$SUITE_SCREENSHOTS_DIR`` (``make screenshots`` points it at docs/screenshots) or
to ``.cache/screenshots`` of the repository, so that every ``make test`` proves that the
screenshots can still be taken without changing the committed ones.
"""

import base64
import os
import pathlib
import re
from concurrent.futures import wait
from contextlib import contextmanager
from unittest.mock import patch

from odoo.tests import common

SIGNAL = "screenshot:"
NAME = re.compile(r"[a-z0-9-]+")
REPOSITORY = pathlib.Path(__file__).resolve().parents[3]


def screenshots_dir():
    folder = os.environ.get("SUITE_SCREENSHOTS_DIR") or REPOSITORY / ".cache" / "screenshots"
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class ScreenshotBrowser(common.ChromeBrowser):
    """Odoo's test browser, saving a PNG of the page when the tour asks for one."""

    taken = None  # {name: path}, set per tour by ``screenshots_of``
    pending = None

    def _handle_console(self, type, args=None, stackTrace=None, **kw):
        message = str(self._from_remoteobject(args[0])) if args else ""
        if type == "log" and message.startswith(SIGNAL):
            self._capture(message[len(SIGNAL) :].strip())
        return super()._handle_console(type, args=args, stackTrace=stackTrace, **kw)

    def _capture(self, name):
        if not NAME.fullmatch(name):
            raise ValueError(f"screenshot name {name!r}: use lowercase letters, digits and -")
        path = screenshots_dir() / f"{name}.png"
        # Called from the browser's receiving thread: ask, and write when the answer arrives.
        future = self._websocket_send(
            "Page.captureScreenshot", params={"format": "png"}, with_future=True
        )

        def save(done):
            path.write_bytes(base64.b64decode(done.result()["data"], validate=True))
            self.taken[name] = path

        future.add_done_callback(save)
        self.pending.append(future)


@contextmanager
def screenshots_of(taken):
    """Run the tours started inside with a browser that takes the screenshots they ask for;
    ``taken`` receives {name: path} of those written."""
    pending = []
    browser = type(
        "TourScreenshotBrowser", (ScreenshotBrowser,), {"taken": taken, "pending": pending}
    )
    with patch.object(common, "ChromeBrowser", browser):
        yield
    wait(pending, timeout=30)
