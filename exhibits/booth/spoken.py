"""What audio mode says on the booth's screens, without Kivy.

Each booth screen describes itself as a `kiosk.accessibility.ScreenWords`: on arrival,
what the screen is and what can be done on it; then every control a participant can
press, in reading order (the order of the focus ring), by the `test_name` of its widget.
A control that cannot be pressed yet says why (the same words as a touch on it shows).
The words come from the catalogues (media/i18n, the `booth.say.*` keys) around the
visible texts, so what is heard is what is shown.

A participant who cannot see the screen must still know what to read: the name screen
reads out the name, how to say it, the transport and the birth (in the grammar that
follows the person), and the sound check says the name once more before the countdown.
The countdown and the reading themselves are silent (kiosk.speech's hold): the
microphone must hear only the participant.
"""

from __future__ import annotations

from dataclasses import dataclass

from exhibits.booth.flow import BoothFlow, Step
from exhibits.booth.names import born_line
from kiosk import i18n
from kiosk.accessibility import Control, ScreenWords

AGE_BANDS_SHOWN = (("age-under-9", "age.band_under_9"), ("age-9-12", "age.band_9_12"), ("age-13-17", "age.band_13_17"), ("age-18-plus", "age.band_18_plus"))


@dataclass(frozen=True)
class Typing:
    """What a screen with the keyboard holds that the flow does not know yet."""

    typed: str = ""  # the booking code or first name as typed
    keyboard: tuple[Control, ...] = ()  # the keyboard's keys as it names them (OnScreenKeyboard.controls)
    day: int = 0
    month: int = 0
    age: int = 0


def _t(lang: str, key: str, **values: object) -> str:
    return i18n.text(lang, key, **values)


def sentences(*parts: str) -> str:
    """Lines of a screen as one text: each ends with a full stop, so the voice pauses."""
    said = []
    for part in parts:
        part = " ".join(part.split())
        if part:
            said.append(part if part[-1] in ".!?…:" else part + ".")
    return " ".join(said)


def button(lang: str, control_id: str, label: str, *, enabled: bool = True, why_not: str | None = None) -> Control:
    """A button as audio mode names it: its label and its role ("Begin, button")."""
    return Control(control_id, _t(lang, "spoken.button", name=label.strip()), enabled, why_not if not enabled else None)


def spelled(code: str) -> str:
    """A code one symbol at a time, the two groups apart: "A, B, C, D. 2, 3, 4, 5"."""
    groups = [", ".join(group) for group in code.split("-") if group]
    return ". ".join(groups)


ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50}


def transport_said(code: str) -> str:
    """A transport as a voice says it: "XXIIA" is "22 A" (read letter by letter, or "I" as
    the English word, it means nothing); "Z" stays "Z"."""
    numeral = code.rstrip("AB")
    if not numeral or any(letter not in ROMAN for letter in numeral):
        return code
    values = [ROMAN[letter] for letter in numeral]
    number = sum(-value if later > value else value for value, later in zip(values, values[1:] + [0]))
    suffix = code[len(numeral):]
    return f"{number} {suffix}" if suffix else str(number)


def _person(lang: str, flow: BoothFlow) -> str:
    """The name to read, how to say it, the transport and the birth, as the screen shows them."""
    person = flow.assignment
    if person is None:
        return ""
    aid = _t(lang, "name.reading_aid", aid=person.reading_aid) if person.reading_aid else ""
    transport = _t(lang, "person.transport", transport=transport_said(person.transport), number=person.list_number)
    born = born_line(lang, person.birth_date or "", person.birth_place, person.sex)
    return sentences(person.display_name, aid, transport, born)


def _notice(lang: str, flow: BoothFlow) -> str:
    return _t(lang, f"notice.{flow.notice}") if flow.notice else ""


def _back(lang: str) -> Control:
    return button(lang, "back", _t(lang, "shell.back"))


def _typed(lang: str, typed: str) -> str:
    return _t(lang, "booth.say.typed", typed=", ".join(typed)) if typed else _t(lang, "booth.say.nothing_typed")


def _stepper(lang: str, name: str, label: str, value: str) -> list[Control]:
    shown = value or _t(lang, "booth.say.not_given")
    return [
        button(lang, f"{name}-down", _t(lang, "booth.say.lower", what=label, value=shown)),
        button(lang, f"{name}-up", _t(lang, "booth.say.higher", what=label, value=shown)),
    ]


def words(screen: str, lang: str, flow: BoothFlow, *, contact: str, typing: Typing = Typing()) -> ScreenWords:
    """What audio mode says on SCREEN (the booth's screen names: "welcome" and the steps'
    values), in LANG, for the flow as it is now; CONTACT is the booth's address for
    withdrawals ([booth] contact)."""
    say = _SAYINGS.get(screen)
    if say is None:
        raise KeyError(f"the booth has no screen {screen!r} to speak: add it to exhibits.booth.spoken")
    spoken, controls = say(lang, flow, contact, typing)
    return ScreenWords(screen, spoken, tuple(controls))


def _welcome(lang, flow, contact, typing):
    spoken = sentences(_t(lang, "station.title.booth"), _t(lang, "welcome.booth.body"), _t(lang, "booth.say.welcome", begin=_t(lang, "booth.begin")), _t(lang, "booth.say.keys"))
    return spoken, [button(lang, "booth-begin", _t(lang, "booth.begin"))]


def _age(lang, flow, contact, typing):
    controls = [button(lang, control_id, _t(lang, key)) for control_id, key in AGE_BANDS_SHOWN]
    return sentences(_t(lang, "age.title"), _t(lang, "booth.say.age")), controls + [_back(lang)]


def _too_young(lang, flow, contact, typing):
    return sentences(_t(lang, "too_young.title"), _t(lang, "too_young.body")), [_back(lang)]


def _consent_text(lang: str, contact: str) -> str:
    return _t(lang, "consent.v2026_12.body", contact=contact)


def _guardian(lang, flow, contact, typing):
    spoken = sentences(_t(lang, "guardian.title"), _t(lang, "guardian.body"), _consent_text(lang, contact), _t(lang, "booth.say.guardian", confirm=_t(lang, "guardian.confirm"), decline=_t(lang, "consent.decline")))
    controls = [_back(lang), button(lang, "guardian-decline", _t(lang, "consent.decline")), button(lang, "guardian-confirm", _t(lang, "guardian.confirm"))]
    return spoken, controls


def _consent(lang, flow, contact, typing):
    spoken = sentences(_t(lang, "consent.v2026_12.title"), _consent_text(lang, contact), _t(lang, "booth.say.consent", agree=_t(lang, "consent.agree"), decline=_t(lang, "consent.decline")))
    controls = [_back(lang), button(lang, "consent-decline", _t(lang, "consent.decline")), button(lang, "consent-agree", _t(lang, "consent.agree"))]
    return spoken, controls


def _declined(lang, flow, contact, typing):
    return sentences(_t(lang, "declined.title"), _t(lang, "declined.body")), []


def _choose(lang, flow, contact, typing):
    controls = [
        button(lang, "choose-next", _t(lang, "choose.next")),
        button(lang, "choose-match", _t(lang, "choose.match")),
        button(lang, "choose-booking", _t(lang, "choose.booking")),
    ]
    return sentences(_t(lang, "choose.title"), _notice(lang, flow), _t(lang, "booth.say.choose")), controls


def _booking(lang, flow, contact, typing):
    spoken = sentences(_t(lang, "booking.title"), _notice(lang, flow), _t(lang, "booth.say.booking"), _typed(lang, typing.typed))
    ready = len(typing.typed) >= 4
    confirm = button(lang, "booking-confirm", _t(lang, "booking.confirm"), enabled=ready, why_not=_t(lang, "why.booking"))
    return spoken, [*typing.keyboard, _back(lang), confirm]


def _match(lang, flow, contact, typing):
    spoken = sentences(_t(lang, "match.title"), _t(lang, "booth.say.match", find=_t(lang, "match.find")))
    month = i18n.month_name(lang, typing.month) if typing.month else ""
    ready = bool(typing.typed) or bool(typing.day and typing.month) or bool(typing.age)
    controls = list(typing.keyboard)
    controls += _stepper(lang, "day", _t(lang, "match.day"), str(typing.day) if typing.day else "")
    controls += _stepper(lang, "month", _t(lang, "match.month"), month)
    age = str(typing.age) if typing.age else ""
    controls += [
        button(lang, "age-down-10", _t(lang, "booth.say.lower_ten", what=_t(lang, "match.age"), value=age or _t(lang, "booth.say.not_given"))),
        *_stepper(lang, "age", _t(lang, "match.age"), age),
        button(lang, "age-up-10", _t(lang, "booth.say.higher_ten", what=_t(lang, "match.age"), value=age or _t(lang, "booth.say.not_given"))),
        _back(lang),
        button(lang, "match-find", _t(lang, "match.find"), enabled=ready, why_not=_t(lang, "why.match")),
    ]
    return spoken, controls


def _name(lang, flow, contact, typing):
    spoken = sentences(_t(lang, "name.title"), _notice(lang, flow), _person(lang, flow), _t(lang, "booth.say.name", go=_t(lang, "name.continue"), other=_t(lang, "name.other")))
    return spoken, [button(lang, "name-other", _t(lang, "name.other")), button(lang, "name-continue", _t(lang, "name.continue"))]


def _sound_check(lang, flow, contact, typing):
    name = flow.assignment.display_name if flow.assignment else ""
    spoken = sentences(_t(lang, "soundcheck.title"), _t(lang, "soundcheck.body"), _t(lang, "booth.say.sound_check", ready=_t(lang, "soundcheck.ready"), name=name))
    return spoken, [button(lang, "soundcheck-ready", _t(lang, "soundcheck.ready"))]


def _countdown(lang, flow, contact, typing):
    return sentences(_t(lang, "countdown.title")), []


def _recording(lang, flow, contact, typing):
    name = flow.assignment.display_name if flow.assignment else ""
    spoken = sentences(_t(lang, "recording.title"), name, _t(lang, "recording.hint"))
    return spoken, [button(lang, "recording-stop", _t(lang, "recording.stop"))]


def _review(lang, flow, contact, typing):
    review = flow.review
    problem = review.problem if review else None
    if review is not None and not flow.can_try_again:
        tries = _t(lang, "review.last_take")
    elif flow.tries_left == 1:
        tries = _t(lang, "review.tries_left_one")
    else:
        tries = _t(lang, "review.tries_left", count=i18n.number(lang, flow.tries_left))
    spoken = sentences(_t(lang, "review.title"), _t(lang, "review." + (problem or "ok")), tries)
    controls = [
        button(lang, "review-listen", _t(lang, "review.listen")),
        button(lang, "review-again", _t(lang, "review.again"), enabled=flow.can_try_again, why_not=_t(lang, "why.again")),
        button(lang, "review-keep", _t(lang, "review.keep"), enabled=review is not None and problem != "no_speech", why_not=_t(lang, "why.keep")),
    ]
    return spoken, controls


def _thanks(lang, flow, contact, typing):
    name = flow.assignment.display_name if flow.assignment else ""
    code = flow.withdrawal_code or ""
    spoken = sentences(
        _t(lang, "thanks.title"),
        _t(lang, "thanks.body", name=name),
        f"{_t(lang, 'thanks.code')}: {spelled(code)}" if code else "",
        _t(lang, "thanks.withdraw", contact=contact),
    )
    return spoken, [button(lang, "thanks-finish", _t(lang, "thanks.finish"))]


def _out_of_order(lang, flow, contact, typing):
    return sentences(_t(lang, "outoforder.title"), _t(lang, "outoforder." + (flow.fault or "microphone"))), []


_SAYINGS = {
    "welcome": _welcome,
    Step.AGE.value: _age,
    Step.TOO_YOUNG.value: _too_young,
    Step.GUARDIAN.value: _guardian,
    Step.CONSENT.value: _consent,
    Step.DECLINED.value: _declined,
    Step.CHOOSE.value: _choose,
    Step.BOOKING.value: _booking,
    Step.MATCH.value: _match,
    Step.NAME.value: _name,
    Step.SOUND_CHECK.value: _sound_check,
    Step.COUNTDOWN.value: _countdown,
    Step.RECORDING.value: _recording,
    Step.REVIEW.value: _review,
    Step.THANKS.value: _thanks,
    Step.OUT_OF_ORDER.value: _out_of_order,
}
SCREENS = tuple(_SAYINGS)

