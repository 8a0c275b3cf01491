"""The PETA student on a tiny random backbone: trainable sets and counts of the three adaptation
modes, the cross-plane adapter's wiring, K-step sampling and the student folder."""

from __future__ import annotations

import pytest
import torch

from text3d.errors import InputError
from text3d.nn.mvdiffusion import MultiViewDiT, MVDiffusionConfig
from text3d.nn.peta import CrossPlaneAdapter, LoRALinear, PETAConfig
from text3d.triplane.student import StudentConfig, TriplaneStudent

W, DEPTH, P, S, C, R_LORA, R_CROSS = 16, 2, 4, 8, 4, 2, 3


@pytest.fixture(scope="module")
def backbone() -> MultiViewDiT:
    torch.manual_seed(0)
    return MultiViewDiT(MVDiffusionConfig(image_size=S, patch_size=P, width=W, depth=DEPTH, heads=2))


def student(backbone: MultiViewDiT, mode: str = "peta", steps: int = 4) -> TriplaneStudent:
    torch.manual_seed(1)
    return TriplaneStudent(backbone, StudentConfig(adaptation=mode, steps=steps, plane_channels=C, texture_channels=2,
                                                   lora_rank=R_LORA, cross_rank=R_CROSS, hidden=8, layers=1))


def expected_trainable(mode: str, field_params: int) -> int:
    """Adapter parameters counted by hand from the layer shapes."""
    head = (C * P * P * W + W) + (W * C * P * P + C * P * P)  # plane_in, plane_out
    # per Attention: q (W→W), kv (W→2W), out (W→W): rank × (in + out) each; self- and cross-attention
    lora = DEPTH * 2 * R_LORA * ((W + W) + (W + 2 * W) + (W + W))
    cross = DEPTH * (2 * W + (W * R_CROSS + R_CROSS) + (2 * R_CROSS * W + W))  # norm, down, up
    if mode == "lora":
        return head + lora + field_params
    if mode == "peta":
        return head + lora + 3 * W + cross + field_params
    raise ValueError(mode)


@pytest.mark.parametrize("mode", ["peta", "lora"])
def test_trainable_count_and_fraction_match_the_adapter_shapes(backbone, mode):
    s = student(backbone, mode)
    field_params = sum(p.numel() for p in s.field.parameters())
    report = s.parameter_report()
    base = sum(p.numel() for p in backbone.parameters())
    assert report["trainable"] == expected_trainable(mode, field_params)
    assert report["frozen"] == base == report["backbone"]
    assert report["total"] == base + report["trainable"]
    assert report["trainable_fraction"] == pytest.approx(report["trainable"] / (base + report["trainable"]))
    assert report["trainable_per_backbone"] == pytest.approx(report["trainable"] / base)
    assert report["paper_trainable_fraction"] == 0.025


def test_modes_train_the_expected_parameter_sets(backbone):
    names = {mode: {n for n, p in student(backbone, mode).named_parameters() if p.requires_grad}
             for mode in ("peta", "lora", "full")}
    lora = {n for n in names["lora"] if n.endswith((".down", ".up"))}  # LoRALinear's A and B
    assert len(lora) == 2 * DEPTH * 2 * 3  # A, B × blocks × (self, cross) × (q, kv, out)
    assert lora and all(".base." not in n for n in names["lora"] | names["peta"])  # frozen bases
    assert names["lora"] == lora | {n for n in names["lora"] if n.startswith(("field.", "backbone.plane_"))}
    assert names["peta"] - names["lora"] == {n for n in names["peta"]
                                             if n.startswith(("backbone.cross.", "backbone.plane_embed"))}
    assert not any(n.startswith("backbone.cross.") or "plane_embed" in n for n in names["lora"])
    full = student(backbone, "full")
    assert all(p.requires_grad for p in full.parameters())
    assert not any(isinstance(m, LoRALinear) for m in full.modules())
    # the trunk's own weights are trainable only in full tuning
    assert "backbone.trunk.blocks.0.mlp.fc1.weight" in names["full"]
    assert "backbone.trunk.blocks.0.mlp.fc1.weight" not in names["peta"] | names["lora"]
    with pytest.raises(InputError, match="adaptation mode"):
        PETAConfig(mode="adapters")


def test_a_fresh_student_emits_zero_planes_and_lora_starts_as_its_base(backbone):
    s = student(backbone)
    planes = s.sample(torch.randn(2, 3, 384), torch.ones(2, 3, dtype=torch.bool), generator=torch.Generator())
    assert torch.equal(planes, torch.zeros_like(planes))  # zero plane head: the decoder's prior sphere
    layer = LoRALinear(torch.nn.Linear(5, 4), rank=2, alpha=2.0)
    x = torch.randn(3, 5)
    assert torch.equal(layer(x), layer.base(x))
    with torch.no_grad():
        layer.up.normal_()
    assert not torch.allclose(layer(x), layer.base(x))


def test_cross_plane_adapter_reads_the_lines_that_share_a_world_axis():
    torch.manual_seed(0)
    g, w = 4, 8
    adapter = CrossPlaneAdapter(w, 3)
    with torch.no_grad():
        adapter.up.weight.normal_()
    h = torch.randn(1, 3 * g * g, w)
    bumped = h.clone().view(1, 3, g, g, w)
    z0, x0 = 1, 2
    bumped[0, 1, z0, x0] += 5.0 * torch.randn(w)  # one XZ token: world x = column 2, z = row 1
    change = (adapter(bumped.view(h.shape), g) - adapter(h, g)).view(3, g, g, w).abs().sum(-1) > 1e-6
    assert change[0, :, x0].all() and change[0].sum() == g  # XY (row y, column x): the column x = x0
    assert not change[1].any()  # a plane does not read itself
    assert change[2, z0, :].all() and change[2].sum() == g  # YZ (row z, column y): the row z = z0


@pytest.mark.parametrize("k", [1, 2, 4])
def test_k_step_sampling_calls_the_backbone_k_times_with_rising_flow_times(backbone, k):
    s = student(backbone, steps=k)
    with torch.no_grad():
        s.backbone.plane_out.weight.normal_(std=0.1)
    times: list[float] = []
    hook = s.backbone.register_forward_hook(lambda module, args, out: times.append(float(args[1][0])))
    states, mask = torch.randn(3, 4, 384), torch.ones(3, 4, dtype=torch.bool)
    planes = s.sample(states, mask, generator=torch.Generator().manual_seed(0))
    hook.remove()
    assert planes.shape == (3, 3, C, S, S) and torch.isfinite(planes).all()
    assert times == [i / k for i in range(k)]
    again = s.sample(states, mask, generator=torch.Generator().manual_seed(0))
    assert torch.equal(planes, again)
    with pytest.raises(InputError, match="K must be"):
        StudentConfig(steps=5)


def test_student_folder_round_trip(backbone, tmp_path):
    s = student(backbone, "lora", steps=2)
    with torch.no_grad():
        s.backbone.plane_out.weight.normal_(std=0.1)
    s.save(tmp_path / "student")
    loaded = TriplaneStudent.load(tmp_path / "student")
    states, mask = torch.randn(1, 4, 384), torch.ones(1, 4, dtype=torch.bool)
    a = s.sample(states, mask, generator=torch.Generator().manual_seed(3))
    b = loaded.sample(states, mask, generator=torch.Generator().manual_seed(3))
    assert loaded.config == s.config and torch.allclose(a, b)
    with pytest.raises(InputError, match="no config.json"):
        TriplaneStudent.load(tmp_path / "missing")


def test_weights_float16_holds_exactly_are_stored_as_float16_and_load_unchanged(backbone, tmp_path):
    from safetensors.torch import load_file

    s = student(backbone, "peta")
    with torch.no_grad():  # the frozen trunk as loaded from a float16 teacher; an adapter in full float32
        for p in s.backbone.trunk.parameters():
            p.copy_(p.half().float())
        s.backbone.plane_out.weight.normal_(std=0.1)
    s.save(tmp_path / "student")
    stored = load_file(str(tmp_path / "student" / "model.safetensors"))
    trunk = [k for k in stored if k.startswith("backbone.trunk.") and "lora" not in k and "cross" not in k]
    assert trunk and all(stored[k].dtype == torch.float16 for k in trunk)
    assert stored["backbone.plane_out.weight"].dtype == torch.float32
    loaded = TriplaneStudent.load(tmp_path / "student")
    for name, value in s.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], value), name
