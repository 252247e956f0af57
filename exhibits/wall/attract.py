"""The wall's attract mode: faces drift slowly behind the invitation, and their names appear.

Sober by design: few faces at a time, dimmed, moving a few centimetres over many seconds;
no zoom, no bounce, no sound. A face's place is kept as a fraction of the backdrop, so
it stays where it belongs whatever size the screen turns out to be.
"""

from __future__ import annotations

import random

from kivy.animation import Animation
from kivy.clock import Clock
from kivy.metrics import dp
from kivy.properties import NumericProperty
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.relativelayout import RelativeLayout

FACES = 7  # on screen at once
LIFE_S = 24.0  # a face's time on screen: fade in, drift, fade out
DIM = 0.32  # a face's brightest: the invitation in front stays readable
FACE_DP = 150


class Face(RelativeLayout):
    """One face and its name; a RelativeLayout, so moving it never waits for a relayout."""

    fx = NumericProperty(0.0)  # place as a fraction of the free width and height
    fy = NumericProperty(0.0)
    shift = NumericProperty(0.0)  # 0 → 1 over the face's life: the drift


class DriftingPortraits(FloatLayout):
    def __init__(self, people: list[tuple[str, str]], seed: int | None = None, **kwargs):
        """PEOPLE: (display name, portrait path) of persons with a photograph."""
        super().__init__(**kwargs)
        self.people = people
        self.random = random.Random(seed)
        self._event = None
        self.bind(parent=self._on_parent, size=self._place_all, pos=self._place_all)

    def _on_parent(self, *_):
        if self._event is None and self.people:
            self._event = Clock.schedule_interval(lambda _dt: self._add_face(), LIFE_S / FACES)
            # The first faces are already there: a visitor walking up sees people.
            for _ in range(FACES):
                self._add_face(settled=True)

    def _place(self, face: Face, *_):
        size = dp(FACE_DP)
        face.x = self.x + face.fx * max(0, self.width - size) + face.shift * dp(30) * (1 if face.fx < 0.5 else -1)
        face.y = self.y + dp(20) + face.fy * max(0, self.height - face.height - dp(40)) + face.shift * dp(30)

    def _place_all(self, *_):
        for face in self.children:
            self._place(face)

    def _add_face(self, settled: bool = False):
        name, path = self.random.choice(self.people)
        size = dp(FACE_DP)
        face = Face(size_hint=(None, None), size=(size, size * 1.33 + dp(28)), opacity=DIM if settled else 0)
        # On the sides only: the invitation in the middle keeps its full contrast.
        side = self.random.random() * 0.26
        face.fx, face.fy = (side if self.random.random() < 0.5 else 1 - side), self.random.random()
        face.add_widget(Image(source=path, size_hint=(1, None), height=size * 1.33, pos_hint={"top": 1}, fit_mode="contain"))
        face.add_widget(
            Label(text=name, font_name="Serif", font_size="15sp", color=(0.95, 0.94, 0.91, 1), size_hint=(1, None), height=dp(24), pos_hint={"y": 0})
        )
        face.bind(shift=self._place)
        self.add_widget(face)
        self._place(face)
        if settled:
            appear = Animation(duration=self.random.uniform(0.1, 0.7) * LIFE_S) + Animation(opacity=0, duration=LIFE_S * 0.3)
        else:
            appear = Animation(opacity=DIM, duration=LIFE_S * 0.3) + Animation(duration=LIFE_S * 0.4) + Animation(opacity=0, duration=LIFE_S * 0.3)
        appear.bind(on_complete=lambda *_: self.remove_widget(face))
        appear.start(face)
        Animation(shift=1.0, duration=LIFE_S).start(face)


def people_with_portraits(collection, limit: int = 400, seed: int = 0) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    chosen = [p for p in collection.persons if p.portrait]
    rng.shuffle(chosen)
    return [(p.display_name, str(collection.portrait_path(p))) for p in chosen[:limit]]
