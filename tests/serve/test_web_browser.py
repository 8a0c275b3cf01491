"""The web app in a real browser: Debian's Chromium (``/usr/bin/chromium``, installed by
scripts/setup.sh) driven by Playwright against a real ``text3d serve`` with a token.

Through the page only, the test sets the token, submits a batch, watches the job's progress
bar advance, waits for the model in the three.js viewer, checks by pixels that the WebGL
canvas shows it (and that background, orbit, reset and wireframe change the picture), downloads
the GLB and parses it, reads the gallery with its prompt-kind filter, and, once the run is
evaluated, its report and per-asset scores. With
``TEXT3D_UPDATE_DOCS=1`` it also saves the page as docs/web_app.png (the README's screenshot).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.serve.service import kill_service, start_service
from text3d.assets.io import load_asset

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.is_file():
    pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed; scripts/setup.sh installs it",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="playwright is not installed; scripts/setup.sh installs the `web` extra")

LIMIT_S = 120.0
"""How long the test waits for the service, the page or the job (a hang, never a timing check)."""
CHROMIUM_ARGS = [
    "--no-sandbox",  # the test may run as root in a container
    "--disable-dev-shm-usage",  # containers often have a 64 MB /dev/shm
    "--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",  # WebGL on the CPU
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
    "--disable-quic",
]
TOKEN = "web-test-token"
PROMPTS = ["small blue sailboat", "red wooden chair", "green table", "yellow chair with four legs",
           "blue sailboat beside red chair", "tall white lamp"]
"""Six items of the fast procedural backend, each with a turntable GIF: the job lasts several of
the service's 0.5 s event intervals, so the bar shows counts between none and all."""
BACKGROUND = (0xEE, 0xF1, 0xF5)  # the page's default background, #eef1f5
DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "web_app.png"


@pytest.fixture
def service(tmp_path):
    """The base URL of ``text3d serve --token`` on a free port; killed with its workers afterwards."""
    process, url = start_service(tmp_path / "data", "--workers", "1", "--token", TOKEN)
    try:
        yield url
    finally:
        kill_service(process)


@pytest.fixture
def page(service):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.set_default_timeout(LIMIT_S * 1000)
            page.goto(service + "/")
            page.wait_for_selector("body[data-ready]")
            yield page
            assert not errors, errors  # no uncaught exception in the page's scripts
        finally:
            browser.close()


def pixels(page, selector: str) -> np.ndarray:
    """(H, W, 3) uint8 screenshot of one element."""
    return np.asarray(Image.open(io.BytesIO(page.locator(selector).screenshot())).convert("RGB"))


def share_unlike(image: np.ndarray, color: tuple[int, int, int], tolerance: int = 12) -> float:
    """Fraction of pixels whose largest channel difference to ``color`` exceeds ``tolerance``."""
    return float((np.abs(image.astype(int) - np.array(color)).max(axis=2) > tolerance).mean())


def changed_share(image: np.ndarray, before: np.ndarray, tolerance: int = 12) -> float:
    """Fraction of pixels that changed by more than ``tolerance`` in some channel."""
    return float((np.abs(image.astype(int) - before.astype(int)).max(axis=2) > tolerance).mean())


def set_color(page, selector: str, hex_color: str) -> None:
    page.eval_on_selector(selector, "(el, v) => { el.value = v; el.dispatchEvent(new Event('input')); }", hex_color)


def test_the_page_generates_shows_and_downloads_a_model(page, service, tmp_path):
    # without the token the page says why it cannot list jobs; with it the message goes
    assert "bearer token" in page.inner_text("#error")
    page.fill("#token", TOKEN)
    page.dispatch_event("#token", "change")
    page.wait_for_selector("#error", state="hidden")

    # record every value the jobs' progress bars take, and the job states, as the page draws them
    page.evaluate("""() => { window.seen = [];
        new MutationObserver(() => document.querySelectorAll('#jobs .job').forEach((job) =>
            window.seen.push([job.dataset.state, Number(job.querySelector('progress').value)])))
          .observe(document.getElementById('jobs'), {subtree: true, childList: true, attributes: true}); }""")
    page.fill("#prompt", "\n".join(PROMPTS))
    page.fill("#backend", "procedural")
    page.select_option("#resolution", "256")
    page.check("#gif")
    page.click("#submit")

    page.wait_for_selector("#viewer[data-loaded]")
    page.wait_for_selector(".job[data-state=done]")
    job_id = page.get_attribute(".job[data-state=done]", "data-job")
    status = httpx.get(f"{service}/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert status["progress"]["done"] == len(PROMPTS), status
    seen = [entry for entry in page.evaluate("window.seen") if entry[0]]  # a card is added, then drawn
    values = [value for _, value in seen]
    assert seen[0][0] in ("queued", "running") and values[0] < 1, seen[:3]
    assert any(0 < value < 1 for value in values), f"no partial progress among {sorted(set(values))}"
    assert values == sorted(values) and values[-1] == 1.0  # the bar only moves forward, to full
    # the caption beside the prompt box is the augmenter's caption of the first item
    assert page.inner_text("#caption") == status["items"][0]["caption"]

    # the WebGL canvas shows the model: more than 2% of its pixels differ from the background
    page.wait_for_timeout(300)
    solid = pixels(page, "#viewer canvas")
    assert share_unlike(solid[8:16, 8:16], BACKGROUND) == 0  # near a corner: the background itself
    covered = share_unlike(solid, BACKGROUND)
    assert covered > 0.02, f"{covered:.1%} of the canvas differs from the background"
    set_color(page, "#background", "#203040")
    dark = pixels(page, "#viewer canvas")
    assert share_unlike(dark[8:16, 8:16], (0x20, 0x30, 0x40)) == 0 and share_unlike(dark, (0x20, 0x30, 0x40)) > 0.02
    set_color(page, "#background", "#eef1f5")
    # dragging orbits the camera (the picture changes); "reset view" brings the first picture back
    box = page.locator("#viewer canvas").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 150, box["y"] + box["height"] / 2 + 40, steps=5)
    page.mouse.up()
    assert changed_share(pixels(page, "#viewer canvas"), solid) > 0.005
    page.click("#reset-view")
    assert changed_share(pixels(page, "#viewer canvas"), solid) < 0.001
    page.check("#wireframe")
    wire = pixels(page, "#viewer canvas")
    changed = changed_share(wire, solid)
    assert changed > 0.005 and share_unlike(wire, BACKGROUND) > 0.005, (changed, share_unlike(wire, BACKGROUND))
    page.uncheck("#wireframe")

    # the download link gives the asset's GLB, which parses into a mesh
    with page.expect_download() as download:
        page.click("#download")
    saved = tmp_path / "download.glb"
    download.value.save_as(saved)
    loaded = page.get_attribute("#viewer", "data-loaded")
    served = httpx.get(f"{service}/v1/jobs/{loaded.replace('/', '/items/')}/asset.glb",
                       headers={"Authorization": f"Bearer {TOKEN}"})
    assert saved.read_bytes() == served.content
    assert load_asset(saved).n_faces > 0

    # the gallery lists every asset with a thumbnail and metrics; the kind filter narrows it
    page.wait_for_function(f"document.querySelectorAll('#gallery .card').length === {len(PROMPTS)}")
    page.wait_for_function("[...document.querySelectorAll('#gallery .card img')].every((i) => i.naturalWidth > 0)")
    assert page.locator("#gallery .card tr[data-metric=faces]").count() == len(PROMPTS)
    kinds = page.eval_on_selector_all("#gallery .card", "cards => cards.map((c) => c.dataset.kind)")
    assert "grouped" in kinds and "refined" in kinds
    page.select_option("#kind-filter", "grouped")
    page.wait_for_function(f"document.querySelectorAll('#gallery .card').length === {kinds.count('grouped')}")
    assert set(page.eval_on_selector_all("#gallery .card", "cards => cards.map((c) => c.dataset.kind)")) == {"grouped"}
    page.select_option("#kind-filter", "")
    assert "not been evaluated" in page.inner_text("#report")

    # once `text3d eval` has written its report into the run, the page shows it and the scores per asset
    from text3d.eval.protocol import EvalOptions, evaluate_run
    from text3d.eval.report import write_reports

    run = tmp_path / "data" / "jobs" / job_id / "run"
    write_reports(evaluate_run(run, run, options=EvalOptions(clip_views="canonical4")), run)
    page.click("#gallery-refresh")
    heading = page.frame_locator("#report iframe[sandbox='']").locator("h1")
    heading.wait_for()
    assert heading.inner_text().startswith("Evaluation")
    page.wait_for_function(f"document.querySelectorAll('#gallery .card tr[data-metric=clip_user]').length === "
                           f"{len(PROMPTS)}")
    if os.environ.get("TEXT3D_UPDATE_DOCS") == "1":  # the README's screenshot: model, caption, gallery, report
        page.wait_for_function("[...document.querySelectorAll('#gallery .card img')].every((i) => i.naturalWidth)")
        page.locator("#report iframe").scroll_into_view_if_needed()  # the report's frame paints once it is seen
        page.wait_for_timeout(300)
        shot = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("RGB")
        shot.quantize(256, method=Image.Quantize.MEDIANCUT).save(DOCS_SHOT, optimize=True)  # 256 colors: 1/3 the size
    page.locator("#gallery .card[data-index='4']").click()  # a gallery card opens its asset in the viewer
    page.wait_for_function(f"document.getElementById('viewer').dataset.loaded === '{job_id}/4'")
    assert page.inner_text("#caption") == status["items"][4]["caption"]
    assert changed_share(pixels(page, "#viewer canvas"), solid) > 0.02  # another model
