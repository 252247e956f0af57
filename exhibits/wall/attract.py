"""The wall's attract mode: faces appear and fade, one by one, beside the invitation.

Sober by design: each face has a place of its own in a column on either side of the
invitation (`slots`), so faces never cover each other or the text; a face fades in over
seconds, stays, fades out, and another person takes its place. No drift, no zoom, no
bounce, no sound. Names are drawn whole under the face, in full contrast.

`slots` is plain arithmetic (tested without a screen); `SlotPortraits` only animates.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from kivy.animation import Animation
from kivy.clock import Clock
from kivy.metrics import dp, sp
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.image import Image
from kivy.uix.label import Label

SIDE_DP = 300
"""Width of each side column; the invitation keeps the middle (shell.kv, AttractScreen)."""
FACE_DP = (150, 200)
NAME_DP = 84  # three lines of a long name
GAP_DP = 24
FADE_S = 4.0
STAY_S = 18.0
IMAGE_OPACITY = 0.75  # the faces stay quieter than the invitation; the names do not fade


def slots(width: float, height: float, side: float, slot_height: float, gap: float) -> list[tuple[float, float, float, float]]:
    """(x, y, w, h) of each face's place, in the two side columns, origin bottom left.

    As many places one above the other as the height holds, centred; none where the
    screen is too narrow for a column beside the invitation.
    """
    if width < 3 * side or height < slot_height:
        return []
    rows = int((height + gap) // (slot_height + gap))
    used = rows * slot_height + (rows - 1) * gap
    bottom = (height - used) / 2
    places = []
    for left in (gap, width - side):
        for row in range(rows):
            places.append((left, bottom + row * (slot_height + gap), side - gap, slot_height))
    return places


class Face(BoxLayout):
    """One face and the name beneath it."""


class FaceTimes:
    """When each place's face changes next, on an injected clock (plain Python)."""

    def __init__(self, clock: Callable[[], float]):
        self.clock = clock
        self._due: dict[int, float] = {}

    def start(self, places: int) -> None:
        """All faces are there at once; they change at different moments of one cycle."""
        cycle = FADE_S * 2 + STAY_S
        now = self.clock()
        self._due = {number: now + (number + 1) * cycle / (places + 1) for number in range(places)}

    def due(self) -> list[int]:
        """The places whose face begins to fade now (each is then not due until `shown`)."""
        now = self.clock()
        fading = [number for number, when in self._due.items() if now >= when]
        for number in fading:
            del self._due[number]
        return fading

    def shown(self, number: int) -> None:
        """A new face came in at NUMBER: it fades in, stays, then changes again."""
        self._due[number] = self.clock() + FADE_S + STAY_S

    @property
    def waiting(self) -> int:
        return len(self._due)


class SlotPortraits(FloatLayout):
    """The faces in their places. When a face changes follows CLOCK (the station's injected
    clock, `FaceTimes`): on a clock that stands still (`kiosk screenshot`) no face is ever
    caught halfway through a fade, so pictures and their layout audit are the same every time."""

    def __init__(self, people: list[tuple[str, str]], seed: int | None = None, clock: Callable[[], float] = time.monotonic, **kwargs):
        """PEOPLE: (display name, portrait path) of persons with a photograph."""
        super().__init__(**kwargs)
        self.people = people
        self.random = random.Random(seed)
        self.times = FaceTimes(clock)
        self._faces: dict[int, Face] = {}
        self._places: list = []
        self._ticker = Clock.schedule_interval(self._tick, 0.25)
        self.bind(size=self._reset, pos=self._reset)

    def stop(self) -> None:
        """No more changes (the app stops: nothing may act on it afterwards)."""
        self._ticker.cancel()
        self.people = []
        self._reset()

    def _reset(self, *_args) -> None:
        for face in self._faces.values():
            Animation.cancel_all(face)
            self.remove_widget(face)
        self._faces = {}
        self._places = []
        self.times.start(0)
        if not self.people:
            return
        self._places = slots(self.width, self.height, dp(SIDE_DP), dp(FACE_DP[1] + NAME_DP), dp(GAP_DP))
        for number, place in enumerate(self._places):
            # Already there when a visitor walks up; they change at different moments.
            self._show(number, place, settled=True)
        self.times.start(len(self._places))

    def _tick(self, _dt) -> None:
        for number in self.times.due():
            self._cycle(number, self._places[number])

    def _cycle(self, number: int, place) -> None:
        face = self._faces.get(number)
        if face is None:
            return

        def next_face(*_args) -> None:
            self._show(number, place, settled=False)
            self.times.shown(number)

        fade = Animation(opacity=0, duration=FADE_S)
        fade.bind(on_complete=lambda *_: (self.remove_widget(face), next_face()))
        fade.start(face)

    def _show(self, number: int, place, settled: bool) -> None:
        shown = {face.person for face in self._faces.values() if face.parent is self}
        choices = [person for person in self.people if person not in shown] or self.people
        name, path = self.random.choice(choices)
        x, y, width, height = place
        face = Face(orientation="vertical", size_hint=(None, None), pos=(self.x + x, self.y + y), size=(width, height), spacing=dp(6), opacity=1 if settled else 0)
        face.person = (name, path)
        face.add_widget(Image(source=path, size_hint_y=None, height=dp(FACE_DP[1]), fit_mode="contain", opacity=IMAGE_OPACITY))
        label = Label(
            text=name,
            font_name="Serif",
            font_size=sp(17),
            color=(0.95, 0.94, 0.91, 1),
            halign="center",
            valign="top",
            size_hint_y=None,
            height=dp(NAME_DP) - dp(6),
        )
        label.bind(width=lambda widget, w: setattr(widget, "text_size", (w, None)))
        face.add_widget(label)
        self._faces[number] = face
        self.add_widget(face)
        if not settled:
            Animation(opacity=1, duration=FADE_S).start(face)


def people_with_portraits(collection, limit: int = 400, seed: int = 0) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    chosen = [p for p in collection.persons if p.portrait]
    rng.shuffle(chosen)
    return [(p.display_name, str(collection.portrait_path(p))) for p in chosen[:limit]]
