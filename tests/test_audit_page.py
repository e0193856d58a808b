"""The report as a browser shows it: Debian's headless Chromium renders audit/report.html, and a
probe script (added to a copy, never to the report) reports what is on screen."""

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from autoscholar.audit import write_report
from autoscholar.audit.review import Verdict, save_verdicts
from autoscholar.config import Settings
from autoscholar.stages import build

PROBE = """<script>
window.addEventListener('load', () => {
  const shown = el => { const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'
      && parseFloat(s.opacity) > 0; };
  const out = {
    plots: [...document.querySelectorAll('img')].map(i => ({alt: i.alt, width: i.naturalWidth,
      height: i.naturalHeight, complete: i.complete, shown: shown(i)})),
    tables: [...document.querySelectorAll('table')].map(t => ({css: t.className,
      rows: t.rows.length, shown: shown(t)})),
    external: [...document.querySelectorAll('[src],[href]')].map(
      e => e.getAttribute('src') || e.getAttribute('href')).filter(u => !u.startsWith('data:')),
    scripts: document.querySelectorAll('script').length,
    pageWidth: document.documentElement.scrollWidth,
  };
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""
WIDTH = 1280


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("CI is set but chromium is missing: apt-get install -y chromium")
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    return found


def headless(tmp_path: Path, *args) -> subprocess.CompletedProcess:
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
           f"--window-size={WIDTH},4000", "--virtual-time-budget=5000", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("page") / "run"
    build(Settings(venue="demo", run_dir=run_dir))
    # A review, so the page has its rates table too.
    from autoscholar.audit.figures import load

    rows = load(run_dir).rows
    save_verdicts(run_dir / "audit", "human", [
        Verdict(qid=e.qid, complete=True, faithful=True, unambiguous=i % 4 != 0,
                answers={a: True for a in e.answer_arxiv_id}) for i, e in enumerate(rows)],
        source="test.csv")
    return write_report(run_dir)


def test_headless_chromium_shows_every_plot_and_table(report, tmp_path):
    probed = tmp_path / "probed.html"
    probed.write_text(report.read_text().replace("</body>", PROBE + "</body>"))
    dom = headless(tmp_path, "--dump-dom", probed.as_uri()).stdout
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    seen = json.loads(html.unescape(found.group(1)))
    plots = seen["plots"]
    assert [p["alt"] for p in plots] == ["answers per query", "question length",
                                         "fuzzy match scores", "question vs answer-title overlap"]
    assert all(p["complete"] and p["shown"] and p["width"] == 500 and p["height"] == 300
               for p in plots), plots
    tables = {t["css"]: t for t in seen["tables"] if t["css"]}
    for css in ("funnel", "papers", "venues", "dist", "review"):
        assert tables[css]["shown"] and tables[css]["rows"] > 1, (css, tables.get(css))
    assert all(t["shown"] for t in seen["tables"])
    assert seen["external"] == []  # self-contained: nothing fetched from anywhere
    assert seen["scripts"] == 1  # the probe's own; the report has none
    assert seen["pageWidth"] <= WIDTH  # nothing forces a sideways scroll


def test_screenshot_is_the_rendered_page(report, tmp_path):
    shot = tmp_path / "report.png"
    headless(tmp_path, f"--screenshot={shot}", report.as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (WIDTH, 4000)
    assert len(data) > 100_000  # text, tables and plots, not a blank page
