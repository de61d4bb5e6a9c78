"""``sleep-kd study results_page``: docs/results.md and the README's results summary are what results/*.json give.

The committed pages are compared with the generator's output, so a table cannot drift from its JSON;
a missing or broken input is one line naming it, and nothing is written.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sleep_kd.studies import results_page

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "docs" / "results.template.md"


def run(argv: list, capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = results_page.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the results (without the kept rows), the template and the README."""
    shutil.copytree(ROOT / "results", tmp_path / "results", ignore=shutil.ignore_patterns("*_rows"))
    (tmp_path / "docs").mkdir()
    shutil.copy(TEMPLATE, tmp_path / "docs" / "results.template.md")
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    return tmp_path


def argv_of(folder: Path, *extra) -> list:
    return ["--results", folder / "results", "--template", folder / "docs" / "results.template.md",
            "--out", folder / "docs" / "results.md", "--readme", folder / "README.md", *extra]


def test_the_committed_results_page_and_readme_summary_are_what_the_results_give(capsys):
    pages = results_page.build(results=ROOT / "results", template=TEMPLATE, out=ROOT / "docs" / "results.md",
                               readme=ROOT / "README.md")
    for path, text in pages.items():
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run 'sleep-kd study results_page'"
    readme = pages[ROOT / "README.md"]
    assert ("| night context: ECG base, one window -> 20 epochs | 0.400 -> 0.689 | +0.289 [+0.229, +0.348] |"
            in readme.splitlines())
    assert ("| distillation, 20 epochs: ECG base -> KD-Temp | 0.689 -> 0.698 | +0.009 [-0.022, +0.041] |"
            in readme.splitlines())
    page = pages[ROOT / "docs" / "results.md"]
    assert "<!-- table:" not in page and page.startswith(results_page.HEADER + "\n")
    assert "| KD-Temp (SD+CL) | 0.698 | 0.808 | 0.756 | 0.834 | +0.009 [-0.022, +0.041] | 0.025 |" in page.splitlines()
    code, _, err = run(["--results", ROOT / "results", "--template", TEMPLATE, "--out", ROOT / "docs" / "results.md",
                        "--readme", ROOT / "README.md", "--check"], capsys)
    assert (code, err) == (0, "")


@pytest.mark.parametrize("damage, message", [
    (lambda r: (r / "teacher_signal" / "a70_context20_test.json").unlink(),
     "teacher_signal/a70_context20_test.json: no such file (a study report)"),
    (lambda r: (r / "kd_study.json").write_text("{}"), "kd_study.json: not a kd_study result (no 'command')"),
    (lambda r: (r / "kd_seeds.json").write_text("{"),
     "kd_seeds.json: not JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"),
])
def test_a_missing_results_file_is_one_line_naming_it_and_nothing_is_written(checkout, capsys, damage, message):
    damage(checkout / "results")
    readme = (checkout / "README.md").read_bytes()
    code, out, err = run(argv_of(checkout), capsys)
    assert (code, out, err) == (2, "", f"error: {checkout / 'results'}/{message}\n")
    assert not (checkout / "docs" / "results.md").exists()
    assert (checkout / "README.md").read_bytes() == readme


def test_an_unknown_table_in_the_template_is_one_line_naming_its_line(checkout, capsys):
    template = checkout / "docs" / "results.template.md"
    template.write_text("# Results\n\n<!-- table: kd_studies -->\n")
    code, _, err = run(argv_of(checkout), capsys)
    assert code == 2
    assert err == (f"error: {template}:3: unknown table 'kd_studies'; known: " + ", ".join(results_page.TABLES) + "\n")
    assert not (checkout / "docs" / "results.md").exists()


def test_a_readme_without_the_summary_lines_is_one_line(checkout, capsys):
    (checkout / "README.md").write_text("# sleep_kd\n")
    code, _, err = run(argv_of(checkout), capsys)
    assert (code, err) == (2, f"error: {checkout / 'README.md'}: no '<!-- results summary -->' ... "
                              "'<!-- end results summary -->' lines to fill\n")
    assert not (checkout / "docs" / "results.md").exists()


def test_check_names_a_stale_page_and_exits_1(checkout, capsys):
    code, out, _ = run(argv_of(checkout), capsys)
    assert code == 0 and out.count("[results_page] wrote ") == 2
    assert (checkout / "docs" / "results.md").read_text() == (ROOT / "docs" / "results.md").read_text()
    readme = checkout / "README.md"
    stale = readme.read_text().replace("+0.289 [+0.229, +0.348]", "+0.300 [+0.229, +0.348]")
    readme.write_text(stale)
    code, out, err = run(argv_of(checkout, "--check"), capsys)
    assert (code, out) == (1, "")
    assert err == f"error: {readme}: not what the results give; run 'sleep-kd study results_page'\n"
    assert readme.read_text() == stale
