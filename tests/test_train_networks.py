"""The policy networks' fast paths: channels-last weights and the bf16 rollout copy."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from racer.train.networks import (
    BlockMean,
    CombinedExtractor,
    DeepRacerCNN,
    exact_inference,
    set_rollout_bf16,
)

IMAGE = gym.spaces.Box(0, 255, (1, 120, 160), np.uint8)


def _frames(n: int = 4) -> torch.Tensor:
    return torch.rand(n, 1, 120, 160, generator=torch.Generator().manual_seed(3))


def _orthogonal(module: torch.nn.Module) -> None:
    """SB3's initialisation, which needs plain contiguous weights."""
    for layer in module.modules():
        if isinstance(layer, torch.nn.Conv2d | torch.nn.Linear):
            torch.nn.init.orthogonal_(layer.weight, gain=2**0.5)


def test_channels_last_happens_on_first_forward_and_keeps_values() -> None:
    net = DeepRacerCNN(IMAGE, precision="fp32")
    _orthogonal(net)  # must still work: weights are converted lazily
    reference = torch.nn.Sequential(net.convs, net.dense)
    keys = list(net.state_dict())
    x = _frames()
    with torch.no_grad():
        plain = reference(x).clone()
        fast = net(x)
    conv = net.convs[0]
    assert isinstance(conv, torch.nn.Conv2d)
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert torch.allclose(fast, plain, atol=1e-5)
    assert list(net.state_dict()) == keys


def test_rollout_copy_runs_bf16_and_follows_the_weights() -> None:
    net = DeepRacerCNN(IMAGE, precision="bf16")
    x = _frames()
    with torch.no_grad():
        exact = net(x).clone()
        set_rollout_bf16(net, True)
        rollout = net(x)
    assert list(net.state_dict()) == [
        f"{part}.{i}.{w}" for part, i in [("convs", 0), ("convs", 2), ("convs", 4), ("dense", 0)]
        for w in ("weight", "bias")
    ]  # fmt: skip
    assert not torch.equal(rollout, exact)  # really a different (bf16) computation
    assert torch.allclose(rollout, exact, rtol=0.05, atol=0.05)

    with torch.no_grad(), exact_inference(net):
        assert torch.equal(net(x), exact)

    # The update changes the float32 weights; the next rollout's copy follows them.
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(0.5)
        stale = net(x).clone()
        set_rollout_bf16(net, True)
        fresh = net(x)
    assert not torch.allclose(fresh, stale, atol=1e-3)

    set_rollout_bf16(net, False)
    with torch.no_grad():
        halved = net(x)
    assert halved.dtype == torch.float32
    assert torch.allclose(fresh, halved, rtol=0.05, atol=0.05)


def test_gradients_never_use_the_rollout_copy() -> None:
    net = DeepRacerCNN(IMAGE, precision="bf16")
    set_rollout_bf16(net, True)
    net(_frames()).sum().backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_fp32_extractors_are_left_alone() -> None:
    net = DeepRacerCNN(IMAGE, precision="fp32")
    x = _frames()
    with torch.no_grad():
        before = net(x).clone()
        set_rollout_bf16(net, True)
        assert torch.equal(net(x), before)


def test_combined_extractor_rollout_copy() -> None:
    space = gym.spaces.Dict({"camera": IMAGE, "lidar": gym.spaces.Box(0.0, 1.0, (64,), np.float32)})
    net = CombinedExtractor(space, precision="bf16")
    obs = {"camera": _frames(2), "lidar": torch.rand(2, 64)}
    with torch.no_grad():
        exact = net(obs).clone()
        set_rollout_bf16(net, True)
        rollout = net(obs)
    assert rollout.dtype == torch.float32 and rollout.shape == exact.shape
    assert torch.allclose(rollout, exact, rtol=0.05, atol=0.05)


@pytest.mark.parametrize("enabled", [True, False])
def test_switching_twice_is_harmless(enabled: bool) -> None:
    net = DeepRacerCNN(IMAGE, precision="bf16")
    set_rollout_bf16(net, enabled)
    set_rollout_bf16(net, enabled)
    with torch.no_grad():
        assert torch.isfinite(net(_frames(1))).all()


def test_image_pooling_averages_2x2_blocks_before_the_same_convs() -> None:
    plain = DeepRacerCNN(IMAGE, precision="fp32")
    pooled = DeepRacerCNN(IMAGE, precision="fp32", pooling=2)
    assert isinstance(pooled.convs[0], torch.nn.AvgPool2d)
    # 80x60 after pooling: conv3 leaves 64 x 4 x 6 features for the dense layer, not 64 x 11 x 16
    assert pooled.dense[0].in_features == 64 * 4 * 6
    assert plain.dense[0].in_features == 64 * 11 * 16
    x = _frames()
    small = torch.nn.functional.avg_pool2d(x, 2)
    # the same weights on a pre-shrunk 80x60 image give the same features
    twin = DeepRacerCNN(gym.spaces.Box(0, 255, (1, 60, 80), np.uint8), precision="fp32")
    shift = {"convs.1.": "convs.0.", "convs.3.": "convs.2.", "convs.5.": "convs.4."}
    state = {shift.get(k[:8], k[:8]) + k[8:]: v for k, v in pooled.state_dict().items()}
    twin.load_state_dict(state)
    with torch.no_grad():
        assert torch.allclose(pooled(x), twin(small), atol=1e-5)


def test_image_pooling_must_be_1_or_2() -> None:
    with pytest.raises(ValueError, match="image pooling must be one of"):
        DeepRacerCNN(IMAGE, pooling=3)


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("shape", [(4, 1, 120, 160), (2, 3, 61, 81)])
def test_block_mean_gives_avg_pool2d_bit_for_bit(k: int, shape: tuple[int, ...]) -> None:
    x = torch.rand(shape, generator=torch.Generator().manual_seed(k))
    fast = BlockMean(k)(x)
    assert torch.equal(fast, torch.nn.functional.avg_pool2d(x, k))
    assert fast.data_ptr() != x.data_ptr()  # the input is left as it was
