"""The course both ways: every lesson's student copy is built, and in it each exercise's check *fails* on the stub
(the lessons themselves run with their solutions in the notebook tests, so every check passes on its answer).

Each lesson's student copy runs in a fresh process (`vislab course check`), cells marked slow/cuda/notest skipped."""
import subprocess, sys
from pathlib import Path
import nbformat, pytest
from vislab.lab.course import build_course, exercises, lessons

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT/'nbs'/'course'
LESSONS = [p for p in lessons(COURSE) if exercises(nbformat.read(p, as_version=4), str(p))]

def test_every_lesson_has_exercises_and_builds(tmp_path):
    assert len(LESSONS) >= 4, LESSONS
    paths = build_course(COURSE, tmp_path)
    assert {p.name for p in paths} == {p.name for p in lessons(COURSE)}
    for p in paths:
        src = nbformat.read(p, as_version=4)
        assert not any(c.cell_type == 'code' and ('### BEGIN SOLUTION' in c.source or c.outputs) for c in src.cells), p

@pytest.mark.parametrize('lesson', LESSONS, ids=lambda p: p.name)
def test_checks_fail_on_the_student_copy(lesson):
    r = subprocess.run([sys.executable, '-m', 'vislab.lab.cli', 'course', 'check', str(lesson)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and 'every check fails on its stub' in r.stdout, r.stdout + r.stderr[-3000:]
