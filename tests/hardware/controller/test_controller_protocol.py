"""The shared frame format: checksums, garbage, frames in pieces, and what is refused."""

from __future__ import annotations

import pytest

from hardware.controller import protocol
from hardware.controller.protocol import FrameReader, Message, encode


def test_crc_is_ccitt_false():
    assert protocol.crc16(b"123456789") == 0x29B1


def test_a_frame_is_one_readable_line():
    frame = encode(7, "EV", "BUTTON", "DOWN")
    assert frame.startswith(b"$7,EV,BUTTON,DOWN*") and frame.endswith(b"\n")
    assert FrameReader().feed(frame) == [Message(7, "EV", ("BUTTON", "DOWN"))]


def test_garbage_around_and_between_frames_is_skipped():
    reader = FrameReader()
    data = b"\x00\xff noise" + encode(1, "HB", 10, 0, 0) + b"\x13\x37" + encode(2, "ACK", 1) + b"tail"
    assert [m.kind for m in reader.feed(data)] == ["HB", "ACK"]


def test_a_frame_in_pieces_is_put_together():
    frame = encode(3, "RING", 80)
    reader = FrameReader()
    received = []
    for byte in frame:
        received += reader.feed(bytes([byte]))
    assert received == [Message(3, "RING", ("80",))]
    assert reader.dropped == 0


def test_a_frame_cut_short_does_not_swallow_the_next():
    reader = FrameReader()
    cut = encode(4, "AIR", 1)[:6]
    assert reader.feed(cut + encode(5, "AIR", 0)) == [Message(5, "AIR", ("0",))]
    assert reader.dropped == 1 and reader.last_problem == "frame cut short"


def test_a_bad_checksum_drops_only_that_frame():
    good = encode(6, "LED", "BUTTON", "ON")
    bad = bytearray(good)
    bad[3] = ord("X")  # the kind changed on the line; the CRC no longer fits
    reader = FrameReader()
    assert reader.feed(bytes(bad) + good) == [Message(6, "LED", ("BUTTON", "ON"))]
    assert reader.last_problem == "bad checksum"


def test_crlf_is_accepted_and_control_bytes_in_a_frame_are_not():
    frame = encode(8, "HB")
    reader = FrameReader()
    assert reader.feed(frame[:-1] + b"\r\n") == [Message(8, "HB")]
    assert reader.feed(frame[:4] + b"\x07" + frame[4:]) == []
    assert reader.last_problem == "garbage in a frame"


def test_endless_garbage_inside_a_frame_is_bounded():
    reader = FrameReader()
    assert reader.feed(b"$" + b"A" * 500 + b"\n" + encode(9, "HB")) == [Message(9, "HB")]
    assert reader.last_problem == "frame too long"


@pytest.mark.parametrize("args", [("a,b",), ("two words",), ("",), ("*",)])
def test_fields_a_frame_cannot_carry_are_refused(args):
    with pytest.raises(ValueError, match="frame field"):
        encode(1, "LED", *args)


def test_sequence_wraps_after_255():
    sequence = protocol.Sequence(254)
    assert [sequence.next() for _ in range(3)] == [254, 255, 0]


MICROPYTHON_MODULES = {"machine", "micropython", "select", "sys", "time", "protocol", "hardware.controller"}


@pytest.mark.parametrize("relative", ["protocol.py", "firmware/main.py"])
def test_the_board_code_uses_only_what_micropython_has(relative):
    """No CPython-only module, no annotations or f-strings (MicroPython's are partial)."""
    import ast
    from pathlib import Path

    import hardware.controller

    path = Path(hardware.controller.__file__).parent / relative
    tree = ast.parse(path.read_text(encoding="utf-8"))
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            problems += [alias.name for alias in node.names if alias.name not in MICROPYTHON_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module not in MICROPYTHON_MODULES:
            problems.append(node.module)
        elif isinstance(node, (ast.JoinedStr, ast.AnnAssign)) or getattr(node, "returns", None) is not None:
            problems.append(f"line {node.lineno}: {type(node).__name__}")
        elif isinstance(node, ast.arg) and node.annotation is not None:
            problems.append(f"line {node.lineno}: annotated argument {node.arg}")
    assert problems == [], f"{relative} would not run on MicroPython: {problems}"
