"""`kiosk booth analyze` and `kiosk booth ingest`: the booth's check and keeping, from a shell."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kiosk.cli.output import emit, json_option


@click.group()
def booth() -> None:
    """The "Elke naam telt" booth's quality check and take keeping."""


def _report_lines(report: dict) -> str:
    def number(value, unit):
        return "—" if value is None else f"{value:.2f} {unit}"

    clipped = report["clipped_fraction"]
    lines = [f"verdict: {report['verdict']}"]
    if report["problems"]:
        lines.append(f"problems: {', '.join(report['problems'])}")
    lines += [
        f"duration: {number(report['duration_s'], 's')}",
        f"speech: {number(report['speech_start_s'], 's')} to {number(report['speech_end_s'], 's')}",
        f"loudness: {number(report['loudness_lufs'], 'LUFS')}",
        f"peak: {number(report['peak_dbfs'], 'dBFS')}",
        f"noise floor: {number(report['noise_floor_dbfs'], 'dBFS')}",
        f"clipped: {'—' if clipped is None else f'{clipped * 100:.3f} %'}",
    ]
    if report["peak_dbfs"] is None:  # refused from its header (too_long): nothing was decoded
        lines.append("not decoded: the file is longer than a take may last")
    return "\n".join(lines)


@booth.command()
@click.argument("audio", type=click.Path(path_type=Path))
@json_option
def analyze(audio: Path, as_json: bool) -> None:
    """Run the booth's quality check on any audio file (any format libsndfile reads, any
    rate, mono or stereo). Exit 0 whatever the verdict; the verdict is in the report.
    A file over 60 s gets the verdict too_long from its header, without being decoded."""
    from exhibits.booth.quality import analyze_file

    emit(analyze_file(audio).to_json(), as_json, _report_lines)


@booth.command()
@click.argument("station_toml", type=click.Path(path_type=Path))
@click.argument("audio", type=click.Path(path_type=Path))
@click.option("--person", "person_id", required=True, help="person_id (from the collection) whose name is read.")
@click.option("--force", is_flag=True, help="Keep the take even when the quality check finds problems.")
@click.option("--consent-version", default=None, help="Version of the consent the reader gave (default: the booth's current one).")
@click.option("--consent-language", type=click.Choice(["nl", "fr", "en"]), default=None, help="Language of that consent (default: the station's).")
@click.option("--age-band", type=click.Choice(["9-12", "13-17", "18+"]), default="18+", show_default=True, help="The reader's age band.")
@click.option("--guardian-confirmed", is_flag=True, help="A parent or guardian consented (required for 9-12).")
@json_option
def ingest(
    station_toml: Path,
    audio: Path,
    person_id: str,
    force: bool,
    consent_version: str | None,
    consent_language: str | None,
    age_band: str,
    guardian_confirmed: bool,
    as_json: bool,
) -> None:
    """A take made elsewhere enters the booth pipeline: checked, kept durably (48 kHz FLAC
    and a sidecar) and queued for the central store. Record the reader's consent with the
    options; no name or contact of the reader is ever stored. A file longer than the
    booth's [booth] max_recording_s is refused from its header, even with --force."""
    from exhibits.booth.flow import CONSENT_VERSION
    from exhibits.booth.ingest import TakeRefused
    from exhibits.booth.ingest import ingest as ingest_take
    from exhibits.booth.take_store import TakeStore
    from kiosk.link.outbox import Consent
    from kiosk.collection import load_collection
    from kiosk.config import load_station_config
    from kiosk.logs import configure_logging

    config = load_station_config(station_toml)
    configure_logging(config.station.id, "WARNING", stream=sys.stderr)
    consent = Consent(
        version=consent_version or CONSENT_VERSION,
        language=consent_language or config.station.default_language,
        age_band=age_band,
        guardian_confirmed=guardian_confirmed,
    )
    store = TakeStore(config.data_dir / "takes", config.station.id)
    known = load_collection(config.collection_dir).by_id
    try:
        kept, report = ingest_take(
            store,
            audio,
            person_id=person_id,
            known_person_ids=known,
            consent=consent,
            force=force,
            max_duration_s=config.booth.max_recording_s,
        )
    except TakeRefused as refused:
        if as_json:
            emit({"kept": False, "quality": refused.report.to_json()}, True, str)
        raise
    result = {"kept": True, "recording_id": kept.recording_id, "withdrawal_code": kept.metadata["withdrawal_code"], "quality": report.to_json()}
    emit(result, as_json, lambda r: f"kept {r['recording_id']} (verdict {r['quality']['verdict']}), queued for the central store\nwithdrawal code: {r['withdrawal_code']}")
