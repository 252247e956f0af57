"""A sound card for tests: a private PulseAudio daemon with a null sink named "booth".

What is played into a null sink comes back out of its monitor source, so a test can
speak a name into "booth", let the station record "booth.monitor" (the default source)
and check what it heard. The daemon is private: its own runtime and config folders,
found by clients through XDG_RUNTIME_DIR, PULSE_SERVER and PULSE_COOKIE, so it neither
meets nor disturbs a desktop's sound server. sounddevice reaches it through the ALSA
device named "pulse".

The null sink's clock is not wall time (3 s of wall time gave 1.8 s to 4 s of frames
here): assert on what was recorded, never on how much.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.tools import HarnessError, process_is_running, require_program, tail, wait_until


class PulseAudio:
    """One private PulseAudio daemon; `start()` it, use the helpers, `stop()` it."""

    sink = "booth"

    def __init__(self, startup_timeout: float = 15.0, command_timeout: float = 30.0):
        self.startup_timeout = startup_timeout
        self.command_timeout = command_timeout
        self.runtime_dir: Path | None = None
        self.pid: int | None = None

    @property
    def source(self) -> str:
        """The monitor of the booth sink: what a microphone test records."""
        return f"{self.sink}.monitor"

    @property
    def env(self) -> dict[str, str]:
        """What a client (pactl, paplay, sounddevice, the station) needs to find the daemon."""
        runtime_dir = self._runtime_dir()
        return {
            "XDG_RUNTIME_DIR": str(runtime_dir),
            "PULSE_SERVER": f"unix:{runtime_dir / 'pulse' / 'native'}",
            "PULSE_COOKIE": str(runtime_dir / "config" / "pulse" / "cookie"),
        }

    def start(self) -> PulseAudio:
        daemon = require_program("pulseaudio", "pulseaudio")
        for program in ("pactl", "paplay", "parecord"):
            require_program(program, "pulseaudio-utils")
        self.runtime_dir = Path(tempfile.mkdtemp(prefix="pulse-"))
        self.runtime_dir.chmod(0o700)
        log_path = self.runtime_dir / "pulseaudio.log"
        try:
            started = subprocess.run(
                [daemon, "--daemonize=yes", "--exit-idle-time=-1", "--disallow-exit", "-n",
                 f"--log-target=newfile:{log_path}",
                 "--load=module-native-protocol-unix",
                 f"--load=module-null-sink sink_name={self.sink}"],
                env=self._daemon_env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=self.startup_timeout,
            )
        except subprocess.TimeoutExpired:
            self.stop()
            raise HarnessError(
                f"pulseaudio did not daemonize within {self.startup_timeout:g} s"
            ) from None
        if started.returncode != 0:
            log_text = tail(log_path)
            self.stop()
            raise HarnessError(
                f"pulseaudio failed to start (status {started.returncode}):\n{log_text}"
            )
        self.pid = self._read_pid()
        try:
            wait_until(
                self._answers,
                timeout=self.startup_timeout,
                waiting_for="PulseAudio to answer `pactl info`",
                still_worth_waiting=self._daemon_gone,
            )
            self.pactl("set-default-source", self.source)
        except HarnessError as error:
            log_text = tail(log_path)
            self.stop()
            raise HarnessError(f"{error}\npulseaudio said:\n{log_text}") from None
        return self

    def stop(self) -> None:
        """Stop the daemon, politely first; safe to call more than once."""
        if self.runtime_dir is None:
            return
        pulseaudio = shutil.which("pulseaudio")
        if pulseaudio and self.pid is not None and process_is_running(self.pid):
            try:
                subprocess.run(
                    [pulseaudio, "--kill"],
                    env=self._daemon_env(),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    timeout=10,
                )
            except subprocess.TimeoutExpired:
                pass
        if self.pid is not None:
            pid = self.pid
            try:
                wait_until(lambda: not process_is_running(pid), timeout=5,
                           waiting_for="PulseAudio to exit")
            except HarnessError:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.pid = None
        shutil.rmtree(self.runtime_dir, ignore_errors=True)
        self.runtime_dir = None

    def pactl(self, *args: str) -> str:
        """Run `pactl ARGS` against this daemon and return its output."""
        return self._run(["pactl", *args], "pulseaudio-utils").stdout

    def play(self, path: str | os.PathLike, sink: str | None = None) -> None:
        """Play a sound file into `sink` (the booth by default); returns when it is done."""
        self._run(["paplay", f"--device={sink or self.sink}", str(path)], "pulseaudio-utils",
                  timeout=max(self.command_timeout, 120.0))

    def speak_to_file(self, text: str, lang: str, path: str | os.PathLike) -> Path:
        """Write `text` spoken by espeak-ng's voice for `lang` ("nl", "fr", "en") to a WAV."""
        self._run(["espeak-ng", "-v", lang, "-w", str(path), "--stdin"], "espeak-ng",
                  input=text)
        return Path(path)

    def speak(self, text: str, lang: str, sink: str | None = None) -> None:
        """Speak `text` into `sink` (the booth by default), as a visitor would into the mic."""
        with tempfile.TemporaryDirectory(dir=self._runtime_dir()) as folder:
            self.play(self.speak_to_file(text, lang, Path(folder) / "speech.wav"), sink)

    def sinks(self) -> dict[str, int]:
        """The daemon's sinks: name to number of channels."""
        found = {}
        for line in self.pactl("list", "short", "sinks").splitlines():
            fields = line.split("\t")
            if len(fields) >= 4:
                spec = fields[3].split()
                found[fields[1]] = int(spec[1].removesuffix("ch")) if len(spec) > 1 else 0
        return found

    def add_sink(self, name: str, channels: int, channel_map: str | None = None) -> str:
        """Add a null sink (`memorial` with 8 channels, say); its monitor is `NAME.monitor`.

        Adding the same sink twice is a no-op, so tests need not know who came first;
        the same name with another channel count is an error. `channel_map` (e.g.
        "front-left,front-right,rear-left,rear-right", ALSA's order for 4 channels, which
        the ALSA "pulse" device sends) makes PulseAudio pass each channel through as it
        is, instead of remixing a client's channels onto a map of its own.
        """
        existing = self.sinks().get(name)
        if existing is None:
            self.pactl("load-module", "module-null-sink", f"sink_name={name}",
                       f"channels={channels}",
                       *([f"channel_map={channel_map}"] if channel_map else []))
        elif existing != channels:
            raise HarnessError(f"sink {name} already exists with {existing} channels, "
                               f"not {channels}")
        return name

    @contextmanager
    def recording(self, path: str | os.PathLike, sink: str | None = None, *,
                  channels: int | None = None, channel_map: str | None = None) -> Iterator[Path]:
        """Record the monitor of `sink` (the booth by default) into a WAV while inside.

        Recording has begun when the block starts, so nothing played inside is missed.
        A multichannel sink needs its `channels` and `channel_map` here too, or parecord
        records PulseAudio's stereo downmix of it.
        """
        parecord = require_program("parecord", "pulseaudio-utils")
        monitor = f"{sink or self.sink}.monitor"
        before = self._source_outputs()
        # pacat's default latency hands over sound in chunks of seconds, and the chunk
        # under way when it is stopped is lost: ask for small ones.
        recorder = subprocess.Popen(
            [parecord, f"--device={monitor}", "--latency-msec=20", "--file-format=wav",
             *([f"--channels={channels}"] if channels else []),
             *([f"--channel-map={channel_map}"] if channel_map else []),
             str(path)],
            env=self._client_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_until(
                lambda: len(self._source_outputs() - before) > 0,
                timeout=self.startup_timeout,
                waiting_for=f"parecord to connect to {monitor}",
                still_worth_waiting=lambda: (
                    None if recorder.poll() is None
                    else f"parecord exited: {recorder.stderr.read().strip()}"
                ),
            )
            yield Path(path)
        finally:
            if recorder.poll() is None:
                recorder.send_signal(signal.SIGINT)
            try:
                _, errors = recorder.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                recorder.kill()
                _, errors = recorder.communicate(timeout=5)
        if recorder.returncode != 0:
            raise HarnessError(f"parecord failed (status {recorder.returncode}): "
                               f"{errors.strip()}")

    def _run(self, command: list[str], debian_package: str, *, timeout: float | None = None,
             input: str | None = None) -> subprocess.CompletedProcess:
        executable = require_program(command[0], debian_package)
        try:
            result = subprocess.run(
                [executable, *command[1:]],
                env=self._client_env(),
                input=input,
                stdin=None if input is not None else subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout or self.command_timeout,
            )
        except subprocess.TimeoutExpired:
            raise HarnessError(f"{' '.join(command)} did not finish within "
                               f"{timeout or self.command_timeout:g} s") from None
        if result.returncode != 0:
            raise HarnessError(f"{' '.join(command)} failed (status {result.returncode}): "
                               f"{result.stderr.strip()}")
        return result

    def _runtime_dir(self) -> Path:
        if self.runtime_dir is None:
            raise HarnessError("PulseAudio is not started")
        return self.runtime_dir

    def _daemon_env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("PULSE_")}
        env["XDG_RUNTIME_DIR"] = str(self._runtime_dir())
        # The cookie and any state go to the private folder, not to ~/.config/pulse.
        env["XDG_CONFIG_HOME"] = str(self._runtime_dir() / "config")
        return env

    def _client_env(self) -> dict[str, str]:
        return {**os.environ, **self.env}

    def _read_pid(self) -> int | None:
        try:
            return int((self._runtime_dir() / "pulse" / "pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def _answers(self) -> bool:
        try:
            self.pactl("info")
        except HarnessError:
            return False
        return True

    def _daemon_gone(self) -> str | None:
        if self.pid is not None and not process_is_running(self.pid):
            return "the pulseaudio daemon exited"
        return None

    def _source_outputs(self) -> set[str]:
        return {
            line.split("\t", 1)[0]
            for line in self.pactl("list", "short", "source-outputs").splitlines()
            if line.strip()
        }
