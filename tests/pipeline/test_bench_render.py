"""scripts/bench_render.py: the project's render path against stock manim, timed in the same run,
with SSIM/PSNR of the pictures and a result file with its provenance."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from support import load_script, run_main, write_tiny_mp4

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = "tests/pipeline/fixture_lecture/manifest.py:FIXTURE_COURSE"


@pytest.fixture(scope="module")
def bench():
    return load_script(ROOT / "scripts/bench_render.py", "bench_render_script")


def test_ffmpeg_figures_are_parsed(bench):
    err = ("[Parsed_ssim_4 @ 0x1] SSIM Y:0.995 (23.1) U:0.998 (27.0) V:0.997 (25.2) All:0.996021 (24.0)\n")
    assert bench.parse_ssim(err) == pytest.approx(0.996021)
    psnr = "[Parsed_psnr_4 @ 0x1] PSNR y:41.2 u:45.1 v:44.0 average:42.530 min:40.1 max:inf\n"
    assert bench.parse_psnr(psnr) == 42.53
    assert bench.parse_psnr("PSNR y:inf u:inf v:inf average:inf min:inf max:inf") == float("inf")
    assert bench.parse_ssim("nothing") is None


def test_compare_same_and_different_videos(bench, tmp_path):
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    write_tiny_mp4(a, 10, 5, 20)
    write_tiny_mp4(b, 10, 5, 21)
    same = bench.compare(a, a, 5)
    assert same["ssim"] == 1.0 and same["psnr"] == float("inf")
    diff = bench.compare(a, b, 5)
    assert diff["ssim"] < 1.0 and 10 < diff["psnr"] < 100


@pytest.mark.parametrize(("argv", "named"), [
    (["--scene", "01:NoSuchScene"], "--scene 01:NoSuchScene"),
    (["--quality", "x"], "--quality x"),
    (["--repeats", "0"], "--repeats"),
    (["--manifest", "no_such_file.py:COURSE"], "--manifest no_such_file.py:COURSE"),
])
def test_bad_arguments_exit_2(bench, argv, named, capsys):
    code, err = run_main(bench, capsys, *argv)
    assert code == 2 and named in err and "Traceback" not in err


@pytest.mark.slow
def test_a_fixture_scene_through_both_paths(tmp_path):
    out = tmp_path / "r.json"
    proc = subprocess.run([str(ROOT / ".venv/bin/python"), "scripts/bench_render.py", "--manifest", FIXTURE,
                           "--scene", "90:FixtureBeta", "--quality", "l", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    res = json.loads(out.read_text())
    assert res["schema"] == "render_bench/1" and res["voice"] == "silent"
    prov = res["provenance"]
    assert {"date", "command", "commit", "cpu_model", "load_average_1m", "manim", "wall_s"} <= set(prov)
    assert [r["path"] for r in res["records"]] == ["project", "stock"]
    for r in res["records"]:
        assert r["rc"] == 0 and r["video_s"] > 10 and r["x_realtime"] > 0 and r["frames"] > 150
    (comp,) = res["comparisons"]
    assert comp["ratio_stock_over_project"] > 0
    assert comp["ssim"] > 0.99  # today both paths draw the same frames
    assert "stock / project" in proc.stdout and "| 90:FixtureBeta | 480p15 | project |" in proc.stdout
