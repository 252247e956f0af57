"""The booth's controller, seen from the booth: lights follow the flow, the button acts.

An observer of `BoothFlow`, so the flow stays the one place that knows the steps: on
every step the lights are set from `LIGHTS` (the "on air" light outside the door only
while a name is being recorded), and `pump()` turns what happened at the controller
into what a touch would have done. The booth works the same without a controller;
the button only adds a way to start and stop, and the tactile keys a way through the
screens for a participant who cannot see them (audio mode).

`pump()` runs on the booth's own thread (the screen's tick), never on the serial
thread, so the flow is only ever touched from one thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import NamedTuple

from exhibits.booth.flow import BoothFlow, Step
from hardware.controller import protocol
from hardware.controller.link import Controller, ControllerEvent, ControllerState

log = logging.getLogger(__name__)

NAV_KEYS = tuple(key.lower() for key in protocol.NAV_KEYS)  # the ControllerEvent kinds of the tactile keys


class Lights(NamedTuple):
    on_air: bool
    ring: int  # 0..100
    button_led: str  # OFF, ON, BLINK: lit when pressing the button does something


WAITING = Lights(False, 30, "OFF")  # a soft light says the booth is open
WITH_SOMEONE = Lights(False, 70, "OFF")
LIGHTS = {
    Step.WELCOME: WAITING,
    Step.SOUND_CHECK: Lights(False, 100, "ON"),  # the button starts the reading
    Step.COUNTDOWN: Lights(False, 100, "BLINK"),
    Step.RECORDING: Lights(True, 100, "ON"),  # the button ends it
    Step.REVIEW: Lights(False, 100, "OFF"),
    Step.OUT_OF_ORDER: Lights(False, 0, "OFF"),
}


# A configured controller that has not answered this long after the start is missing
# (unplugged, wrong port): the booth says so rather than record without its "on air" light.
SEARCH_GRACE_S = 15.0


def lights_for(step: Step) -> Lights:
    return LIGHTS.get(step, WITH_SOMEONE)


class BoothControls:
    """Connects one booth's flow to its controller."""

    def __init__(
        self,
        flow: BoothFlow,
        controller: Controller,
        *,
        on_presence: Callable[[], None] | None = None,
        on_key: Callable[[str], None] | None = None,
    ):
        self.flow = flow
        self.controller = controller
        self.on_presence = on_presence
        # The tactile keys ("prev", "next", "select") go to audio mode's guide, which
        # moves the focus through the screen and presses what has it; the big button
        # keeps its own meaning (start and end the reading) whatever has the focus.
        self.on_key = on_key
        self._started = flow.clock()
        self._missing = False
        flow.subscribe(self._show)
        self._show(flow.step)

    @property
    def state(self) -> str:
        """The controller's state in a word, for the station's status file."""
        return self.controller.state.value

    def start(self) -> None:
        self._started = self.flow.clock()
        self.controller.start()

    def close(self) -> None:
        self.controller.close()

    def _show(self, step: Step) -> None:
        lights = lights_for(step)
        self.controller.set_on_air(lights.on_air)
        self.controller.set_ring(lights.ring)
        self.controller.set_button_led(lights.button_led)

    def pump(self) -> list[ControllerEvent]:
        """Act on what happened at the controller; returns the events, for the log and tests."""
        self._watch()
        events = self.controller.events()
        for event in events:
            if event.kind == "button_down":
                self._button()
            elif event.kind == "presence" and event.present and self.on_presence is not None:
                self.on_presence()  # someone came in: wake the screen, as a touch would
            elif event.kind in NAV_KEYS:
                if self.on_key is not None:
                    self.on_key(event.kind)
                else:
                    log.info("tactile key pressed", extra={"key": event.kind, "acted": False})
        return events

    def _watch(self) -> None:
        """A configured controller that is lost, or never found, puts the booth out of order
        between two participants (without it the "on air" light outside stays dark)."""
        state = self.controller.state
        missing = state is ControllerState.LOST or (
            state is ControllerState.SEARCHING and self.flow.clock() - self._started >= SEARCH_GRACE_S
        )
        if missing and not self._missing:
            if self.flow.step not in (Step.WELCOME, Step.OUT_OF_ORDER):
                return  # a participant under way goes on by touch; the booth closes after them
            self.flow.device_lost("controller")
        elif self._missing and not missing:
            self.flow.device_back("controller")
        self._missing = missing

    def _button(self) -> None:
        step = self.flow.step
        if step is Step.SOUND_CHECK:
            self.flow.ready()
        elif step is Step.RECORDING:
            self.flow.stop()
        else:
            # Outside the sound check and the reading the screen leads; a press does nothing.
            log.info("button pressed", extra={"step": step.value, "acted": False})
            return
        log.info("button pressed", extra={"step": step.value, "acted": True})
