"""The web app's server side: the page and every module it imports are served, static paths
stay in their folders, and the gallery and report endpoints describe a job's run folder as it
is on disk (per-asset metrics from the files, the evaluation's numbers from its per_item.csv)."""

from __future__ import annotations

import csv
import json
import re

import pytest

from text3d.assets.io import load_asset
from text3d.data.toyworld.instance import DEV_SEEDS, KINDS, item_spec, make_instance
from text3d.serve.jobs import JobNotFound
from text3d.serve.web.gallery import prompt_kind, report_file
from text3d.serve.web.routes import three_installed

from .conftest import FAST, make_client

IMPORT = re.compile(r"""^\s*(?:import|export)\s[^'"]*?\bfrom\s*['"]([^'"]+)['"]"""  # import … from 'x'
                    r"""|^\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)""", re.M)
"""A module's imports: ``… from 'x'``, ``import 'x'`` and ``import('x')``."""


def test_three_is_installed_by_setup():
    assert three_installed(), "run scripts/setup.sh: it installs three.js with npm ci"


def test_the_page_and_every_module_it_imports_are_served(tmp_path):
    with make_client(tmp_path / "data") as client:
        page = client.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        imports = json.loads(re.search(r'<script type="importmap">(.*?)</script>', page.text, re.S).group(1))["imports"]
        pending = [f"/{src}" for src in re.findall(r'<script type="module" src="([^"]+)"', page.text)]
        pending += [f"/{href}" for href in re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.text)]
        seen = set()
        while pending:  # follow every static import of the page's modules, three's included
            url = pending.pop()
            if url in seen:
                continue
            seen.add(url)
            answer = client.get(url)
            assert answer.status_code == 200, url
            if not url.endswith(".js"):
                continue
            for name in ("".join(groups) for groups in IMPORT.findall(answer.text)):
                if name.startswith("."):
                    base = url.rsplit("/", 1)[0]
                    parts = f"{base}/{name}".split("/")
                    resolved: list[str] = []
                    for part in parts:
                        if part == "..":
                            resolved.pop()
                        elif part != ".":
                            resolved.append(part)
                    pending.append("/".join(resolved))
                else:
                    prefix = max((k for k in imports if name == k or (k.endswith("/") and name.startswith(k))), key=len)
                    pending.append("/" + (imports[prefix] + name[len(prefix):]).removeprefix("./"))
        assert {"/web/app.js", "/web/viewer.js", "/vendor/three/build/three.module.js",
                "/vendor/three/examples/jsm/loaders/GLTFLoader.js",
                "/vendor/three/examples/jsm/controls/OrbitControls.js"} <= seen


@pytest.mark.parametrize("path", [
    "/web/%2e%2e/routes.py", "/web/..%2froutes.py", "/web/%2e%2e%2f%2e%2e%2fjobs.py", "/web/%2fetc%2fpasswd",
    "/vendor/three/build/%2e%2e/package.json", "/vendor/three/build/..%2f..%2f..%2fapp.py",
    "/vendor/three/examples/jsm/%2e%2e/%2e%2e/LICENSE"])
def test_static_paths_never_leave_their_folders(tmp_path, path):
    with make_client(tmp_path / "data") as client:
        answer = client.get(path)
    assert answer.status_code == 404 and answer.json()["detail"]


def test_options_name_the_registered_backends_and_augmenters(tmp_path):
    with make_client(tmp_path / "data") as client:
        options = client.get("/v1/options").json()
    assert {"embedded", "procedural"} <= set(options["backends"])
    assert options["augmenters"][0] == "none" and "embedded" in options["augmenters"]
    assert "canonical4" in options["views"]


def test_the_gallery_and_report_need_the_token_when_one_is_set(tmp_path):
    with make_client(tmp_path / "data", token="secret") as client:
        assert client.get("/").status_code == 200  # the page itself asks for the token
        job_id = client.post("/v1/jobs", json={**FAST, "prompt": "red chair"},
                             headers={"Authorization": "Bearer secret"}).json()["id"]
        for path in ("gallery", "report", "report.html"):
            assert client.get(f"/v1/jobs/{job_id}/{path}").status_code == 401
            assert client.get(f"/v1/jobs/{job_id}/{path}", headers={"Authorization": "Bearer nope"}).status_code == 401
        assert client.get(f"/v1/jobs/{job_id}/gallery", headers={"Authorization": "Bearer secret"}).status_code == 200


def test_the_gallery_reads_kinds_thumbnails_and_metrics_from_the_run(finished):
    client, job_id, status = finished
    gallery = client.get(f"/v1/jobs/{job_id}/gallery").json()
    assert gallery["evaluated"] is False and gallery["kinds"] == ["basic"]
    run = client.app.state.store.get(job_id).run
    for item, row in zip(gallery["items"], status["items"]):
        assert (item["prompt"], item["caption"], item["kind"]) == (row["prompt"], row["caption"], "basic")
        assert item["thumbnail"] == "views/canonical4/000.png"
        assert client.get(f"/v1/jobs/{job_id}/items/{item['index']}/{item['thumbnail']}").status_code == 200
        glb = next(run.items_dir.glob(f"p{item['index']:05d}-*/asset.glb"))
        assert item["metrics"]["faces"] == load_asset(glb).n_faces
        assert item["metrics"]["glb_kib"] == round(glb.stat().st_size / 1024, 1)
        assert item["metrics"]["seconds_total"] == pytest.approx(sum(row["seconds"].values()), abs=2e-3)
    answer = client.get(f"/v1/jobs/{job_id}/report")
    assert answer.status_code == 404 and "text3d eval --generated" in answer.json()["detail"]


def test_an_evaluated_run_shows_its_report_and_per_asset_scores(finished):
    from text3d.eval.protocol import EvalOptions, evaluate_run
    from text3d.eval.report import write_reports

    client, job_id, _ = finished
    run = client.app.state.store.get(job_id).run.root
    write_reports(evaluate_run(run, run, options=EvalOptions(clip_views="canonical4")), run)  # the CLI's steps
    gallery = client.get(f"/v1/jobs/{job_id}/gallery").json()
    assert gallery["evaluated"] is True and gallery["metric_names"]["clip_user"]
    rows = {row["prompt"]: row for row in csv.DictReader((run / "per_item.csv").open(encoding="utf-8"))}
    for item in gallery["items"]:
        assert item["metrics"]["clip_user"] == pytest.approx(float(rows[item["prompt"]]["clip_user"]))
        assert "faces" in item["metrics"]
    report = client.get(f"/v1/jobs/{job_id}/report")
    assert report.json() == json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    page = client.get(f"/v1/jobs/{job_id}/report.html")
    assert page.status_code == 200 and page.text == (run / "report.html").read_text(encoding="utf-8")
    assert "script-src" not in page.headers["content-security-policy"]
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


@pytest.mark.parametrize("job_id", ["..%2f..%2fjobs", "..", "%2e%2e", "0" * 31 + "g", "a" * 33, "%00", "é"])
@pytest.mark.parametrize("what", ["gallery", "report", "report.html"])
def test_bad_job_ids_are_a_404_with_one_line(finished, job_id, what):
    client = finished[0]
    answer = client.get(f"/v1/jobs/{job_id}/{what}")
    assert answer.status_code == 404 and "\n" not in answer.json()["detail"]


def test_report_files_are_only_the_evaluation_s_fixed_names(finished):
    client, job_id, _ = finished
    job = client.app.state.store.get(job_id)
    for name in ("../job.json", "run.yaml", "manifest.jsonl", "/etc/passwd", "report.md"):
        with pytest.raises(JobNotFound):
            report_file(job, name)


def test_prompt_kind_recovers_the_kind_toyworld_wrote():
    """On development-range instances, each kind's prompt is read back as that kind (≥ 90%;
    791 of 800 on test-range instances)."""
    for kind in KINDS:
        prompts = [make_instance(*item_spec(i, DEV_SEEDS.start), kind=kind).prompts[kind] for i in range(45)]
        agree = sum(prompt_kind(p) == kind for p in prompts)
        assert agree >= 0.9 * len(prompts), (kind, agree, [p for p in prompts if prompt_kind(p) != kind])
