"""`kiosk hardware simulate`: the booth controller on a pseudo-terminal, with keys.

For a technician without the board at hand (and for `kiosk demo`): the real firmware
runs behind a pty, reachable at `--link`, which a station names as its
`[booth] controller`. Keys press the button, bring someone to the door, pull the cable;
the lights are printed as they change.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import termios
import time
import tty
from pathlib import Path

import click

KEYS = (
    "b: press the button   h: hold/let go   ,: previous   .: next   s: select   "
    "p: someone at the door/gone   u: pull/put back the cable   g: line noise   q: quit"
)
NAV_KEY_OF = {",": "PREV", ".": "NEXT", "s": "SELECT"}  # the tactile keys beside the button
LIGHT_NAMES = {"on_air": "on air", "ring": "ring light", "button_led": "button light", "status_led": "board LED"}


@click.group()
def hardware() -> None:
    """Booth devices: the controller with the button, the lights and the presence sensor."""


def _describe(name: str, value: object) -> str:
    if name == "ring":
        return f"{LIGHT_NAMES[name]}: {value}%"
    return f"{LIGHT_NAMES.get(name, name)}: {'on' if value else 'off'}"


@hardware.command()
@click.option("--link", type=click.Path(dir_okay=False, path_type=Path), default=Path("dossin-controller"), show_default=True,
              help="Symlink to the simulated port; give it to the station as [booth] controller.")
@click.option("--for", "duration", type=float, default=0, help="Stop after this many seconds (default: until q or Ctrl-C).")
def simulate(link: Path, duration: float) -> None:
    """Simulate the booth controller on a pseudo-terminal: the real firmware, keys for the button.

    Keys are read from stdin (a terminal or a pipe): b, h, p, u, g, q. Every change of a
    light is printed on stdout.
    """
    from hardware.controller.simulator import PtyControllerSimulator

    link = link.absolute()
    if link.exists() and not link.is_symlink():
        from kiosk.errors import KioskError

        raise KioskError(f"{link} exists and is not a symlink", "give --link a path that is free, or remove that file")

    def show(name: str, value: object) -> None:
        if name != "status_led":  # it blinks while no station listens: too chatty to print
            click.echo(_describe(name, value))

    simulator = PtyControllerSimulator(link, on_change=show)
    simulator.start()
    click.echo(f"controller: simulated on {simulator.port}; in station.toml write [booth] controller = \"{link}\"")
    click.echo(f"keys: {KEYS}")
    stdin = sys.stdin.fileno()
    saved = termios.tcgetattr(stdin) if os.isatty(stdin) else None
    if saved is not None:
        tty.setcbreak(stdin)  # one key at a time, Ctrl-C still interrupts
    stopping = []
    previous = signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    deadline = time.monotonic() + duration if duration else None
    try:
        keys_open = True
        while not stopping and (deadline is None or time.monotonic() < deadline):
            if not keys_open:  # no keyboard (stdin closed): run until --for or a signal
                time.sleep(0.1)
                continue
            ready, _, _ = select.select([stdin], [], [], 0.1)
            if not ready:
                continue
            keys = os.read(stdin, 64).decode(errors="replace")
            if not keys:
                keys_open = False
                continue
            for key in keys.lower():
                if key == "q":
                    stopping.append(True)
                else:
                    _key(simulator, key)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        if saved is not None:
            termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved)
        simulator.stop()
        click.echo("controller: stopped")


def _key(simulator, key: str) -> None:
    if key in NAV_KEY_OF:
        click.echo(f"key: {NAV_KEY_OF[key].lower()}")
        simulator.press_key(NAV_KEY_OF[key])
    elif key == "b":
        click.echo("button: pressed")
        simulator.press()
    elif key == "h":
        if simulator.board.pressed:
            simulator.release()
            click.echo("button: let go")
        else:
            simulator.hold()
            click.echo("button: held down")
    elif key == "p":
        if simulator.board.present:
            simulator.leave()
            click.echo("presence: nobody")
        else:
            simulator.arrive()
            click.echo("presence: someone at the door")
    elif key == "u":
        if simulator.plugged_in:
            simulator.unplug()
            click.echo("cable: pulled")
        else:
            simulator.replug()
            click.echo(f"cable: back in ({simulator.port})")
    elif key == "g":
        if simulator.plugged_in:
            simulator.inject(b"\x00\xff#noise$12,EV,BU")
            click.echo("line: noise sent")
