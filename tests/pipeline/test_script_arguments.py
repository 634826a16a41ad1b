"""The review scripts (layout, contact sheets, notebooks, listening) refuse a bad --manifest or --lecture
with exit 2 and a one-line message naming the argument, like render.py and coverage.py."""
from __future__ import annotations

from pathlib import Path

import pytest
from support import load_script, run_main

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
NAMES = ("check_layout", "sheet", "notebooks", "check_narration")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("argv", "named"), [
    (["--lecture", "99"], "--lecture '99': no lecture '99'"),
    (["--lecture", "01", "--manifest", "no_such_file.py:COURSE"], "--manifest: manifest 'no_such_file.py:COURSE'"),
])
def test_bad_manifest_or_lecture_exits_2_naming_it(name, argv, named, capsys):
    code, err = run_main(load_script(SCRIPTS / f"{name}.py", f"{name}_script"), capsys, *argv)
    assert code == 2
    assert named in err and "Traceback" not in err
