"""Importing the package is light: the reports layer (pandas, matplotlib, seaborn) loads on use."""

import subprocess
import sys

HEAVY = ("pandas", "matplotlib", "seaborn")


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_import_does_not_load_the_reports_layer():
    loaded = _run("import sys, hank_mfg; "
                  f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    assert loaded == "", f"import hank_mfg loaded {loaded}"


def test_report_names_load_on_first_use():
    out = _run("import sys, hank_mfg as hm; f = hm.wealth_distribution; "
               "import hank_mfg.reports as rep; "
               "print(f is rep.wealth_distribution, hm.reports is rep, 'pandas' in sys.modules, "
               "'wealth_distribution' in dir(hm))")
    assert out == "True True True True"


def test_every_public_name_resolves():
    import hank_mfg as hm

    missing = [n for n in hm.__all__ if not hasattr(hm, n)]
    assert not missing
