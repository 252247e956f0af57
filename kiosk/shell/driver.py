"""Runs a station's Kivy app one frame at a time, for screenshots, tests and benches.

`App.run()` owns the loop until the window closes; here the caller owns it, so it can
set a screen, wait for it to be drawn, save a picture or touch a button, and go on.
Touches are real: xdotool moves the X pointer over the widget and clicks, and the
event travels X → SDL → Kivy's input provider → the widget, as a visitor's would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from kivy.base import EventLoop, runTouchApp
from kivy.core.window import Window

from kiosk.shell.app import StationApp, save_window_png
from kiosk.shell.guide import is_shown


class StationDriver:
    def __init__(self, app: StationApp):
        self.app = app
        self._window_id: str | None = None

    def start(self) -> StationDriver:
        self.app._run_prepare()  # what App.run() does before its loop
        runTouchApp(embedded=True)
        self.frames(3)
        return self

    def stop(self) -> None:
        self.app.stop()

    def __enter__(self) -> StationDriver:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- time ------------------------------------------------------------------------

    def frames(self, count: int = 1) -> None:
        for _ in range(count):
            EventLoop.idle()
            Window.mainloop()  # reads the SDL events that arrived since the last frame

    def settle(self, seconds: float = 0.5) -> None:
        """Let transitions finish and textures load: frames for SECONDS of wall time."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.frames()

    def wait_until(self, condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout} s for {what}")
            self.frames()

    # -- finding ---------------------------------------------------------------------

    def find(self, test_name: str, visible: bool = True):
        """The widget named TEST_NAME on the current screen or in the shell around it."""
        # A fade draws both screens through an Fbo, outside the widget tree: wait it out.
        self.wait_until(lambda: not self.app.screens.transition.is_active, timeout=5, what="the screen transition")
        roots = [self.app.root_widget]
        matches = [w for root in roots for w in root.walk(restrict=False) if getattr(w, "test_name", None) == test_name]
        if visible:
            current = self.app.screens.current_screen
            matches = [w for w in matches if is_shown(w, current)]
        if not matches:
            names = sorted({getattr(w, "test_name", None) or "" for w in self.app.root_widget.walk()} - {""})
            raise LookupError(f"no visible widget named {test_name!r}; named widgets: {', '.join(names)}")
        return matches[0]

    # -- touching --------------------------------------------------------------------

    def tap(self, target, settle: float = 0.3) -> None:
        """A real tap on the centre of TARGET (a widget or its test_name)."""
        widget = self.find(target) if isinstance(target, str) else target
        x, y = widget.to_window(*widget.center)
        self.tap_at(x, y, settle=settle)

    def tap_at(self, x: float, y: float, settle: float = 0.3) -> None:
        """Tap at Kivy window coordinates (origin bottom left)."""
        xdotool = shutil.which("xdotool")
        if not xdotool:
            raise RuntimeError("xdotool is not installed: run scripts/setup")
        density = Window.system_size[1] / Window.size[1] if Window.size[1] else 1
        screen_x = int(x * density)
        screen_y = int((Window.size[1] - y) * density)
        # On a loaded machine the click can reach Kivy several frames later: wait until the
        # window has handled its release, so the caller sees what the tap did.
        released = []

        def seen(_window, _touch) -> None:
            released.append(True)

        Window.bind(on_touch_up=seen)
        try:
            subprocess.run(
                [xdotool, "mousemove", "--window", self.window_id(), str(screen_x), str(screen_y), "click", "1"],
                check=True,
                timeout=10,
                capture_output=True,
            )
            self.wait_until(lambda: released, timeout=15, what=f"the tap at ({x:.0f}, {y:.0f}) to reach the window")
        finally:
            Window.unbind(on_touch_up=seen)
        self.frames(2)  # what the release set off (a screen change, a new text) is drawn
        self.settle(settle)

    def key(self, name: str, settle: float = 0.2) -> None:
        """A real key press (an X keysym: "Down", "Tab", "Return", "KP_Multiply", "KP_8"),
        as a USB keypad sends it; returns once the window has read it."""
        pressed = []

        def seen(*_args) -> None:
            pressed.append(True)

        Window.bind(on_key_down=seen)
        try:
            subprocess.run(["xdotool", "key", "--window", self.window_id(), name], check=True, timeout=10, capture_output=True)
            self.wait_until(lambda: pressed, timeout=15, what=f"the key {name} to reach the window")
        finally:
            Window.unbind(on_key_down=seen)
        self.frames(2)
        self.settle(settle)

    def window_id(self) -> str:
        if self._window_id is None:
            result = subprocess.run(
                ["xdotool", "search", "--sync", "--onlyvisible", "--pid", str(os.getpid())],
                check=True,
                timeout=10,
                capture_output=True,
                text=True,
            )
            self._window_id = result.stdout.split()[0]
        return self._window_id

    # -- pictures --------------------------------------------------------------------

    def screenshot(self, target: Path) -> Path:
        self.frames(2)
        return save_window_png(Path(target))
