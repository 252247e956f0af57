"""The booth controller's serial protocol, shared by the station and the firmware.

Both ends import this one file (the firmware copies it next to its main.py), so a
frame is built and checked by the same code on the station's CPython and on the
board's MicroPython. That is why it uses nothing MicroPython lacks: no dataclasses, no
typing at run time, no f-strings with format specs, a CRC computed by hand.

A frame is one ASCII line, readable in any serial terminal:

    $<seq>,<KIND>[,<arg>...]*<crc16 as 4 hex digits>\n

The CRC (CRC-16/CCITT-FALSE) covers everything between `$` and `*`. A reader that meets
garbage, a frame cut short, or a `$` in the middle of a frame drops what it had and
starts again at the next `$`; see hardware/PROTOCOL.md for the messages.
"""

PROTOCOL_VERSION = 1
BAUD_RATE = 115200  # USB CDC ignores it; a UART bridge on the way needs it
MAX_FRAME = 96  # bytes between `$` and `\n`; anything longer is garbage

START = 0x24  # $
END = 0x0A  # \n
CHECK = 0x2A  # *
RETURN = 0x0D  # \r: tolerated before \n, for terminals that send both

# Message kinds (see PROTOCOL.md)
HELLO = "HELLO"  # both ways: versions
HEARTBEAT = "HB"  # both ways: alive (the controller adds uptime, button, presence)
EVENT = "EV"  # controller: BUTTON DOWN|UP, PRESENCE 1|0, PREV|NEXT|SELECT DOWN|UP
ON_AIR = "AIR"  # station: 1|0
RING = "RING"  # station: 0..100
LED = "LED"  # station: <name>,OFF|ON|BLINK
ACK = "ACK"  # controller: <seq of the command>
NAK = "NAK"  # controller: <seq of the command>,<reason>

COMMANDS = (ON_AIR, RING, LED)
BUTTON = "BUTTON"
PRESENCE = "PRESENCE"
DOWN = "DOWN"
UP = "UP"
LED_MODES = ("OFF", "ON", "BLINK")

# The tactile keys beside the big button (firmware 1.1 and later), for visitors who
# cannot see the screen: move the focus back, forward, and press what has the focus.
PREV = "PREV"
NEXT = "NEXT"
SELECT = "SELECT"
NAV_KEYS = (PREV, NEXT, SELECT)
# Features a board names after its board name in HELLO, joined by "+". A board that
# names none (firmware 1.0) has only the big button; an older station ignores the field.
FEATURE_NAV = "NAV"


def crc16(data, crc=0xFFFF):
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF): "123456789" gives 0x29B1."""
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            if crc & 0x8000:
                crc = ((crc << 1) ^ 0x1021) & 0xFFFF
            else:
                crc = (crc << 1) & 0xFFFF
    return crc


class Message:
    """One decoded frame: its sequence number, kind and arguments (strings)."""

    def __init__(self, seq, kind, args=()):
        self.seq = seq
        self.kind = kind
        self.args = tuple(args)

    def __eq__(self, other):
        return isinstance(other, Message) and (self.seq, self.kind, self.args) == (other.seq, other.kind, other.args)

    def __repr__(self):
        return "Message(%d, %r, %r)" % (self.seq, self.kind, self.args)


def _valid_field(text):
    if not text:
        return False
    for char in text:
        code = ord(char)
        if code < 0x21 or code > 0x7E or char in "$*,":
            return False
    return True


def encode(seq, kind, *args):
    """The bytes of one frame. Raises ValueError for a field a frame cannot carry."""
    if not 0 <= seq <= 255:
        raise ValueError("seq must be 0..255, not %r" % (seq,))
    fields = [str(seq), kind] + [str(arg) for arg in args]
    for field in fields:
        if not _valid_field(field):
            raise ValueError("a frame field must be printable ASCII without $ * , or spaces: %r" % (field,))
    body = ",".join(fields).encode()
    if len(body) + 6 > MAX_FRAME:
        raise ValueError("frame too long (%d bytes)" % (len(body) + 6))
    return b"$" + body + b"*" + ("%04X" % crc16(body)).encode() + b"\n"


def _decode_line(line):
    """A Message from the bytes between `$` and `\\n`, or None with the reason."""
    star = line.rfind(b"*")
    if star < 0 or len(line) - star - 1 != 4:
        return None, "no checksum"
    body = line[:star]
    try:
        expected = int(line[star + 1:].decode(), 16)
    except ValueError:
        return None, "no checksum"
    if crc16(body) != expected:
        return None, "bad checksum"
    fields = body.decode().split(",")
    if len(fields) < 2 or not fields[0].isdigit() or not 0 <= int(fields[0]) <= 255:
        return None, "no sequence number"
    for field in fields[1:]:
        if not _valid_field(field):
            return None, "empty field"
    return Message(int(fields[0]), fields[1], fields[2:]), None


class FrameReader:
    """Turns a byte stream into Messages, surviving garbage and frames cut short.

    `feed(data)` returns the complete, intact messages in `data` (and in what earlier
    calls left unfinished). `dropped` counts what was thrown away and `last_problem`
    says why, for a technician's log.
    """

    def __init__(self):
        self._buffer = bytearray()
        self._in_frame = False
        self.dropped = 0
        self.last_problem = None

    def _drop(self, why):
        self.dropped += 1
        self.last_problem = why
        self._buffer = bytearray()
        self._in_frame = False

    def feed(self, data):
        messages = []
        for byte in data:
            if byte == START:
                if self._in_frame:
                    self._drop("frame cut short")
                self._in_frame = True
                continue
            if not self._in_frame:
                continue  # garbage between frames: skip to the next `$`
            if byte == END:
                line = bytes(self._buffer)
                if line.endswith(b"\r"):
                    line = line[:-1]
                message, why = _decode_line(line)
                if message is None:
                    self._drop(why)
                else:
                    self._buffer = bytearray()
                    self._in_frame = False
                    messages.append(message)
            elif byte < 0x20 and byte != RETURN or byte > 0x7E:
                self._drop("garbage in a frame")
            elif len(self._buffer) >= MAX_FRAME:
                self._drop("frame too long")
            else:
                self._buffer.append(byte)
        return messages


class Sequence:
    """Sequence numbers 0..255, wrapping: enough to match an ACK to its command."""

    def __init__(self, start=0):
        self._next = start & 0xFF

    def next(self):
        value = self._next
        self._next = (self._next + 1) & 0xFF
        return value
