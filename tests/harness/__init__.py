"""A real screen and a real audio path for the tests, on machines that have neither.

The stations run Kivy on a screen and record and play sound through PulseAudio. Tests
of those paths use the real thing, not fakes: Xvfb gives a virtual screen with Mesa's
software OpenGL, and a private PulseAudio daemon with a null sink gives a sound card
whose output can be recorded from its monitor. `tests/conftest.py` turns these into
the `display` and `pulse` fixtures; this package is plain Python so that it can be
tested itself (`tests/harness_selftest/`).

When a tool is missing, the harness fails with a message that says which Debian
package provides it and to run `scripts/setup`; it never skips.
"""

from harness.tools import HarnessError

__all__ = ["HarnessError"]
